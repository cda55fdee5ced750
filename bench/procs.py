"""Child processes measured by the kernel: CPU time (rusage), peak memory, optional CPU pinning.

Throughput "per core" divides work done by the CPU seconds the process really used, so a
generator that waits on a slow server is not penalised and one that burns two cores is not
flattered. `os.wait4` gives the child's own rusage, threads included, without sampling.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.errors import BenchError, require_tool

REPO = Path(__file__).resolve().parents[1]
POLL_S = 0.05


@dataclass
class Finished:
    returncode: int
    stdout: str
    stderr: str
    cpu_s: float
    wall_s: float
    max_rss_mib: float


def pinning() -> dict[str, set[int] | None]:
    """CPU sets for the load generator and the server: apart when there are two cores or more.

    Pinning keeps the generator and nginx from trading places on one core, which makes the
    side-by-side ratios steadier; on one core nothing is pinned.
    """
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        return {"generator": None, "server": None}
    return {"generator": {cpus[0]}, "server": {cpus[1]}}


def describe_pinning() -> str:
    pins = pinning()
    if pins["generator"] is None:
        return "not pinned (one CPU)"
    return f"generator pinned to CPU {min(pins['generator'])}, nginx to CPU {min(pins['server'])}"


def child_env(**extra: str) -> dict[str, str]:
    """The environment for a child: the repository importable, unbuffered output."""
    path = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH", "")]))
    return {**os.environ, "PYTHONPATH": path, "PYTHONUNBUFFERED": "1", **extra}


def pinned(command: Sequence[str], cpus: set[int] | None) -> list[str]:
    """``command`` run under ``taskset`` on ``cpus`` (as is when None).

    taskset rather than a ``preexec_fn``: pairs of children are started from two threads,
    and forking with Python code to run in the child is unsafe in a threaded parent.
    """
    if cpus is None:
        return list(command)
    return [require_tool("taskset"), "-c", ",".join(map(str, sorted(cpus))), *command]


def run_measured(command: Sequence[str], *, timeout_s: float, cpus: set[int] | None = None,
                 env: dict[str, str] | None = None, cwd: Path = REPO, check: bool = True) -> Finished:
    """Run ``command`` to its end (killed after ``timeout_s``) and return its rusage figures."""
    out_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench-{os.getpid()}-{time.monotonic_ns()}"
    with open(f"{out_path}.out", "w+") as out, open(f"{out_path}.err", "w+") as err:
        started = time.monotonic()
        process = subprocess.Popen(pinned(command, cpus), stdout=out, stderr=err, env=env or child_env(), cwd=cwd,
                                   start_new_session=True)
        status, usage = _wait(process, started + timeout_s)
        wall = time.monotonic() - started
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    for suffix in (".out", ".err"):
        Path(f"{out_path}{suffix}").unlink(missing_ok=True)
    code = os.waitstatus_to_exitcode(status) if status is not None else -9
    finished = Finished(code, stdout, stderr, usage.ru_utime + usage.ru_stime if usage else 0.0, wall,
                        (usage.ru_maxrss / 1024) if usage else 0.0)
    if check and (status is None or code != 0):
        why = "timed out" if status is None else f"exited with {code}"
        tail = "\n".join((stderr or stdout).strip().splitlines()[-15:])
        raise BenchError(f"{' '.join(map(str, command[:4]))} ... {why}:\n{tail}")
    return finished


def _wait(process: subprocess.Popen, deadline: float) -> tuple[int | None, Any]:
    """(wait status, rusage) of the child; status None when it was killed at the deadline."""
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            process.returncode = os.waitstatus_to_exitcode(status)
            return status, usage
        if time.monotonic() > deadline:
            os.killpg(process.pid, 9)
            _, _, usage = os.wait4(process.pid, 0)
            process.returncode = -9
            return None, usage
        time.sleep(POLL_S)


def python() -> str:
    return sys.executable
