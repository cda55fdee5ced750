"""The locust-free parts of recording: error kinds, the run directory writer, live stats."""

from __future__ import annotations

import json
import random
import socket

import pytest

from fwload.errors import RunDirectoryError, UsageError
from fwload.recording import columnar, schema
from fwload.recording.classify import error_kind, short_error
from fwload.recording.live import LiveStats, LogHistogram, nearest_rank
from fwload.recording.rundir import RunDirectory


@pytest.mark.parametrize("status, exception, headers, kind", [
    (200, None, None, ""),
    (206, None, None, ""),
    (404, None, None, "http"),
    (429, None, {"Retry-After": "5"}, "throttled"),
    (500, None, {"X-RateLimit-Remaining": "0", "Retry-After": "60"}, "throttled"),
    (500, None, {}, "http"),
    (502, None, None, "proxy"),
    (504, None, None, "proxy"),
    (0, socket.timeout("timed out"), None, "timeout"),
    (0, ConnectionRefusedError("Connection refused"), None, "connection"),
    (200, ValueError("answer is not JSON"), None, "unexpected"),
])
def test_each_failure_gets_its_own_kind(status, exception, headers, kind):
    assert error_kind(status, exception, headers) == kind
    assert kind in ("", *schema.ERROR_KINDS)


def test_short_errors_never_carry_a_listen_token_or_a_subsonic_password():
    text = short_error(RuntimeError("failed GET /api/v1/listen/x/?token=SECRET123"), 0)
    assert "SECRET123" not in text and text.endswith("/api/v1/listen/x/?***")
    subsonic = short_error(RuntimeError("failed GET /rest/ping.view?u=anna&t=abc123&s=salt9 (reset)"), 0)
    assert "abc123" not in subsonic and "salt9" not in subsonic and subsonic.endswith("ping.view?*** (reset)")
    assert short_error(RuntimeError("what? nothing"), 0) == "what? nothing"


def test_run_directory_appends_rows_and_counts_them(tmp_path):
    run = RunDirectory.create(tmp_path, "smoke test", {"host": "http://127.0.0.1:1"})
    assert run.path.name.endswith("-smoke-test")
    rows = [(1.0 + i, "browse", "/api/v1/tracks/", "GET", 200, 12.5, 100, "", "", "Listener", "local")
            for i in range(3)]
    run.append_rows("requests", rows[:2])
    run.append_rows(schema.REQUESTS_CSV, rows[2:])
    run.event("stage", stage="constant", users=2)
    meta = run.finalize("complete", exit_code=0)
    table = columnar.read_table(run.path, schema.REQUESTS).data
    assert tuple(table.column_names) == schema.REQUEST_COLUMNS
    assert [tuple(row.values()) for row in table.to_pylist()] == rows
    assert meta["counts"]["requests"] == 3 and meta["status"] == "complete" and meta["format"] == "fwload-run/2"
    assert sorted(path.name for path in run.path.iterdir()) == sorted(
        ["run.json", "events.jsonl", *(table.parquet_name for name, table in schema.TABLES.items()
                                       if name not in schema.OPTIONAL_TABLES)])
    events = [json.loads(line) for line in (run.path / schema.EVENTS_JSONL).read_text().splitlines()]
    assert [e["type"] for e in events] == ["stage", "run_end"]


def test_reopened_run_directory_keeps_counting(tmp_path):
    run = RunDirectory.create(tmp_path, "x", {})
    run.append_rows("imports", [(1.0, "u", "finished", 800.0, 2, "valid", "mp3", 1000, "Uploader", "0")])
    run.close()
    again = RunDirectory.open(run.path)
    assert again.counts["imports"] == 1
    again.append_rows("imports", [(2.0, "v", "timeout", "", 9, "valid", "ogg", 2000, "Uploader", "0")])
    meta = again.finalize("complete")
    assert meta["counts"]["imports"] == 2
    assert columnar.read_table(run.path, schema.IMPORTS).data.column("upload").to_pylist() == ["u", "v"]


def test_existing_or_foreign_run_directories_are_refused(tmp_path):
    RunDirectory.create(tmp_path, "x", {}, run_id="fixed")
    with pytest.raises(UsageError, match="already exists"):
        RunDirectory.create(tmp_path, "x", {}, run_id="fixed")
    with pytest.raises(RunDirectoryError, match="not a run directory"):
        RunDirectory.open(tmp_path)


def test_nearest_rank_percentile():
    values = list(range(1, 101))
    random.shuffle(values)
    assert nearest_rank(values, 50) == 50
    assert nearest_rank(values, 95) == 95
    assert nearest_rank(values, 99.5) == 100
    assert nearest_rank([], 50) is None


def test_log_histogram_stays_within_one_percent():
    rng = random.Random(7)
    values = [rng.lognormvariate(4, 1) for _ in range(20_000)]
    hist = LogHistogram()
    for value in values:
        hist.add(value)
    for q in (50, 95, 99):
        exact = nearest_rank(values, q)
        assert abs(hist.percentile(q) - exact) / exact < 0.011


def test_live_error_ratio_excludes_throttling_and_old_rows():
    live = LiveStats(window_s=60)
    now = 1000.0
    rows = [(now - 5, "browse", "n", "GET", 200, 10.0, 1, "", "", "L", "local")] * 6
    rows += [(now - 5, "browse", "n", "GET", 500, 10.0, 1, "http", "HTTP 500", "L", "local")] * 2
    rows += [(now - 5, "browse", "n", "GET", 429, 1.0, 1, "throttled", "HTTP 429", "L", "local")] * 2
    rows += [(now - 100, "browse", "n", "GET", 500, 10.0, 1, "http", "HTTP 500", "L", "local")] * 50
    live.add_requests(rows)
    live.trim(now)
    ratio, samples = live.error_ratio(30, now=now)
    assert samples == 10 and ratio == pytest.approx(0.2)
    assert live.throttled_ratio(30, now=now)[0] == pytest.approx(0.2)
    p95, count = live.percentile(95, seconds=30, now=now)
    assert p95 == 10.0 and count == 6


def play_row(ts, startup_ms=50.0, stalls=0, stall_ms=0.0, played_s=10.0, playback="realtime", outcome="ended"):
    """A plays.csv row as the recorder hands it on (schema.PLAY_COLUMNS order, worker last)."""
    realtime = playback == "realtime"
    return (ts, 1, "web", playback, "", startup_ms, stalls if realtime else "", stall_ms if realtime else "",
            0.0 if realtime else "", played_s if realtime else "", 10.0, 160000, 1, outcome, "", "", "Listener", "0")


def test_play_rows_match_the_schema_columns():
    assert len(play_row(1.0)) == len(schema.PLAY_COLUMNS)
    assert schema.PLAY_COLUMNS[13] == "outcome" and schema.PLAY_COLUMNS[5] == "startup_ms"


def test_live_playback_figures_follow_each_process_as_it_plays():
    live = LiveStats()
    live.add_playback("0", {"played_s": 100.0, "stall_s": 1.0, "playing": 3, "stalled": 0})
    live.add_playback("1", {"played_s": 50.0, "stall_s": 0.0, "playing": 2, "stalled": 0})
    live.tick_playback(1000.0, users=5, cpu={"api": 200.0})
    live.add_playback("0", {"played_s": 130.0, "stall_s": 4.0, "playing": 3, "stalled": 1})
    live.add_playback("1", {"played_s": 70.0, "stall_s": 0.0, "playing": 2, "stalled": 0})
    live.tick_playback(1010.0, users=5)
    assert live.stall_ratio() == (pytest.approx(4.0 / 200.0), pytest.approx(200.0))
    assert live.stall_ratio(10, now=1010.0) == (pytest.approx(3.0 / 50.0), pytest.approx(50.0))
    assert live.playing_now() == (5, 1)
    live.reset()
    assert live.stall_ratio() == (None, 0.0), "after a reset, only what is played from now on counts"
    live.add_playback("0", {"played_s": 140.0, "stall_s": 4.0, "playing": 3, "stalled": 0})
    live.tick_playback(1011.0)
    assert live.stall_ratio() == (pytest.approx(0.0), pytest.approx(10.0))


def test_live_plays_give_start_up_delays_and_plays_with_a_stall():
    live = LiveStats()
    live.add_plays([play_row(900.0, 40.0), play_row(950.0, 80.0, stalls=2, stall_ms=1500.0),
                    play_row(960.0, "", outcome="failed"), play_row(970.0, 60.0, playback="download")])
    assert live.plays == {"ended": 3, "failed": 1}
    assert live.startup.count == 3 and live.startup.percentile(100) == pytest.approx(80.0, rel=0.01)
    assert live.plays_with_stall() == (pytest.approx(0.5), 2)
    share, plays = live.plays_with_stall(30, now=990.0)
    assert (share, plays) == (1.0, 1), "only the play that ended (at 961.6 s) within the last 30 s"
