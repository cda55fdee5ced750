"""Stall accounting on arrival schedules whose start-up, stalls and played time are worked out by hand.

Every schedule plays a 10 s track of 10,000 bytes (1,000 bytes a second of audio) that starts
once 200 bytes (0.2 s) are buffered ahead, unless said otherwise.
"""

from __future__ import annotations

import pytest

from fwload.playback.clock import Gap, PlaybackClock, Phase, Seek, account

RATE, SIZE, START = 1000.0, 10_000, 200


def play(arrivals, **kwargs):
    return account(arrivals, requested_at=0.0, byte_rate=RATE, start_bytes=START, size=SIZE, **kwargs)


def test_a_track_that_arrives_at_once_plays_through_without_a_stall():
    totals = play([(0.05, SIZE)])
    assert totals.startup_s == 0.05
    assert (totals.stalls, totals.stall_s, totals.seek_wait_s) == (0, 0.0, 0.0)
    assert totals.played_s == pytest.approx(10.0) and totals.ended and totals.gaps == []


def test_the_buffer_running_dry_is_one_stall_until_the_rest_arrives():
    totals = play([(0.5, 2000), (5.0, SIZE)])
    assert totals.startup_s == 0.5
    assert totals.stalls == 1 and totals.stall_s == pytest.approx(2.5)
    assert totals.gaps == [Gap("stall", pytest.approx(2.5), pytest.approx(2.5))]
    assert totals.played_s == pytest.approx(10.0) and totals.ended


def test_playback_resumes_only_once_the_start_buffer_is_back():
    # dry at 0.4; 100 bytes ahead at 1.0 is not enough, 300 at 1.05 is; dry again at 1.35; the rest at 3.0
    totals = play([(0.1, 300), (1.0, 400), (1.05, 600), (3.0, SIZE)])
    assert totals.startup_s == 0.1
    assert totals.stalls == 2
    assert [(gap.start, gap.seconds) for gap in totals.gaps] == [
        (pytest.approx(0.4), pytest.approx(0.65)), (pytest.approx(1.35), pytest.approx(1.65))]
    assert totals.stall_s == pytest.approx(2.3)
    assert totals.played_s == pytest.approx(10.0)


def test_a_download_at_half_the_bitrate_stalls_every_other_moment():
    """A 4 s file (4,000 bytes) that starts on 100 bytes, arriving 100 bytes every 0.2 s (half its
    bitrate): from 0.3 s on, 0.1 s of music and 0.1 s of silence in turn, 39 times, until the last
    bytes arrive at 8.0 s and play to 8.1 s."""
    arrivals = [(0.2 * k, 100 * k) for k in range(1, 41)]
    totals = account(arrivals, requested_at=0.0, byte_rate=RATE, start_bytes=100, size=4000)
    assert totals.startup_s == pytest.approx(0.2)
    assert totals.stalls == 39
    assert totals.stall_s == pytest.approx(3.9)
    assert totals.played_s == pytest.approx(4.0) and totals.ended
    assert totals.startup_s + totals.played_s + totals.stall_s == pytest.approx(8.1)


def test_a_listener_who_stops_early_ends_there():
    totals = play([(0.1, SIZE)], stop_at=3000)
    assert totals.ended and totals.played_s == pytest.approx(3.0) and totals.position == 3000


def test_a_seek_into_the_buffer_costs_no_wait():
    totals = play([(0.1, SIZE)], seeks=[Seek(at=2000, to=8000)])
    assert totals.played_s == pytest.approx(4.0) and totals.seek_wait_s == 0.0 and totals.stalls == 0
    assert totals.ended


def test_a_seek_outside_the_buffer_waits_for_a_new_fetch_and_ignores_the_old_one():
    clock = PlaybackClock(0.0, RATE, START, size=SIZE, seeks=[Seek(at=2000, to=8000)])
    clock.arrive(0.1, 3000)
    clock.advance(2.1)
    assert clock.phase is Phase.SEEKING and clock.fetch == 1 and clock.wanted == 8000
    clock.arrive(2.5, 5000, fetch=0)
    clock.arrive(3.0, 8100, fetch=1)
    assert clock.phase is Phase.SEEKING, "100 bytes ahead are not the 200 needed"
    clock.arrive(3.5, SIZE, fetch=1)
    assert clock.phase is Phase.PLAYING
    totals = clock.finish(10.0)
    assert totals.startup_s == 0.1 and totals.stalls == 0
    assert totals.seek_wait_s == pytest.approx(1.4) and totals.gaps == [Gap("seek", pytest.approx(2.1),
                                                                            pytest.approx(1.4))]
    assert totals.played_s == pytest.approx(4.0) and totals.ended


def test_a_play_cut_short_while_stalled_counts_its_stall_up_to_then():
    clock = PlaybackClock(0.0, RATE, START, size=SIZE)
    clock.arrive(0.1, 1000)
    totals = clock.finish(5.0)
    assert totals.stalls == 1 and totals.stall_s == pytest.approx(3.9) and not totals.ended
    assert totals.played_s == pytest.approx(1.0)


def test_a_play_that_never_got_its_start_buffer_never_started():
    clock = PlaybackClock(0.0, RATE, START, size=SIZE)
    clock.arrive(0.5, 100)
    totals = clock.finish(2.0)
    assert totals.startup_s is None and totals.stalls == 0 and totals.played_s == 0.0


def test_a_file_shorter_than_the_start_buffer_starts_when_it_is_all_there():
    totals = account([(0.3, 150)], requested_at=0.0, byte_rate=RATE, start_bytes=START, size=150)
    assert totals.startup_s == 0.3 and totals.played_s == pytest.approx(0.15) and totals.ended


def test_figures_in_progress_count_the_stall_going_on():
    clock = PlaybackClock(0.0, RATE, START, size=SIZE)
    clock.arrive(0.1, 500)
    clock.advance(2.0)
    totals = clock.totals()
    assert clock.phase is Phase.STALLED and totals.stalls == 1 and totals.stall_s == pytest.approx(1.4)
    assert clock.next_change() is None


def test_the_player_is_told_when_to_wake():
    clock = PlaybackClock(0.0, RATE, START, size=SIZE, seeks=[Seek(at=6000, to=7000)])
    clock.arrive(1.0, 5000)
    assert clock.next_change() == pytest.approx(6.0), "the buffer runs dry before the seek point"
    assert clock.when_ahead_falls_to(1000) == pytest.approx(5.0)
    assert clock.when_position(2500) == pytest.approx(3.5)
    assert clock.when_position(5500) is None, "not buffered"
    clock.arrive(1.5, SIZE)
    assert clock.next_change() == pytest.approx(7.0), "now the seek point comes first"


def test_a_byte_rate_must_be_positive():
    with pytest.raises(ValueError, match="byte_rate"):
        PlaybackClock(0.0, 0.0, START)


def test_the_stop_point_ends_playback_but_not_buffering():
    """A browser does not know its listener will skip: it buffers on, and starts on the start buffer."""
    clock = PlaybackClock(0.0, RATE, START, size=SIZE, stop_at=150)
    clock.arrive(0.1, 100)
    assert clock.phase is Phase.STARTING, "100 bytes are not the start buffer, even if the listener stops at 150"
    clock.arrive(0.2, 5000)
    assert not clock.complete()
    clock.arrive(0.3, SIZE)
    assert clock.complete()
