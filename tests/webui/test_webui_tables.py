"""The tabs' tables from real LiveStats, resource samples and rows (no Locust, no server)."""

from __future__ import annotations

from pathlib import Path

import pytest

from fwload.collectors.base import ResourceSample
from fwload.errors import UsageError
from fwload.limits import documented_limits
from fwload.recording.live import LatestResources, LiveStats
from fwload.scenario.loader import scenario_from_data
from fwload.webui import flows, form, formatting, listeners, resources, slos, tables
from fwload.webui.flows import FlowTracker

NOW = 1_800_000_000.0
MIB = 1024 * 1024


def scenario(**slo_fields):
    raw = {"name": "t", "users": [{"class": "Listener"}], "load": {"users": 2, "duration": "30s"},
           "slos": {"groups": {"browse": {"p50": "100ms", "p95": "250ms"}}, "error_ratio": 0.1, **slo_fields}}
    return scenario_from_data(raw, source="test", base_dir=Path("."))


def request_row(ts, group="browse", ms=10.0, status=200, kind=""):
    return (ts, group, "/api/v1/tracks/", "GET", status, ms, 100, kind, "", "Listener", "0")


def by_slo(rows):
    return {row["slo"]: row for row in rows}


def test_latency_slo_is_exact_over_the_window_and_within_a_percent_over_the_run():
    live = LiveStats()
    live.add_requests([request_row(NOW - 300 + i, ms=float(i + 1)) for i in range(100)])
    live.add_requests([request_row(NOW - 30 + i / 10, ms=500.0) for i in range(20)])
    values = {v.slo: v for v in slos.slo_values(scenario(), live, NOW)}
    p95 = values["latency p95 [browse]"]
    assert p95.last_window == 500.0 and p95.window_samples == 20
    assert p95.whole_samples == 120
    assert p95.whole_run == pytest.approx(500.0, rel=0.01)
    assert p95.holds is False and p95.status() == "NO"
    p50 = values["latency p50 [browse]"]
    assert p50.whole_run == pytest.approx(60.0, rel=0.01)
    assert p50.status() == "yes, last window over"


def test_error_ratio_leaves_throttled_requests_out_of_both_sides():
    live = LiveStats()
    rows = [request_row(NOW - 5) for _ in range(7)]
    rows += [request_row(NOW - 5, status=500, kind="http")]
    rows += [request_row(NOW - 5, status=429, kind="throttled") for _ in range(2)]
    live.add_requests(rows)
    ratio = {v.slo: v for v in slos.slo_values(scenario(), live, NOW)}["error ratio"]
    assert ratio.whole_run == pytest.approx(1 / 8) and ratio.whole_samples == 8
    assert ratio.last_window == pytest.approx(1 / 8) and ratio.window_samples == 8
    assert ratio.status() == "NO"
    assert "2 throttled" in ratio.table_row()["detail"]


def test_slo_table_starts_with_the_scenario_and_keeps_its_order():
    live = LiveStats()
    live.add_imports([(NOW - 10, "u1", "finished", 1500.0, 3, "valid", "mp3", 1000, "Uploader", "0")])
    rows = slos.slo_rows(scenario(import_wait_p95="2s"), "scenarios/t.yaml", live, NOW)
    assert [row["slo"] for row in rows] == ["scenario t", "latency p50 [browse]", "latency p95 [browse]",
                                            "error ratio", "import wait p95"]
    assert sorted(rows, key=lambda row: row["name"]) == rows
    wait = by_slo(rows)["import wait p95"]
    assert wait["last_window"] == "1.5 s"
    assert float(wait["whole_run"].removesuffix(" s")) == pytest.approx(1.5, rel=0.01)
    assert by_slo(rows)["error ratio"]["holds"] == "no data yet"


def test_a_refused_test_shows_why_instead_of_slos():
    rows = slos.slo_rows(scenario(), "x.yaml", LiveStats(), NOW, refusal="x.yaml: no such scenario file")
    assert len(rows) == 1 and "no such scenario file" in rows[0]["detail"]


def test_slo_csv_keeps_raw_numbers():
    live = LiveStats()
    live.add_requests([request_row(NOW - 1, ms=42.0)])
    lines = tables.to_csv(slos.CSV_COLUMNS, [v.csv_row() for v in slos.slo_values(scenario(), live, NOW)])
    header, first, *_ = lines.splitlines()
    assert header.split(",") == list(slos.CSV_COLUMNS)
    assert first.startswith("latency p50 [browse],ms,100.0,42.0,60.0,1,")
    assert first.endswith(",1,true")


def sample(**fields):
    base = {"ts": NOW - 3, "source": "kubernetes", "component": "api", "pod": "api-1", "container": "api",
            "cpu_m": 250.0, "memory_bytes": 300 * MIB, "cpu_limit_m": 1000.0, "cpu_request_m": 500.0,
            "memory_limit_bytes": 600 * MIB, "memory_request_bytes": None, "restarts": 2, "oom_kills": 1,
            "phase": "Running", "ready": True}
    return ResourceSample(**{**base, **fields})


def test_resource_row_shows_shares_of_limit_and_request():
    (row,) = resources.resource_rows([sample()], [], since=NOW - 60, now=NOW)
    assert (row["cpu"], row["cpu_of_limit"], row["cpu_of_request"]) == ("250m", "25 %", "50 %")
    assert (row["memory"], row["memory_of_limit"], row["memory_of_request"]) == ("300.0 MiB", "50 %", "–")
    assert (row["restarts"], row["oom_kills"], row["state"], row["age"]) == ("2", "1", "Running, ready", "3 s ago")
    assert row["container"] == "api-1 / api"


def test_incidents_count_since_the_start_and_one_oom_kill_seen_by_two_sources_once():
    where = {"component": "api", "pod": "api-1", "container": "api"}
    events = [
        {"ts": NOW - 100, "type": "restart", **where},
        {"ts": NOW - 20, "type": "restart", **where, "restarts": 2},
        {"ts": NOW - 20, "type": "oom_kill", **where, "count": 1, "source": "pod_status"},
        {"ts": NOW - 19, "type": "oom_kill", **where, "count": 1, "source": "cadvisor"},
        {"ts": NOW - 10, "type": "gap", "source": "kubernetes", "detail": "timeout"},
    ]
    (row,) = resources.resource_rows([sample()], events, since=NOW - 60, now=NOW)
    assert row["incidents"] == "1 restart, 1 OOM kill"


def stream_row(start, total_ms, nbytes=1_000_000, ttfb_ms=10.0, kind=""):
    return (start, 7, 206, ttfb_ms, total_ms, nbytes, "bytes=0-", kind, "Listener", "1")


def upload_row(status=201, kind=""):
    return (NOW - 30, "upload", "/api/v1/uploads/", "POST", status, 20.0, 1000, kind, "", "Uploader", "0")


def import_row(upload, outcome="finished"):
    return (NOW - 30, upload, outcome, 2000.0, 2, "valid", "mp3", 1000, "Uploader", "0")


def test_imports_waiting_are_accepted_uploads_without_an_outcome_and_survive_a_reset():
    tracker = FlowTracker(clock=lambda: NOW)
    tracker.on_rows("requests", [upload_row(), upload_row(), upload_row(), upload_row(500, "http"),
                                 request_row(NOW - 30)])
    tracker.on_rows("imports", [import_row("u1"), import_row("", "failed")])
    assert tracker.waiting == 2
    tracker.reset_stats()
    tracker.on_rows("imports", [import_row("u2", "timeout")])
    assert tracker.waiting == 1
    tracker.new_test()
    assert tracker.waiting == 0


def test_streams_at_once_come_from_overlapping_plays():
    tracker = FlowTracker(clock=lambda: NOW - 100)
    tracker.on_rows("streams", [stream_row(NOW - 50, 4000), stream_row(NOW - 48, 4000), stream_row(NOW - 47, 1000),
                                stream_row(NOW - 30, 2000), stream_row(NOW - 29, 500, kind="timeout")])
    most, mean = tracker.at_once(NOW, 60)
    assert most == 3
    assert mean == pytest.approx((4 + 4 + 1 + 2 + 0.5) / 60)


def test_flow_rows_read_counts_from_live_stats_and_rates_from_the_tracker():
    live = LiveStats()
    tracker = FlowTracker(clock=lambda: NOW - 10)
    plays = [stream_row(NOW - 5, 1010.0, nbytes=2 * MIB), stream_row(NOW - 4, 20.0, nbytes=MIB, kind="connection")]
    live.add_streams(plays)
    tracker.on_rows("streams", plays)
    live.add_imports([import_row("u1", "skipped")])
    tracker.on_rows("imports", [import_row("u1", "skipped")])
    rows = {row["measure"]: row for row in flows.flow_rows(live, tracker, NOW, 60)}
    assert rows["imports skipped"]["whole_run"] == "1"
    assert rows["streams played"]["whole_run"] == "2"
    assert rows["stream transfer rate"]["whole_run"] == "2.00 MiB/s"
    assert rows["stream ttfb p95"]["last_window"] == "10 ms"


def test_every_table_row_has_every_column_the_page_declares():
    live = LiveStats()
    live.add_requests([request_row(NOW - 1)])
    declared = {table["key"]: [c["key"] for c in table["structure"]] for table in tables.template_args()["extended_tables"]}
    built = {
        tables.RESOURCES: resources.resource_rows([sample()], [], NOW - 60, NOW) + [resources.notice_row("x")],
        tables.SLOS: slos.slo_rows(scenario(), "t.yaml", live, NOW),
        tables.FLOWS: flows.flow_rows(live, FlowTracker(clock=lambda: NOW), NOW, 60),
        tables.LISTENERS: listeners.listener_rows(live, NOW, 60) + listeners.listener_rows(LiveStats(), NOW, 60),
    }
    assert set(declared) == set(built) == {tab["key"] for tab in tables.template_args()["extended_tabs"]}
    for key, rows in built.items():
        for row in rows:
            assert set(declared[key]) | {"name"} == set(row), key


@pytest.mark.parametrize("value, text", [(None, "–"), (4.44, "4.4 ms"), (312.4, "312 ms"), (2000.0, "2 s"),
                                         (1034.0, "1.03 s"), (125_000.0, "125 s")])
def test_durations_read_naturally(value, text):
    assert formatting.ms(value) == text


def test_the_form_overrides_only_what_was_changed_from_the_scenario_s_prefill():
    prefill = form.Prefill.of(scenario())
    assert prefill.values == {"users": 2, "spawn_rate": 1.0, "duration": 30.0}
    assert prefill.changes({"user_count": "2", "spawn_rate": "1", "run_time": "30s"}) == {}
    assert prefill.changes({"user_count": "5", "spawn_rate": "1", "run_time": ""}) == {"users": 5}
    assert prefill.changes({"user_count": "2", "spawn_rate": "0.5", "run_time": "2m"}) == {
        "spawn_rate": 0.5, "duration": 120.0}
    with pytest.raises(UsageError, match="user count 'many' is not a number"):
        prefill.changes({"user_count": "many"})


def test_a_container_without_live_limits_is_compared_with_its_documented_ones():
    documented = documented_limits()
    sample = ResourceSample(NOW - 2, "processes", "standin", "standin", "standin", cpu_m=250.0,
                            memory_bytes=64 * MIB)
    (row,) = resources.resource_rows([sample], [], NOW - 60, NOW, documented)
    api = documented["api"]
    assert row["cpu_of_limit"] == f"{250 / api.cpu_limit_m * 100:.0f} % (doc.)"
    assert row["memory_of_limit"] == f"{64 * MIB / api.memory_limit_bytes * 100:.0f} % (doc.)"
    live = ResourceSample(NOW - 2, "kubernetes", "api", "api-0", "api", cpu_m=250.0, cpu_limit_m=1000.0)
    assert resources.resource_rows([live], [], NOW - 60, NOW, documented)[0]["cpu_of_limit"] == "25 %"


def test_the_resource_history_sums_a_component_s_containers_per_tick():
    latest = LatestResources()
    for tick in range(3):
        latest.update([ResourceSample(NOW + tick, "kubernetes", "api", f"api-{n}", "api", cpu_m=100.0 + tick,
                                      memory_bytes=MIB, cpu_limit_m=500.0, memory_limit_bytes=None)
                       for n in range(2)])
    (chart,) = resources.history(latest.history, latest.latest(), NOW + 1, documented_limits())
    assert chart["points"] == [[NOW + 1, 202.0, 2.0 * MIB], [NOW + 2, 204.0, 2.0 * MIB]]
    assert (chart["cpu_limit_m"], chart["limits"]) == (1000.0, "live")
def test_listeners_tab_reads_stalls_over_time_next_to_users_and_cpu():
    live = LiveStats()
    for second in range(31):
        played = 3.0 * second
        stalled = 0.0 if second <= 20 else 0.3 * (second - 20)
        live.add_playback("0", {"played_s": played, "stall_s": stalled, "playing": 3, "stalled": int(second > 20)})
        live.tick_playback(NOW - 30 + second, users=4 + second // 10, cpu={"api": 100.0 + second, "nginx": 10.0})
    rows = {row["name"].split(" ", 1)[1]: row for row in listeners.listener_rows(live, NOW, 60)}
    assert rows["whole run"]["plays"] == "3 now, 1 stalled"
    assert rows["whole run"]["stall_ratio"] == "3.33 % of 90 s"
    newest, older = rows["−0…10 s"], rows["−20…30 s"]
    assert newest["stall_ratio"] == "10.00 % of 30 s" and older["stall_ratio"] == "0.00 % of 30 s"
    assert newest["users"] == "7" and newest["cpu"] == "api 126m · nginx 10m"
    assert sorted(rows.values(), key=lambda row: row["name"]) == list(rows.values())


def test_listener_slos_show_in_the_slos_tab():
    live = LiveStats()
    live.add_playback("0", {"played_s": 100.0, "stall_s": 2.0, "playing": 2, "stalled": 0})
    live.tick_playback(NOW - 1)
    rows = by_slo(slos.slo_rows(scenario(stall_ratio=0.01, plays_with_stall=0.1, startup_p95="1s"), "t.yaml",
                                live, NOW))
    assert rows["stall ratio"]["whole_run"] == "2.00 %" and rows["stall ratio"]["holds"] == "NO"
    assert rows["plays with a stall"]["holds"] == "no data yet"
    assert rows["start-up delay p95"]["threshold"] == "1 s"
