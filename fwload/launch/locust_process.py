"""Running Locust headless as a child process, with a progress line from ``progress.json``.

fwload drives Locust through its own command line (the same one a user types), so the
plugin, the shapes and distributed mode behave exactly as in a plain ``locust`` run.
"""

from __future__ import annotations

import collections
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from fwload.recording.schema import PROGRESS_JSON

LOCUSTFILE = Path(__file__).resolve().parents[2] / "locustfiles" / "funkwhale.py"


@dataclass
class LocustRun:
    exit_code: int
    tail: list[str]


def locustfile() -> Path:
    """The repository's locustfile (fwload is installed editable from its checkout)."""
    override = os.environ.get("FWLOAD_LOCUSTFILE")
    return Path(override) if override else LOCUSTFILE


LOOPBACK = "127.0.0.1"


def free_port(host: str = LOOPBACK) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def loopback_master_args() -> list[str]:
    """Workers of ``--processes`` meet their master on 127.0.0.1 and a free port, never on
    Locust's default ``*:5557``, where another run's workers could join (or the bind fail)."""
    port = str(free_port())
    return ["--master-bind-host", LOOPBACK, "--master-bind-port", port, "--master-port", port]


def locust_command(*, scenario: Path, host: str, run_dir: Path, processes: int = 0,
                   users_file: str | None = None, collector: str | None = None, namespace: str | None = None,
                   kube_context: str | None = None, kubeconfig: str | None = None,
                   local_pids: dict[str, int] | Path | None = None, local_cgroups: dict[str, str] | None = None,
                   fixtures_dir: str | None = None) -> list[str]:
    command = [
        sys.executable, "-m", "locust", "-f", str(locustfile()), "--headless", "--only-summary",
        "--scenario", str(scenario), "--host", host, "--run-dir", str(run_dir), "--skip-preflight", "--no-report",
        "--html", str(run_dir / "locust" / "report.html"), "--stop-timeout", "5",
    ]
    if processes:
        command += ["--processes", str(processes), *loopback_master_args()]
    for flag, value in (("--users-file", users_file), ("--collector", collector), ("--namespace", namespace),
                        ("--kube-context", kube_context), ("--kubeconfig", kubeconfig),
                        ("--fixtures-dir", fixtures_dir)):
        if value:
            command += [flag, value]
    if isinstance(local_pids, Path):
        command += ["--local-pids", f"@{local_pids}"]
    elif local_pids:
        command += ["--local-pids", ",".join(f"{name}={pid}" for name, pid in local_pids.items())]
    if local_cgroups:
        command += ["--local-cgroups", ",".join(f"{name}={path}" for name, path in local_cgroups.items())]
    return command


def run_locust(command: list[str], run_dir: Path, console: Console, *, expected_s: float) -> LocustRun:
    """Run Locust to its end, showing one progress line; Ctrl-C stops it cleanly."""
    tail: collections.deque[str] = collections.deque(maxlen=40)
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    reader = threading.Thread(target=_collect, args=(process, tail), daemon=True)
    reader.start()
    progress_file = run_dir / PROGRESS_JSON
    try:
        with console.status("starting Locust…") as status:
            while process.poll() is None:
                time.sleep(1)
                status.update(progress_line(progress_file, expected_s))
    except KeyboardInterrupt:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        raise
    reader.join(timeout=5)
    return LocustRun(process.returncode, list(tail))


def progress_line(path: Path, expected_s: float) -> str:
    try:
        progress = json.loads(path.read_text())
    except (OSError, ValueError):
        return "waiting for the first measurements…"
    p95 = progress.get("p95_ms_30s")
    imports = progress.get("imports") or {}
    return (
        f"{progress['elapsed_s']:>5.0f}/{expected_s:.0f} s  stage {progress.get('stage') or '-'}  "
        f"users {progress['users']}  requests {progress['requests']} ({progress['rps_10s']:.1f}/s)  "
        f"failed {progress['failures']}  throttled {progress['throttled']}  "
        f"p95 {'-' if p95 is None else f'{p95:.0f} ms'}  imports {sum(imports.values())}  "
        f"streams {progress['streams']}"
    ) + _listening(progress)


def _listening(progress: dict) -> str:
    """``  playing 12 (stalled 0.4 %)``: the listeners' side of the progress line, once plays began."""
    if not progress.get("plays_now") and progress.get("stall_ratio_30s") is None:
        return ""
    ratio = progress.get("stall_ratio_30s")
    return f"  playing {progress.get('plays_now', 0)}" + ("" if ratio is None else f" (stalled {ratio * 100:.1f} %)")


def _collect(process: subprocess.Popen[str], tail: collections.deque[str]) -> None:
    assert process.stdout is not None
    for line in process.stdout:
        tail.append(line.rstrip("\n"))
