"""Open arrivals in real Locust runs against the stand-in: the asked rate is offered and recorded,
the processes' shares add up, and a too small slot pool on a slow target drops sessions loudly."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from fwload.scenario.arrivals import plan_of
from fwload.scenario.loader import load_scenario
from fwload.standin.launcher import StandinProcess
from tests.e2e.helpers import FWLOAD, locust, only_run_dir, rows, run

STEADY = (
    "name: arrivals\n"
    "users:\n  - {class: Listener, weight: 3, options: {wait: [0.2, 0.4]}}\n"
    "  - {class: Uploader, weight: 1, options: {wait: [0.2, 0.4]}}\n"
    "load:\n  profile: arrivals\n  duration: 5s\n"
    "  arrivals: {rate: 4/s, session: {length: 1.5s, distribution: fixed}, slots: 20}\n"
    "collector: {backend: none}\n"
)


@pytest.fixture(scope="module")
def standin():
    with StandinProcess() as process:
        yield process


def _events(run_dir, kind):
    return [e for e in map(json.loads, (run_dir / "events.jsonl").read_text().splitlines()) if e["type"] == kind]


def _steady_run(standin, tmp_path, *extra):
    scenario = tmp_path / "arrivals.yaml"
    scenario.write_text(STEADY)
    done = locust("--host", standin.url, "--scenario", str(scenario), "--reports-dir", str(tmp_path / "r"), *extra)
    assert done.code == 0, done.err[-3000:]
    return only_run_dir(tmp_path / "r"), plan_of(load_scenario(scenario).load)


def test_an_arrivals_run_starts_every_due_session_at_its_instant_and_records_it(standin, tmp_path):
    run_dir, plan = _steady_run(standin, tmp_path)
    sessions = rows(run_dir, "sessions.csv")
    assert len(sessions) == plan.due() == 20
    assert not [s for s in sessions if s["outcome"] == "dropped"]
    due = sorted(float(s["intended_ts"]) for s in sessions)
    assert [round(t - due[0], 2) for t in due] == [round(t, 2) for t in sorted(t for _, t in plan.instants())]
    for s in sessions:
        assert float(s["start_ts"]) >= float(s["intended_ts"])
        assert float(s["first_ms"]) >= float(s["start_delay_ms"]) >= 0
        assert s["outcome"] in ("completed", "cut") and int(s["iterations"]) >= 0
    assert Counter(s["user_class"] for s in sessions) == {"Listener": 15, "Uploader": 5}
    verdict = json.loads((run_dir / "verdict.json").read_text())
    (check,) = [c for c in verdict["checks"] if c["name"] == "sessions dropped"]
    assert check["passed"] is True and check["samples"] == 20
    assert verdict["sessions"]["started_per_s"] == pytest.approx(4.0)
    assert "20 due, 20 started, 0 dropped" in (run_dir / "summary.md").read_text()
    meta = json.loads((run_dir / "run.json").read_text())
    assert meta["counts"]["sessions"] == 20


def test_two_processes_split_the_rate_and_their_sessions_add_up_to_the_plan(standin, tmp_path):
    run_dir, plan = _steady_run(standin, tmp_path, "--processes", "2", "--stop-timeout", "5")
    sessions = rows(run_dir, "sessions.csv")
    assert Counter(s["worker"] for s in sessions) == {"0": 10, "1": 10}
    assert Counter(s["user_class"] for s in sessions) == {"Listener": 15, "Uploader": 5}, "the workers add up to the mix"
    due = sorted(float(s["intended_ts"]) for s in sessions)
    assert [round(t - due[0], 2) for t in due] == [round(t, 2) for t in sorted(t for _, t in plan.instants())]
    assert not [s for s in sessions if s["outcome"] == "dropped"]
    assert not _events(run_dir, "worker_missing")
    assert json.loads((run_dir / "run.json").read_text())["counts"]["sessions"] == len(sessions) == 20


def test_a_slow_target_with_too_few_slots_drops_sessions_and_the_run_fails_saying_so(tmp_path):
    scenario = tmp_path / "drops.yaml"
    scenario.write_text(
        "name: drops\n"
        "users:\n  - {class: Listener, options: {wait: [0.1, 0.2]}}\n"
        "load:\n  profile: arrivals\n  duration: 6s\n"
        "  arrivals: {rate: 4/s, session: {length: null, iterations: 1}, slots: 2}\n"
        "collector: {backend: none}\n"
        "faults:\n  requests:\n    - {group: browse, latency: 1s}\n"
    )
    done = run([*FWLOAD, "run", str(scenario), "--out", str(tmp_path / "reports")], timeout=200)
    assert done.code == 1, done.err[-3000:]
    run_dir = only_run_dir(tmp_path / "reports")
    sessions = rows(run_dir, "sessions.csv")
    assert len(sessions) == 24, "every due session is recorded, started or not"
    dropped = [s for s in sessions if s["outcome"] == "dropped"]
    started = [s for s in sessions if s["start_ts"]]
    assert dropped and started and len(dropped) + len(started) == 24
    assert {s["reason"] for s in dropped} == {"no_slot"} and not any(s["start_ts"] for s in dropped)
    assert sum(e["count"] for e in _events(run_dir, "sessions_dropped")) == len(dropped)
    verdict = json.loads((run_dir / "verdict.json").read_text())
    (check,) = [c for c in verdict["checks"] if c["name"] == "sessions dropped"]
    assert check["passed"] is False and check["observed"] == pytest.approx(len(dropped) / 24)
    summary = (run_dir / "summary.md").read_text()
    assert f"{len(dropped)} dropped (no_slot {len(dropped)})" in summary
    assert "sessions were dropped" in summary
