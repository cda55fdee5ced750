"""The seed's check on a real stack on one machine: the stack-mode stand-in, started outside fwload
with the documented limits (its components each in their own cgroup), sampled by ``backend: host``
through ``{cgroup: ...}`` components, gives the same resource verdict as the built-in processes
collector on the same stack.

Both runs go at once, so both collectors see the same load on the same cgroups: ``fwload run``
with ``backend: host``, and, once its load has started, a plain Locust run with the processes
collector (``--local-pids``/``--local-cgroups``, as ``fwload run`` hands it its own stand-in)
whose shorter load ends before the first one's does.

The API gets 256Mi (at 128Mi the stand-in's two API workers are OOM-killed as they boot, as
Funkwhale's are, and every sign-up ends in a 502, so the load stops within seconds); the
Celery worker keeps the documented 128Mi and each import asks for 100 MiB, so its pool
process is OOM-killed under the surviving worker main process at every upload.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from fwload.limits import COMPONENTS
from fwload.standin.launcher import StandinProcess
from tests.e2e.helpers import FWLOAD, LOCUSTFILE, REPO, only_run_dir, rows

pytestmark = pytest.mark.stack


@pytest.fixture(scope="module")
def stack():
    options = {"limits": "k8s", "own_postgres": True, "limit_overrides": ("api=memory:256Mi",),
               "task_memory_mb": 100}
    with StandinProcess(mode="stack", stack=options) as standin:
        yield standin


def scenario(path: Path, collector: dict, duration: str) -> Path:
    path.write_text(yaml.safe_dump({
        "name": "seed-on-one-machine",
        "users": [
            {"class": "Listener", "weight": 2, "options": {"wait": ["0.5s", "1s"], "max_stream_bytes": 65536}},
            {"class": "Uploader", "weight": 1,
             "options": {"wait": ["0.5s", "1s"], "import_timeout": "6s", "poll_interval": "1s", "formats": ["mp3"]}},
        ],
        "load": {"profile": "constant", "users": 3, "spawn_rate": 3, "duration": duration},
        "target": {"ready_timeout": "60s"},
        "slos": {"error_ratio": 0.9},
        "resources": {"limits": "documented"},
        "collector": {"interval": "1s", **collector},
    }, sort_keys=False))
    return path


NOISE_PP = 15
"""Two collectors sampling at their own instants: a percentage this close to its threshold may
fall either side of it (the API's CPU p95 sits near its 500m quota under this load)."""
SPIKY = {"celery-worker"}
"""Its memory jumps by 100 MiB for each import, for less than a sample interval."""


def resource_checks(run_dir: Path) -> dict[str, dict]:
    verdict = json.loads((run_dir / "verdict.json").read_text())
    return {check["name"]: check for check in verdict["checks"] if check["kind"] == "resource"}


def beyond_noise(*checks: dict) -> bool:
    return all(c["unit"] != "%" or c["observed"] is None or abs(c["observed"] - c["threshold"]) > NOISE_PP
               for c in checks)


def test_backend_host_on_the_stand_in_started_outside_gives_the_processes_collectors_verdict(stack, tmp_path):
    described = stack.stack_description["components"]
    assert all(described[c]["cgroup_dirs"] for c in COMPONENTS), "every component has its own cgroup"
    components = {name: {"cgroup": described[name]["cgroup_dirs"][0]} for name in COMPONENTS}
    host_scenario = scenario(tmp_path / "host.yaml", {"backend": "host", "components": components}, "24s")
    host_run = _start([*FWLOAD, "run", str(host_scenario), "--host", stack.url, "--out", str(tmp_path / "host")])
    processes_run = None
    try:
        _wait_for_the_load(tmp_path / "host", host_run)
        processes_run = _start([
            sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--only-summary",
            "--host", stack.url, "--scenario",
            str(scenario(tmp_path / "processes.yaml", {"backend": "processes"}, "14s")),
            "--local-pids", f"@{stack.pids_file}",
            "--local-cgroups", ",".join(f"{name}={path}" for name, path in stack.cgroups.items()),
            "--reports-dir", str(tmp_path / "processes")])
        _, processes_err = processes_run.communicate(timeout=180)
        _, host_err = host_run.communicate(timeout=180)
    finally:
        for process in (host_run, processes_run):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait(30)
    by_host, by_processes = only_run_dir(tmp_path / "host"), only_run_dir(tmp_path / "processes")

    assert host_run.returncode == processes_run.returncode == 3, (host_err[-2000:], processes_err[-2000:])
    host_checks, processes_checks = resource_checks(by_host), resource_checks(by_processes)
    assert set(host_checks) == set(processes_checks) and len(host_checks) == 4 * len(COMPONENTS)
    compared = [name for name in host_checks if beyond_noise(host_checks[name], processes_checks[name])]
    assert len(compared) >= 3 * len(COMPONENTS), "nearly every check is far from its threshold"
    assert {n: host_checks[n]["passed"] for n in compared} == {n: processes_checks[n]["passed"] for n in compared}
    for checks in (host_checks, processes_checks):
        failed = {name for name in compared if not checks[name]["passed"]}
        assert {name for name in failed if name.startswith(("oom", "restarts"))} == {"oom kills [celery-worker]"}
        assert "worker respawns" in checks["oom kills [celery-worker]"]["detail"]
        assert "throttled in" in checks["cpu p95 [api]"]["detail"], "CFS throttling is reported"
    for component in set(COMPONENTS) - SPIKY:
        peaks = [checks[f"memory peak [{component}]"]["observed"] for checks in (host_checks, processes_checks)]
        assert abs(peaks[0] - peaks[1]) <= 10, (component, peaks)  # percentage points of the limit

    host_rows, processes_rows = rows(by_host, "resources.csv"), rows(by_processes, "resources.csv")
    assert {r["source"] for r in host_rows} == {"host"} and {r["source"] for r in processes_rows} == {"processes"}
    for samples in (host_rows, processes_rows):
        assert {r["component"] for r in samples} == set(COMPONENTS)
        assert {r["phase"] for r in samples} == {"Running"}, "the worker's main process survives its pool's kills"
        worker = [r for r in samples if r["component"] == "celery-worker"]
        assert worker[-1]["memory_limit_bytes"] == str(128 * 1024 * 1024)


def _start(command: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_the_load(reports: Path, process: subprocess.Popen[str], timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        found = list(reports.glob("*/events.jsonl")) if reports.is_dir() else []
        if found and '"stage"' in found[0].read_text():
            return
        if process.poll() is not None or time.monotonic() > deadline:
            raise AssertionError("the fwload run's load never started:\n" + process.communicate()[1][-3000:])
        time.sleep(0.2)
