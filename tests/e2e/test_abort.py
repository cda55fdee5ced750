"""The watch on the master: abort rules stop a hopeless run early (dropped arrivals: test_arrivals.py)."""

from __future__ import annotations

import json

from tests.e2e.helpers import FWLOAD, only_run_dir, rows, run


def events(run_dir, kind):
    lines = (run_dir / "events.jsonl").read_text().splitlines()
    return [e for e in map(json.loads, lines) if e["type"] == kind]


def test_an_abort_rule_stops_the_run_early_and_says_why(tmp_path):
    scenario = tmp_path / "abort.yaml"
    scenario.write_text(
        "name: abort\n"
        "users:\n  - class: Listener\n    options: {wait: [0.1, 0.2]}\n"
        "load: {profile: constant, users: 3, spawn_rate: 3, duration: 90s}\n"
        "abort:\n  - {metric: error_ratio, above: 0.3, for: 5s}\n"
        "collector: {backend: none}\n"
        "faults:\n  requests:\n    - {group: browse, error: {ratio: 1.0, status: 500}}\n"
    )
    done = run([*FWLOAD, "run", str(scenario), "--out", str(tmp_path / "reports")], timeout=200)
    assert done.code == 1, done.err[-3000:]
    run_dir = only_run_dir(tmp_path / "reports")
    (abort,) = events(run_dir, "abort")
    assert abort["rule"]["metric"] == "error_ratio" and abort["observed"] > 0.3
    meta = json.loads((run_dir / "run.json").read_text())
    assert meta["status"] == "aborted"
    requests = rows(run_dir, "requests.csv")
    span = float(requests[-1]["ts"]) - float(requests[0]["ts"])
    assert span < 45, "stopped long before its 90 s"
    verdict = json.loads((run_dir / "verdict.json").read_text())
    assert any("abort" in c["name"] and c["passed"] is False for c in verdict["checks"])
