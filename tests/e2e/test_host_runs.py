"""Runs with ``collector.backend: host`` against a stand-in started outside fwload: plain Locust
samples too, a wrong spec stops ``fwload run`` before any load, a component OOM-killed at start
stops it at the gate, and a worker OOM-killed under its live master during the load fails the
OOM check."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import yaml

from fwload.common.cgroups import move_into
from fwload.standin.launcher import StandinProcess
from tests.collectors.spawn import CgroupMaker, needs_cgroups
from tests.e2e.helpers import FWLOAD, REPO, locust, only_run_dir, rows, run

MiB = 1024 * 1024


@pytest.fixture(scope="module")
def standin():
    with StandinProcess() as process:
        yield process


@pytest.fixture
def make_cgroup():
    maker = CgroupMaker()
    yield maker
    maker.remove_all()


def scenario(tmp_path: Path, components: dict, *, duration: str = "6s", ready_timeout: str = "15s") -> Path:
    path = tmp_path / "host.yaml"
    path.write_text(yaml.safe_dump({
        "name": "host-backend",
        "users": [{"class": "Listener", "options": {"wait": ["0.5s", "1s"], "max_stream_bytes": 65536}}],
        "load": {"profile": "constant", "users": 1, "spawn_rate": 1, "duration": duration},
        "target": {"ready_timeout": ready_timeout},
        "slos": {"error_ratio": 0.5},
        "collector": {"backend": "host", "interval": "1s", "components": components},
    }, sort_keys=False))
    return path


def events(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "events.jsonl").read_text().splitlines()]


def test_plain_locust_with_backend_host_samples_the_named_components(standin, tmp_path):
    done = locust("--host", standin.url, "--scenario", str(scenario(tmp_path, {"web": {"pid": standin.pid}})),
                  "--reports-dir", str(tmp_path / "reports"))
    assert done.code == 0, done.err[-3000:]
    run_dir = only_run_dir(tmp_path / "reports")
    samples = rows(run_dir, "resources.csv")
    assert len(samples) >= 3 and {(r["source"], r["component"], r["phase"]) for r in samples} == {
        ("host", "web", "Running")}
    assert all(int(r["memory_bytes"]) > 0 for r in samples)
    meta = json.loads((run_dir / "run.json").read_text())
    assert meta["collector"]["backend"] == "host"
    assert meta["collector"]["components"] == {"web": f"{{pid: {standin.pid}}}"}


def test_a_wrong_spec_stops_fwload_run_before_any_load_naming_each_component(standin, tmp_path):
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait(10)
    components = {"api": {"pid": gone.pid}, "nginx": {"cgroup": "/sys/fs/cgroup/fwload-no-such-cgroup"}}
    done = run([*FWLOAD, "run", str(scenario(tmp_path, components)), "--host", standin.url,
                "--out", str(tmp_path / "reports")], timeout=120)
    assert done.code == 2, done.err[-3000:]
    message = " ".join(done.err.split())
    assert f"fwload: error: component api {{pid: {gone.pid}}}: no such process (not running); " \
           "component nginx {cgroup: /sys/fs/cgroup/fwload-no-such-cgroup}: no such cgroup" in message
    run_dir = only_run_dir(tmp_path / "reports")
    assert json.loads((run_dir / "run.json").read_text())["status"] == "refused"
    assert not [e for e in events(run_dir) if e["type"] in ("run_start", "stage")]


@needs_cgroups
def test_a_component_oom_killed_at_start_stops_the_run_at_the_gate_naming_it(standin, tmp_path, make_cgroup):
    cgroup = make_cgroup(memory_limit_bytes=16 * MiB)
    hungry = subprocess.Popen([sys.executable, "-c", "chunks = []\nwhile True:\n    chunks.append(b'x' * (1 << 20))"],
                              preexec_fn=lambda: move_into(cgroup, os.getpid()))
    assert hungry.wait(30) == -9
    components = {"web": {"pid": standin.pid}, "celery-worker": {"cgroup": str(cgroup.memory)}}
    done = run([*FWLOAD, "run", str(scenario(tmp_path, components, ready_timeout="3s")), "--host", standin.url,
                "--out", str(tmp_path / "reports")], timeout=120)

    assert done.code == 4, done.err[-3000:]
    run_dir = only_run_dir(tmp_path / "reports")
    verdict = json.loads((run_dir / "verdict.json").read_text())
    assert verdict["status"] == "not_ready"
    detail = f"cgroup {cgroup.memory} holds no process (1 OOM kill(s) counted in its cgroup)"
    assert {(f["component"], f["detail"]) for f in verdict["startup"]["failures"]} == {
        ("celery-worker", f"dead: {detail}")}
    assert not [e for e in events(run_dir) if e["type"] == "stage"], "the load must not start"
    assert "celery-worker dead: " + detail in " ".join(done.err.split())


MASTER = """
    import os, sys, time
    trigger = sys.argv[1]
    def worker():
        pid = os.fork()
        if pid == 0:
            while not os.path.exists(trigger):
                time.sleep(0.05)
            chunks = []
            while True:
                chunks.append(bytearray(b"x") * (1 << 20))
        return pid
    worker()
    while True:
        os.wait()
        os.unlink(trigger)
        worker()
"""


@needs_cgroups
def test_a_worker_oom_killed_under_its_live_master_during_the_load_fails_the_oom_check(
        standin, tmp_path, make_cgroup):
    cgroup = make_cgroup(memory_limit_bytes=48 * MiB)
    trigger = tmp_path / "allocate"
    master = subprocess.Popen([sys.executable, "-c", textwrap.dedent(MASTER), str(trigger)],
                              preexec_fn=lambda: move_into(cgroup, os.getpid()))
    try:
        reports = tmp_path / "reports"
        command = [*FWLOAD, "run", str(scenario(tmp_path, {"celery-worker": {"cgroup": str(cgroup.memory)}},
                                                duration="8s")), "--host", standin.url, "--out", str(reports)]
        fwload = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 90
        while not _load_started(reports):
            assert fwload.poll() is None and time.monotonic() < deadline, "the load never started"
            time.sleep(0.1)
        time.sleep(1.5)  # a sample or two of the load before the kill
        trigger.touch()
        out, err = fwload.communicate(timeout=120)
    finally:
        master.kill()
        master.wait(10)

    assert fwload.returncode == 3, err[-3000:]
    run_dir = only_run_dir(reports)
    verdict = json.loads((run_dir / "verdict.json").read_text())
    (oom,) = [c for c in verdict["checks"] if c["name"] == "oom kills [celery-worker]"]
    assert (oom["passed"], oom["observed"]) == (False, 1.0) and "1 worker respawns" in oom["detail"]
    (incident,) = [i for i in verdict["incidents"] if i["kind"] == "oom_kill"]
    assert (incident["component"], incident["stage"]) == ("celery-worker", 0), "counted in the load's stage"
    samples = rows(run_dir, "resources.csv")
    assert {(r["source"], r["phase"]) for r in samples} == {("host", "Running")}, "the master survived"
    assert int(samples[-1]["respawns"]) == 1 and int(samples[-1]["restarts"]) == 0


def _load_started(reports: Path) -> bool:
    runs = list(reports.glob("*/events.jsonl")) if reports.is_dir() else []
    return bool(runs) and '"stage"' in runs[0].read_text()
