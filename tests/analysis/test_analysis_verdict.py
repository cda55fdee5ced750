"""Every check of the known run: observed values equal numpy's view of the rows written, thresholds,
sample counts and verdicts; and the exit code's precedence."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from known_runs import SAMPLE_TIMES, T0, api_memory, standard_run
from run_builders import DEFAULT_SCENARIO, MI

from analysis.analyse import analyse_run
from analysis.completeness import TableRead, incompleteness
from analysis.outputs import build_outputs
from analysis.verdict import Check, exit_status
from fwload.limits import documented_limits
from fwload.status import ExitStatus


def exact(values, q):
    return float(np.percentile(np.asarray(values, dtype=float), q, method="inverted_cdf"))


def by_name(analysis):
    return {check.name: check for check in analysis.checks}


def test_latency_checks_are_the_exact_percentiles_of_the_timed_rows(known):
    truth, analysis = known
    checks = by_name(analysis)
    for q, threshold, passed in ((50, 600, False), (95, 1000, False), (99, 2000, False)):
        check = checks[f"latency p{q} [browse]"]
        assert check.observed == exact(truth.browse, q)
        assert (check.threshold, check.unit, check.samples, check.passed) == (threshold, "ms", 300, passed)
    listen = checks["latency p95 [listen]"]
    assert listen.observed == exact(truth.listen_timed, 95) == 250.0
    assert listen.samples == len(truth.listen_timed) == 155
    assert listen.passed is True


def test_error_ratio_leaves_throttled_requests_out_of_both_sides(known):
    truth, analysis = known
    check = by_name(analysis)["error ratio"]
    counted = truth.requests - truth.throttled
    assert check.samples == counted
    assert check.observed == pytest.approx(truth.failed / counted)
    assert check.threshold == 0.01 and check.passed is False
    assert "timeout 2" in check.detail and "proxy 3" in check.detail and "connection 1" in check.detail


def test_import_and_stream_checks(known):
    truth, analysis = known
    checks = by_name(analysis)
    imports, ttfb = checks["import wait p95"], checks["stream ttfb p95"]
    assert (imports.observed, imports.samples) == (exact(truth.import_waits, 95), len(truth.import_waits))
    assert imports.threshold == 30000 and imports.passed is True
    assert (ttfb.observed, ttfb.samples) == (exact(truth.ttfb, 95), len(truth.ttfb))
    assert analysis.imports.outcomes == {
        "finished": 27,
        "skipped": 0,
        "errored": 1,
        "timeout": 1,
        "failed": 1,
        "unfinished": 0,
        "rejected": 0,
    }


def test_resource_checks_against_the_documented_limits(known):
    truth, analysis = known
    checks = by_name(analysis)
    limit = documented_limits()["api"]
    memory = checks["memory peak [api]"]
    assert memory.observed == pytest.approx(100 * max(truth.api_memory) / limit.memory_limit_bytes)
    assert memory.observed == pytest.approx(109.375)
    assert (memory.samples, memory.passed, memory.unit) == (len(SAMPLE_TIMES), False, "%")
    cpu = checks["cpu p95 [api]"]
    assert cpu.observed == pytest.approx(100 * exact(truth.api_cpu_load, 95) / limit.cpu_limit_m)
    assert (cpu.samples, cpu.passed) == (len(truth.api_cpu_load), True)
    oom = checks["oom kills [api]"]
    assert (oom.observed, oom.threshold, oom.passed) == (1, 0, False)
    assert checks["restarts [api]"].passed is True
    assert checks["memory peak [nginx]"].observed == pytest.approx(100 * 10 * MI / (256 * MI))


def test_cpu_throttling_counts_only_the_load_window(known):
    _, analysis = known
    api = analysis.resources.summary.loc["api"]
    assert api["periods"] == 13 * 150
    assert api["throttled_periods"] == 4 * 15 + 5 * 90
    assert api["throttled_pct"] == pytest.approx(100 * (4 * 15 + 5 * 90) / (13 * 150))


def test_oom_kill_is_tied_to_the_stage_it_happened_in(known):
    _, analysis = known
    incidents = analysis.resources.incidents
    oom = incidents.loc[incidents["kind"] == "oom_kill"].iloc[0]
    assert (oom["component"], oom["stage"], oom["count"], oom["source"]) == ("api", 2, 1, "event")
    assert analysis.timeline.stage_label(int(oom["stage"])) == "3. step 3"
    assert analysis.resources.by_stage.loc[(2, "api"), "oom_kills"] == 1
    assert analysis.resources.by_stage.loc[(1, "api"), "oom_kills"] == 0


def test_counters_count_oom_kills_when_no_event_was_written(tmp_path):
    truth = standard_run(tmp_path / "run")
    events = [
        line
        for line in (truth.path / "events.jsonl").read_text().splitlines()
        if '"oom_kill"' not in line and '"respawn"' not in line
    ]
    (truth.path / "events.jsonl").write_text("\n".join(events) + "\n")
    analysis = analyse_run(truth.path)
    oom = analysis.resources.incidents.loc[lambda frame: frame["kind"] == "oom_kill"]
    assert list(oom["source"]) == ["counter"]
    assert list(oom["ts"]) == [T0 + 150]
    assert by_name(analysis)["oom kills [api]"].observed == 1


def test_broken_slo_and_resource_exit_1_by_precedence(known):
    _, analysis = known
    assert {c.kind for c in analysis.checks if c.passed is False} == {"slo", "resource"}
    assert analysis.status == ExitStatus.SLO_BROKEN


def test_only_resources_broken_exits_3(tmp_path):
    analysis = analyse_run(
        standard_run(tmp_path / "run", slow_step3=False, throttle_burst=False, scenario=_relaxed_slos()).path
    )
    assert {c.kind for c in analysis.checks if c.passed is False} == {"resource"}
    assert analysis.status == ExitStatus.RESOURCE_BROKEN


def test_all_passing_exits_0(tmp_path):
    scenario = _relaxed_slos()
    scenario["resources"] = {"memory_peak_pct": 100, "max_oom_kills": 0, "components": ["nginx", "postgres"]}
    analysis = analyse_run(standard_run(tmp_path / "run", scenario=scenario, oom_in_step3=False).path)
    assert all(check.passed for check in analysis.checks), [c for c in analysis.checks if not c.passed]
    assert {check.name.split("[")[-1] for check in analysis.checks if check.kind == "resource"} == {
        "nginx]",
        "postgres]",
    }
    assert analysis.status == ExitStatus.SUCCESS


def test_component_dead_before_the_load_exits_4_and_is_reported_first(tmp_path):
    truth = standard_run(tmp_path / "run", dead_before_load="celery-worker")
    outputs = build_outputs(truth.path, ["json", "markdown"])
    assert outputs.status == ExitStatus.NOT_READY
    startup = [c for c in outputs.analysis.checks if c.kind == "startup"]
    assert [c.name for c in startup] == ["target ready", "alive before the load [celery-worker]"]
    assert startup[1].passed is False and "OOM-killed" in startup[1].detail
    summary = (truth.path / "summary.md").read_text()
    assert summary.index("Start-up (before the load)") < summary.index("### Checks")
    assert "oom kill before the load [celery-worker]" in summary
    verdict = json.loads((truth.path / "verdict.json").read_text())
    assert verdict["exit_code"] == 4 and verdict["status"] == "not_ready"


def test_target_never_ready_exits_4(tmp_path):
    analysis = analyse_run(standard_run(tmp_path / "run", ready=False).path)
    ready = by_name(analysis)["target ready"]
    assert ready.passed is False and "never became ready within 60 s" in ready.detail
    assert analysis.status == ExitStatus.NOT_READY


@pytest.mark.parametrize(
    "kinds, status",
    [
        ((), ExitStatus.SUCCESS),
        (("resource",), ExitStatus.RESOURCE_BROKEN),
        (("slo", "resource"), ExitStatus.SLO_BROKEN),
        (("startup", "resource"), ExitStatus.NOT_READY),
        (("startup", "slo"), ExitStatus.NOT_READY),
        (("complete", "slo", "resource"), ExitStatus.INCOMPLETE),
        (("startup", "complete"), ExitStatus.NOT_READY),
        (("refused", "startup", "complete"), ExitStatus.USAGE_ERROR),
    ],
)
def test_exit_status_precedence(kinds, status):
    checks = [Check(f"c{i}", kind, 1, 0, "", 1, False) for i, kind in enumerate(kinds)]
    checks.append(Check("unknown", "resource", None, 1, "", 0, None))
    assert exit_status(checks) == status


def test_throttling_is_a_notice_with_advice_never_slowness(known):
    truth, analysis = known
    notice = next(n for n in analysis.notices if n.kind == "throttling")
    assert (
        f"{truth.throttled} of {truth.requests} requests were throttled (auth {truth.throttled})"
        in notice.message
    )
    assert "Retry-After up to 30 s" in notice.message and "scopes: login" in notice.message
    assert "THROTTLING_ENABLED=false" in notice.advice and "THROTTLING_RATES" in notice.advice
    assert analysis.requests.by_group.loc["auth", "samples"] == 0
    assert analysis.requests.by_group.loc["auth", "failed"] == 0


def test_an_slo_group_never_exercised_fails(tmp_path):
    scenario = _relaxed_slos()
    scenario["slos"]["groups"]["search"] = {"p95": "1s"}
    check = by_name(analyse_run(standard_run(tmp_path / "run", scenario=scenario).path))[
        "latency p95 [search]"
    ]
    assert (check.observed, check.samples, check.passed) == (None, 0, False)
    assert "never exercised" in check.detail


def test_per_window_slo_judges_the_worst_window_with_enough_samples(tmp_path):
    scenario = _relaxed_slos()
    scenario["slos"]["window"] = "60s"
    scenario["slos"]["groups"]["browse"] = {"p95": "2s"}
    truth = standard_run(tmp_path / "run", scenario=scenario)
    check = by_name(analyse_run(truth.path))["latency p95 [browse] per 60s window"]
    assert check.observed == exact(truth.stage_browse[2], 95)
    assert check.samples == 100 and check.passed is False
    assert "+120s" in check.detail


def test_components_without_a_limit_are_not_evaluated(tmp_path):
    truth = standard_run(tmp_path / "run")
    truth.builder.resource(T0, "sidecar", 50, 50 * MI, pod="pid-1", source="processes", node="", phase="").write()
    analysis = analyse_run(truth.path)
    check = by_name(analysis)["memory peak [sidecar]"]
    assert check.passed is None and "no documented memory limit" in check.detail


def test_the_embedded_stand_in_is_judged_against_the_api_limit(tmp_path):
    truth = standard_run(tmp_path / "run")
    truth.builder.resource(T0, "standin", 50, 150 * MI, pod="pid-1", source="processes", node="", phase="").write()
    analysis = analyse_run(truth.path)
    check = by_name(analysis)["memory peak [standin]"]
    assert check.passed is False and check.threshold == 100.0
    assert check.observed == pytest.approx(150 / 128 * 100)
    assert any(notice.kind == "stand-in" and "api" in notice.message for notice in analysis.notices)


def test_live_limits_mode_uses_the_pod_spec_values(tmp_path):
    scenario = _relaxed_slos()
    scenario["resources"] = {"limits": "live"}
    truth = standard_run(tmp_path / "run", scenario=scenario)
    check = by_name(analyse_run(truth.path))["memory peak [api]"]
    assert check.observed == pytest.approx(100 * api_memory(T0 + 150) / (128 * MI))
    assert "live pod spec limit" in check.detail


def _relaxed_slos():
    scenario = json.loads(json.dumps(DEFAULT_SCENARIO))
    scenario["slos"] = {
        "groups": {"browse": {"p95": "5s"}, "listen": {"p95": "1s"}},
        "error_ratio": 0.05,
        "import_wait_p95": "2m",
        "stream_ttfb_p95": "10s",
    }
    return scenario


def test_an_abort_rule_that_fired_breaks_the_run_as_an_slo(tmp_path):
    truth = standard_run(tmp_path / "run", scenario=_relaxed_slos(), oom_in_step3=False)
    with (truth.path / "events.jsonl").open("a") as handle:
        handle.write(
            json.dumps(
                {
                    "ts": T0 + 170,
                    "type": "abort",
                    "rule": "error_ratio above 0.2 for 30s",
                    "observed": 0.35,
                    "detail": "stopped at step 3",
                }
            )
            + "\n"
        )
    analysis = analyse_run(truth.path)
    check = by_name(analysis)["no abort rule fired"]
    assert (check.kind, check.observed, check.passed) == ("slo", 0.35, False)
    assert "error_ratio above 0.2 for 30s stopped the run" in check.detail
    assert analysis.status == ExitStatus.SLO_BROKEN
    assert [notice.kind for notice in analysis.notices if notice.kind == "abort"] == ["abort"]


def _passing_scenario():
    scenario = _relaxed_slos()
    scenario["resources"] = {"memory_peak_pct": 100, "max_oom_kills": 0, "components": ["nginx", "postgres"]}
    return scenario


@pytest.mark.parametrize("status", ["running", "interrupted", "crashed"])
def test_a_run_that_did_not_reach_its_end_is_incomplete_exit_5_with_its_checks_still_shown(tmp_path, status):
    truth = standard_run(tmp_path / "run", scenario=_passing_scenario(), oom_in_step3=False, status=status)
    analysis = analyse_run(truth.path)
    assert analysis.status == ExitStatus.INCOMPLETE
    complete = by_name(analysis)["run complete"]
    assert complete.kind == "complete" and complete.passed is False
    assert all(check.passed for check in analysis.checks if check.kind != "complete"), "what was measured passed"
    assert analysis.requests.overall["requests"].sum() == truth.requests


def test_a_complete_run_whose_counts_differ_from_its_rows_is_incomplete(tmp_path):
    truth = standard_run(tmp_path / "run", scenario=_passing_scenario(), oom_in_step3=False)
    meta = json.loads((truth.path / "run.json").read_text())
    meta["counts"]["requests"] += 7
    (truth.path / "run.json").write_text(json.dumps(meta))
    analysis = analyse_run(truth.path)
    assert analysis.status == ExitStatus.INCOMPLETE
    assert f"requests holds {truth.requests} rows but run.json counts {truth.requests + 7}" in \
        by_name(analysis)["run complete"].detail


def test_fwload_report_on_a_torn_requests_file_exits_5_and_still_shows_the_measurements(tmp_path):
    truth = standard_run(tmp_path / "run", scenario=_passing_scenario(), oom_in_step3=False)
    truth.builder.write(layout="csv")
    text = (truth.path / "requests.csv").read_bytes()
    (truth.path / "requests.csv").write_bytes(text[:-25])
    done = subprocess.run([sys.executable, "-m", "fwload", "report", str(truth.path)], capture_output=True,
                          text=True, timeout=180, check=False)
    assert done.returncode == 5, done.stderr[-2000:]
    shown = " ".join(done.stderr.split())
    assert "INCOMPLETE" in shown and "cut off mid-write" in shown and "requests: browse" in shown
    verdict = json.loads((truth.path / "verdict.json").read_text())
    assert (verdict["status"], verdict["exit_code"]) == ("incomplete", 5)
    assert "⚠️ fwload: incomplete run" in (truth.path / "summary.md").read_text()


def test_incompleteness_is_judged_from_what_the_loader_found_not_from_csv_details():
    meta = {"status": "complete", "counts": {"requests.csv": 10, "streams.csv": 2}}
    assert incompleteness(meta, [TableRead("requests.csv", 10), TableRead("streams.csv", 2)]) == []
    assert incompleteness(meta, [TableRead("requests.parquet", 10)]) == [], "counts keyed without a suffix too"
    assert incompleteness({**meta, "counts": {"requests": 10}}, [TableRead("requests.parquet", 9)]) == [
        "requests.parquet holds 9 rows but run.json counts 10"]
    assert incompleteness(meta, [TableRead("requests.csv", 9, torn_tail=True)]) == [
        "requests.csv: the last line was cut off mid-write and was dropped",
        "requests.csv holds 9 rows but run.json counts 10"]
    assert incompleteness({"status": "interrupted", "counts": {}}, [], interruption="stopped by Ctrl-C") == [
        "the run was interrupted before its end (stopped by Ctrl-C)"]
    assert incompleteness({"status": "running"}, []) == [
        "run.json still says 'running': the run did not end cleanly (killed or crashed)",
        "run.json has no row counts: the run never reached its end"]


def test_a_refused_run_exits_2_with_the_refusal_not_as_a_dead_component(tmp_path):
    truth = standard_run(tmp_path / "run", scenario=_passing_scenario(), oom_in_step3=False, status="refused")
    meta = json.loads((truth.path / "run.json").read_text())
    meta.update(exit_code=2, refusal={"problem": "wrong credentials: account 'a' refused (HTTP 401)",
                                      "fix": "fix the users file"})
    (truth.path / "run.json").write_text(json.dumps(meta))
    analysis = analyse_run(truth.path)
    assert analysis.status == ExitStatus.USAGE_ERROR
    assert by_name(analysis)["run accepted"].detail == (
        "wrong credentials: account 'a' refused (HTTP 401) (fix: fix the users file)")


def test_an_older_refused_run_recorded_as_a_startup_failure_of_fwload_exits_2(tmp_path):
    truth = standard_run(tmp_path / "run", scenario=_passing_scenario(), oom_in_step3=False, status="refused")
    with (truth.path / "events.jsonl").open("a") as events:
        events.write(json.dumps({"ts": T0 - 20, "type": "startup_failure", "component": "fwload",
                                 "detail": "registration is closed"}) + "\n")
    analysis = analyse_run(truth.path)
    assert analysis.status == ExitStatus.USAGE_ERROR
    assert by_name(analysis)["run accepted"].detail == "registration is closed"
    assert not analysis.startup.failures
