"""The byte rate a track plays at, and the per-process tally of plays in progress."""

from __future__ import annotations

import pytest

from fwload.fixtures.audio import describe, render_track
from fwload.playback.clock import PlaybackClock
from fwload.playback.rate import byte_rate, header_rate
from fwload.playback.tally import Tally


def test_funkwhale_bitrate_wins_when_it_agrees_with_the_rounded_duration():
    # sample 34: 81,223 bytes, duration 5 (whole seconds), bitrate 128000: 5.08 s at 16,000 B/s
    assert byte_rate(81223, 5, 128000) == 16000


def test_a_nominal_bitrate_that_disagrees_with_the_duration_gives_way_to_size_over_duration():
    # a VBR Ogg: nominal 128 kbit/s would make 60,000 bytes last 3.75 s, not the 6 s it does
    assert byte_rate(60000, 6, 128000) == 10000


@pytest.mark.parametrize("size, duration, bitrate, rate", [
    (None, None, 320000, 40000), (80000, 5, None, 16000), (None, 5, None, None), (None, None, None, None),
])
def test_what_is_known_gives_the_rate(size, duration, bitrate, rate):
    assert byte_rate(size, duration, bitrate) == rate


@pytest.mark.parametrize("fmt", ["mp3", "flac"])
def test_the_file_header_tells_the_rate_when_the_server_does_not(fmt):
    data = render_track(fmt, title="t", artist="a", album="b", track_number=1, seconds=6.0, seed=3)
    true_rate = len(data) / describe(data, fmt).duration
    assert header_rate(data[:32768], len(data)) == pytest.approx(true_rate, rel=0.03)


def test_bytes_that_are_not_audio_tell_no_rate():
    assert header_rate(b"<html>not audio</html>" * 100, 2200) is None


def test_the_tally_sums_plays_done_and_in_progress_up_to_now():
    tally = Tally()
    done = PlaybackClock(0.0, 1000.0, 100, size=2000)
    tally.begin(done)
    done.arrive(0.5, 2000)
    tally.end(done, done.finish(2.5))
    going = PlaybackClock(10.0, 1000.0, 100, size=5000)
    tally.begin(going)
    going.arrive(10.5, 1000)
    first = tally.snapshot(12.0, ts=1e9)
    assert (first.plays, first.playing, first.stalled) == (2, 1, 1)
    assert first.played_s == pytest.approx(2.0 + 1.0) and first.stall_s == pytest.approx(0.5)
    going.arrive(13.0, 5000)
    second = tally.snapshot(14.0, ts=1e9 + 2)
    assert second.stall_s - first.stall_s == pytest.approx(1.0), "the stall ended at 13.0"
    assert second.played_s - first.played_s == pytest.approx(1.0)
    assert second.stalled == 0
