"""Components inside their limits: an OOM kill counted by the worker's cgroup during the load
lands in the stage it happened in, and a component killed at start-up is reported, not refused."""

from __future__ import annotations

import bisect
import json
from pathlib import Path

import pytest
import requests

from fwload.limits import COMPONENTS
from fwload.standin.launcher import StandinProcess
from tests.e2e.helpers import FWLOAD, only_run_dir, rows, run
from tests.stack.leftovers import assert_nothing_left, component_sessions

pytestmark = pytest.mark.stack

DATA = Path(__file__).parent / "data"
MiB = 1024 * 1024


def events(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "events.jsonl").read_text().splitlines()]


def test_a_worker_oom_kill_during_the_load_is_counted_by_its_cgroup_in_its_stage(tmp_path):
    env = {"FWLOAD_STANDIN_MODE": "stack", "FWLOAD_STANDIN_LIMITS": "accounting",
           "FWLOAD_STANDIN_LIMIT": "celery-worker=memory:96Mi", "FWLOAD_STANDIN_TASK_MEMORY": "64"}
    done = run([*FWLOAD, "run", str(DATA / "stack-worker-oom.yaml"), "--out", str(tmp_path)], timeout=280, env=env)
    run_dir = only_run_dir(tmp_path)
    assert done.code == 3, done.err[-3000:]
    stack = json.loads((run_dir / "run.json").read_text())["target"]["stack"]
    worker = stack["components"]["celery-worker"]
    assert worker["limit"]["memory_bytes"] == 96 * MiB and worker["cgroup"].endswith("/celery-worker")
    assert all(stack["components"][c]["cgroup"] for c in COMPONENTS if c != "postgres")

    samples = [row for row in rows(run_dir, "resources.csv") if row["component"] == "celery-worker"]
    assert samples[0]["memory_limit_bytes"] and samples[0]["oom_kills"] == "0"
    assert int(samples[-1]["oom_kills"]) >= 1, "the cgroup's oom_kill counter never moved"
    assert all(row["phase"] == "Running" for row in samples), "the worker's main process must survive"

    happened = events(run_dir)
    stages = [(e["ts"], e["stage"]) for e in happened if e["type"] == "stage"]
    assert [name for _, name in stages] == ["step-1", "step-2"]
    kills = [e for e in happened if e["type"] == "oom_kill" and e["component"] == "celery-worker"]
    assert kills and all(e["source"] == "cgroup" for e in kills)
    assert any(e["type"] == "respawn" and e["component"] == "celery-worker" for e in happened)

    verdict = json.loads((run_dir / "verdict.json").read_text())
    incidents = [i for i in verdict["incidents"] if i["kind"] == "oom_kill" and i["component"] == "celery-worker"]
    assert sum(i["count"] for i in incidents) == sum(e["count"] for e in kills)
    starts = [ts for ts, _ in stages]
    for incident in incidents:
        expected = bisect.bisect_right(starts, incident["ts"]) - 1
        assert expected >= 0, "an OOM kill during the load was placed before the load"
        assert incident["stage"] == expected, incident
    first_upload = min(float(row["ts"]) for row in rows(run_dir, "imports.csv"))
    assert min(e["ts"] for e in kills) > first_upload, "the worker was killed before any import was asked"
    assert "celery-worker" in (run_dir / "summary.md").read_text()
    outcomes = {row["outcome"] for row in rows(run_dir, "imports.csv")}
    assert "finished" not in outcomes, "an import the worker cannot afford must not finish"
    assert_nothing_left(stack["stack_id"], {c["pid"] for c in stack["components"].values() if c["owned"]})


def test_a_worker_and_beat_killed_at_start_up_are_findings_and_the_rest_serves():
    limits = {"limits": "accounting", "limit_overrides": ["celery-worker=memory:24Mi", "celery-beat=memory:24Mi"]}
    with StandinProcess(mode="stack", stack=limits) as standin:
        description = standin.stack_description
        assert description is not None
        sessions = component_sessions(standin.pid)
        found = {(f["component"], f["kind"]) for f in standin.findings}
        assert found == {("celery-worker", "oom_kill"), ("celery-worker", "startup_failure"),
                         ("celery-beat", "oom_kill"), ("celery-beat", "startup_failure")}
        assert all("24Mi" in f["detail"] for f in standin.findings)
        assert "celery-worker" in standin.cgroups and "celery-beat" in standin.cgroups
        assert not description["components"]["celery-worker"]["ready"]
        assert requests.get(standin.url + "/api/v1/instance/nodeinfo/2.0/", timeout=10).status_code == 200
        assert "finding: celery-worker: died during start-up (killed by SIGKILL)" in standin.stderr_tail()
    assert_nothing_left(description["stack_id"], sessions)
