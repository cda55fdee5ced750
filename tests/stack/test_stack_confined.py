"""Components inside their limits: an OOM kill counted by the worker's cgroup during the load
lands in the stage it happened in, and a component killed at start-up is reported, not refused."""

from __future__ import annotations

import bisect
import json
from pathlib import Path

import pytest

from fwload.limits import COMPONENTS
from tests.e2e.helpers import FWLOAD, only_run_dir, rows, run
from tests.stack.leftovers import assert_nothing_left

pytestmark = pytest.mark.stack

DATA = Path(__file__).parent / "data"
MiB = 1024 * 1024


def events(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "events.jsonl").read_text().splitlines()]


def test_a_worker_oom_kill_during_the_load_is_counted_by_its_cgroup_in_its_stage(tmp_path):
    env = {
        "FWLOAD_STANDIN_MODE": "stack",
        "FWLOAD_STANDIN_LIMITS": "accounting",
        "FWLOAD_STANDIN_LIMIT": "celery-worker=memory:96Mi",
        "FWLOAD_STANDIN_TASK_MEMORY": "64",
    }
    done = run(
        [*FWLOAD, "run", str(DATA / "stack-worker-oom.yaml"), "--out", str(tmp_path)], timeout=280, env=env
    )
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
    incidents = [
        i for i in verdict["incidents"] if i["kind"] == "oom_kill" and i["component"] == "celery-worker"
    ]
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


def test_a_worker_and_beat_killed_at_start_up_stop_the_run_at_the_gate_with_their_oom_kills(tmp_path):
    env = {
        "FWLOAD_STANDIN_MODE": "stack",
        "FWLOAD_STANDIN_LIMITS": "accounting",
        "FWLOAD_STANDIN_LIMIT": "celery-worker=memory:24Mi celery-beat=memory:24Mi",
    }
    done = run(
        [*FWLOAD, "run", str(DATA / "stack-startup-oom.yaml"), "--out", str(tmp_path)], timeout=200, env=env
    )
    run_dir = only_run_dir(tmp_path)
    assert done.code == 4, done.err[-3000:]
    assert "finding: celery-worker: died during start-up (killed by SIGKILL)" in " ".join(done.err.split())
    stack = json.loads((run_dir / "run.json").read_text())["target"]["stack"]
    assert not stack["components"]["celery-worker"]["ready"] and stack["components"]["api"]["ready"]

    happened = events(run_dir)
    kills = {e["component"]: e for e in happened if e["type"] == "oom_kill"}
    assert set(kills) == {"celery-worker", "celery-beat"}
    assert all(e["source"] == "cgroup" and e["count"] >= 1 and "24Mi" in e["detail"] for e in kills.values())
    failed = {e["component"] for e in happened if e["type"] == "startup_failure"}
    assert {"celery-worker", "celery-beat"} <= failed
    assert not any(e["type"] == "stage" for e in happened), "the load must not start"

    verdict = json.loads((run_dir / "verdict.json").read_text())
    assert verdict["status"] == "not_ready"
    assert {f["component"] for f in verdict["startup"]["failures"]} >= {"celery-worker", "celery-beat"}
    before_load = [i for i in verdict["incidents"] if i["kind"] == "oom_kill"]
    assert {i["component"] for i in before_load} == {"celery-worker", "celery-beat"}
    assert_nothing_left(stack["stack_id"], {c["pid"] for c in stack["components"].values() if c["owned"]})
