"""What a real Funkwhale 1.4 showed the analysis must get right (issue 15): a refused corrupt
upload is expected, not an error; checks without data are listed as not evaluated with the
reason; nothing claims "no saturation" without samples."""

from __future__ import annotations

import json
from pathlib import Path

from run_builders import DEFAULT_SCENARIO, MI, T0, RunDir

from analysis.analyse import analyse_run
from analysis.outputs import build_outputs

NO_COLLECTOR = {
    "backend": "none",
    "reason": "auto found nothing to sample: fwload did not start the target (--host) and there is no kubeconfig",
}


def _scenario(**slos) -> dict:
    scenario = json.loads(json.dumps(DEFAULT_SCENARIO))
    scenario["load"] = {"profile": "constant", "users": 4, "spawn_rate": 4, "duration": "1m"}
    scenario["slos"] = {"error_ratio": 0.01, **slos}
    return scenario


def _upload_run(path: Path, *, collector: dict | None = NO_COLLECTOR, resources: bool = False) -> RunDir:
    """40 good uploads and 10 corrupt ones refused with HTTP 500, as real 1.4 refuses them."""
    run = RunDir(path, scenario=_scenario(groups={"upload": {"p95": "1s"}}))
    run.event(T0 - 5, "run_start", users=4, workers=0)
    run.stages((T0, 4))
    for index in range(50):
        ts = T0 + 1 + index
        if index % 5 == 4:
            run.request(ts, "upload", 9000.0, status=500, error_kind="rejected", method="POST", error="HTTP 500")
            run.import_(ts, "rejected", None, upload="", fixture="corrupt")
        else:
            run.request(ts, "upload", 100.0 + index, status=201, method="POST")
            run.import_(ts, "finished", 1500.0, upload=f"u{index}")
        run.request(ts + 0.5, "browse", 50.0)
    if resources:
        for ts in (T0 + 10, T0 + 40):
            run.resource(ts, "api", 30.0, 60 * MI, limits=(10, 500, 32 * MI, 128 * MI))
    if collector is not None:
        run.meta["collector"] = collector
    run.write()
    return run


def by_name(analysis) -> dict:
    return {check.name: check for check in analysis.checks}


def test_a_refused_corrupt_upload_is_left_out_of_the_error_ratio_and_latency_and_counted_as_an_outcome(tmp_path):
    analysis = analyse_run(_upload_run(tmp_path / "run").path)
    checks = by_name(analysis)
    error_ratio = checks["error ratio"]
    assert (error_ratio.observed, error_ratio.samples, error_ratio.passed) == (0.0, 90, True)
    assert "rejected excluded" in error_ratio.detail
    upload = analysis.requests.by_group.loc["upload"]
    assert (upload["requests"], upload["rejected"], upload["failed"], upload["samples"]) == (50, 10, 0, 40)
    assert checks["latency p95 [upload]"].observed < 1000, "the refusals' 9 s are not upload latency"
    assert analysis.imports.outcomes["rejected"] == 10
    assert analysis.imports.by_fixture.loc["corrupt", "rejected"] == 10


def test_a_500_on_a_valid_upload_stays_a_server_error(tmp_path):
    run = RunDir(tmp_path / "run", scenario=_scenario())
    run.stages((T0, 4))
    run.request(T0 + 1, "upload", 100.0, status=201, method="POST")
    run.request(T0 + 2, "upload", 80.0, status=500, error_kind="http", method="POST", error="HTTP 500")
    run.import_(T0 + 2, "failed", None, upload="")
    run.write()
    check = by_name(analyse_run(run.path))["error ratio"]
    assert (check.observed, check.passed) == (0.5, False) and "http 1" in check.detail


def test_without_a_collector_every_resource_check_is_listed_not_evaluated_with_the_reason(tmp_path):
    outputs = build_outputs(_upload_run(tmp_path / "run").path, ["json", "markdown", "html"])
    resource = [check for check in outputs.analysis.checks if check.kind == "resource"]
    assert [check.name for check in resource] == [
        "memory peak [all components]", "cpu p95 [all components]",
        "restarts [all components]", "oom kills [all components]",
    ]
    reason = "no resource samples: collector none because auto found nothing to sample"
    assert all(check.passed is None and check.detail.startswith(reason) for check in resource)
    assert outputs.status == 0
    verdict = json.loads((outputs.analysis.run.path / "verdict.json").read_text())
    assert {c["name"] for c in verdict["checks"] if c["passed"] is None} >= {c.name for c in resource}
    assert verdict["capacity"]["saturation_unjudged"].startswith(reason)
    for name in ("report.html", "summary.md"):
        text = (outputs.analysis.run.path / name).read_text()
        assert "No component showed saturation" not in text, name
        assert "collector none because auto found nothing to sample" in text, name


def test_components_the_scenario_names_and_the_collector_never_saw_are_not_evaluated(tmp_path):
    run = _upload_run(tmp_path / "run", collector={"backend": "kubernetes"}, resources=True)
    scenario = _scenario()
    scenario["resources"] = {"memory_peak_pct": 100, "max_oom_kills": 0, "components": ["api", "celery-worker"]}
    run.scenario = scenario
    run.write()
    checks = by_name(analyse_run(run.path))
    assert checks["memory peak [api]"].passed is True
    worker = [checks["memory peak [celery-worker]"], checks["oom kills [celery-worker]"]]
    assert all(c.passed is None and "no samples of this component" in c.detail for c in worker)


def test_a_collector_that_took_no_sample_is_named_and_saturation_is_not_claimed(tmp_path):
    outputs = build_outputs(_upload_run(tmp_path / "run", collector={"backend": "kubernetes"}).path, ["html"])
    memory = by_name(outputs.analysis)["memory peak [all components]"]
    assert memory.passed is None and "the kubernetes collector took none" in memory.detail
    assert "No component showed saturation" not in (outputs.analysis.run.path / "report.html").read_text()


def test_with_samples_during_the_load_no_saturation_is_said_plainly(tmp_path):
    outputs = build_outputs(_upload_run(tmp_path / "run", resources=True).path, ["html"])
    assert outputs.analysis.capacity.saturation_unjudged == ""
    assert "No component showed saturation" in (outputs.analysis.run.path / "report.html").read_text()


def _listen_run(path: Path, listens: list[tuple[int, str, float]], window: str | None = None) -> RunDir:
    scenario = _scenario(groups={"listen": {"p50": "1s", "p95": "1s"}})
    if window:
        scenario["slos"]["window"] = window
    run = RunDir(path, scenario=scenario)
    run.stages((T0, 4))
    for index, (status, kind, ms) in enumerate(listens):
        run.request(T0 + 1 + index * 0.5, "listen", ms, status=status, error_kind=kind, name="/api/v1/listen/[track]/")
    run.write()
    return run


def test_a_latency_slo_of_failed_requests_only_fails_and_says_why(tmp_path):
    """A bypassed nginx answers every listen in milliseconds with no audio: fast, and useless."""
    bypassed = [(206, "unexpected", 3.0)] * 40
    check = by_name(analyse_run(_listen_run(tmp_path / "run", bypassed).path))["latency p95 [listen]"]
    assert (check.observed, check.samples, check.passed) == (3.0, 40, False)
    assert "no request of 'listen' succeeded (40 failed)" in check.detail


def test_one_minimum_sample_rule_for_the_whole_run_and_each_window(tmp_path):
    """12 listens: a p95 of 12 is the slowest of them, whole run or window; a p50 needs only 2."""
    listens = [(206, "", 100.0 * (k + 1)) for k in range(12)]
    checks = by_name(analyse_run(_listen_run(tmp_path / "run", listens, window="60s").path))
    whole, window = checks["latency p95 [listen]"], checks["latency p95 [listen] per 60s window"]
    assert (whole.samples, whole.passed) == (12, None)
    assert "only 12 timed requests: a p95 needs at least 20; not evaluated" == whole.detail
    assert window.passed is None and "held the 20 requests a p95 needs" in window.detail
    assert checks["latency p50 [listen]"].passed is True
    assert checks["latency p50 [listen] per 60s window"].passed is True


def test_twenty_samples_are_judged_alike_over_the_whole_run_and_in_the_window(tmp_path):
    listens = [(206, "", 100.0 * (k + 1)) for k in range(20)]
    checks = by_name(analyse_run(_listen_run(tmp_path / "run", listens, window="60s").path))
    whole, window = checks["latency p95 [listen]"], checks["latency p95 [listen] per 60s window"]
    assert (whole.observed, whole.passed) == (1900.0, False)
    assert (window.observed, window.passed) == (1900.0, False)


def test_too_few_imports_all_timed_out_still_fail_the_import_wait_slo(tmp_path):
    """A dead import worker: 5 uploads, each given up on after 3 s against an import_wait_p95 of 2 s.
    Five are fewer than a p95 needs, but no fast import to come could bring it under 2 s."""
    scenario = _scenario()
    scenario["slos"]["import_wait_p95"] = "2s"
    run = RunDir(tmp_path / "dead", scenario=scenario)
    run.stages((T0, 4))
    for n in range(5):
        run.request(T0 + n, "upload", 40.0, status=201, name="/api/v1/uploads/")
        run.import_(T0 + n, "timeout", 3000.0 + n)
    run.write()
    check = by_name(analyse_run(run.path))["import wait p95"]
    assert (check.samples, check.passed) == (5, False)
    assert "the slowest are above the threshold" in check.detail

    slow_one = RunDir(tmp_path / "one", scenario=scenario)
    slow_one.stages((T0, 4))
    for n in range(5):
        slow_one.request(T0 + n, "upload", 40.0, status=201, name="/api/v1/uploads/")
        slow_one.import_(T0 + n, "finished" if n else "timeout", 3000.0 if n == 0 else 500.0)
    slow_one.write()
    assert by_name(analyse_run(slow_one.path))["import wait p95"].passed is None, "one slow import decides nothing"
