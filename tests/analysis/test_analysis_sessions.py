"""Open arrivals in the analysis: due/started/dropped/delayed figures, the dropped-sessions check
that fails such a run, and every report saying so."""

from __future__ import annotations

import json

import pytest
from run_builders import T0, RunDir

from analysis.analyse import analyse_run
from analysis.outputs import build_outputs
from fwload.status import ExitStatus

ARRIVALS = {
    "name": "arrivals",
    "users": [{"class": "Listener"}],
    "load": {"profile": "arrivals", "duration": "10s", "arrivals": {"rate": 2, "slots": 4}},
    "slos": {"session_start_p95": "100ms"},
    "collector": {"backend": "none"},
}


def arrivals_run(path, *, dropped: int, late: int):
    """20 sessions due at 2/s from T0 + 2 s (after the slots stage): ``dropped`` of them dropped
    for want of a slot, ``late`` of the started ones 150 ms late, the others 5 ms."""
    run = RunDir(path, scenario=ARRIVALS)
    run.event(T0, "stage", stage="slots", users=4, spawn_rate=4, arrival_rate=0.0)
    run.event(T0 + 2, "stage", stage="2/s", users=4, spawn_rate=4, arrival_rate=2.0, from_arrival_rate=2.0)
    for k in range(20):
        due = T0 + 2 + k / 2
        if k < dropped:
            run.session(due, outcome="dropped", reason="no_slot")
        else:
            run.session(due, start_delay_ms=150.0 if k < dropped + late else 5.0)
    run.request(T0 + 3, group="browse", response_ms=20)
    return run.write(ended_at=T0 + 13)


def test_dropped_and_late_sessions_are_counted_and_fail_the_run(tmp_path):
    analysis = analyse_run(arrivals_run(tmp_path / "run", dropped=4, late=3))
    sessions = analysis.sessions
    assert (sessions.due, sessions.started, sessions.dropped, sessions.delayed) == (20, 16, 4, 3)
    assert sessions.dropped_by_reason == {"no_slot": 4, "generator_cpu": 0, "late": 0}
    assert sessions.start_delay["max"] == 150.0 and sessions.first["p95"] == 170.0
    assert sessions.asked_rate == 2.0 and sessions.achieved_rate == pytest.approx(1.6)
    (stage,) = sessions.by_stage.to_dict(orient="records")
    assert (stage["asked_rate"], stage["due"], stage["dropped"]) == ("2/s", 20, 4)
    checks = {check.name: check for check in analysis.checks}
    dropped = checks["sessions dropped"]
    assert (dropped.observed, dropped.threshold, dropped.samples, dropped.passed) == (0.2, 0.0, 20, False)
    assert dropped.detail == ("20 due, 16 started, 4 dropped (no_slot 4); 3 started ≥ 100 ms late "
                              "(start delay p95 150 ms, max 150 ms)")
    start = checks["session start p95 (from due)"]
    assert (start.observed, start.passed) == (170.0, False)
    assert analysis.status == ExitStatus.SLO_BROKEN


def test_every_report_says_how_many_sessions_were_dropped_and_delayed(tmp_path):
    path = arrivals_run(tmp_path / "run", dropped=4, late=3)
    build_outputs(path)
    summary = (path / "summary.md").read_text()
    assert "### Arrivals" in summary and "4 of 20 sessions were dropped" in summary
    assert "3 started ≥ 100 ms late" in summary
    verdict = json.loads((path / "verdict.json").read_text())
    assert verdict["sessions"]["dropped"] == 4 and verdict["sessions"]["delayed"] == 3
    assert any(n["kind"] == "sessions_dropped" for n in verdict["notices"])
    assert 'id="arrivals"' in (path / "report.html").read_text()


def test_an_arrivals_run_that_started_every_session_on_time_passes_its_arrivals_checks(tmp_path):
    analysis = analyse_run(arrivals_run(tmp_path / "run", dropped=0, late=0))
    checks = {check.name: check for check in analysis.checks}
    assert checks["sessions dropped"].passed is True and checks["sessions dropped"].observed == 0.0
    assert checks["session start p95 (from due)"].passed is True
    assert not [n for n in analysis.notices if n.kind == "sessions_dropped"]


def test_an_arrivals_run_with_no_session_recorded_fails_rather_than_passing_empty(tmp_path):
    run = RunDir(tmp_path / "run", scenario=ARRIVALS)
    run.request(T0 + 3, group="browse", response_ms=20)
    checks = {check.name: check for check in analyse_run(run.write()).checks}
    assert checks["sessions dropped"].passed is False
    assert "never started" in checks["sessions dropped"].detail


def test_runs_without_arrivals_have_no_session_checks(known):
    _truth, analysis = known
    assert not analysis.sessions.active
    assert not [check for check in analysis.checks if check.name.startswith("session")]
