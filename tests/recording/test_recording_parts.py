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


def test_short_errors_never_carry_a_listen_token():
    text = short_error(RuntimeError("failed GET /api/v1/listen/x/?token=SECRET123"), 0)
    assert "SECRET123" not in text and "token=***" in text


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
        ["run.json", "events.jsonl", *(table.parquet_name for table in schema.TABLES.values())])
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
