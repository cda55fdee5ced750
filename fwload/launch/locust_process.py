"""Running Locust headless as a child process, with a progress line from ``progress.json``.

fwload drives Locust through its own command line (the same one a user types), so the
plugin, the shapes and distributed mode behave exactly as in a plain ``locust`` run.
"""

from __future__ import annotations

import collections
import contextlib
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

from fwload.lifeline import Lifeline
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
                   fixtures_dir: str | None = None, prometheus_url: str | None = None,
                   prometheus_token_file: str | None = None, prometheus_token_env: str | None = None) -> list[str]:
    command = [
        sys.executable, "-m", "locust", "-f", str(locustfile()), "--headless", "--only-summary",
        "--scenario", str(scenario), "--host", host, "--run-dir", str(run_dir), "--skip-preflight", "--no-report",
        "--html", str(run_dir / "locust" / "report.html"), "--stop-timeout", "5",
    ]
    if processes:
        command += ["--processes", str(processes), *loopback_master_args()]
    for flag, value in (("--users-file", users_file), ("--collector", collector), ("--namespace", namespace),
                        ("--kube-context", kube_context), ("--kubeconfig", kubeconfig),
                        ("--fixtures-dir", fixtures_dir), ("--prometheus-url", prometheus_url),
                        ("--prometheus-token-file", prometheus_token_file),
                        ("--prometheus-token-env", prometheus_token_env)):
        if value:
            command += [flag, value]
    if isinstance(local_pids, Path):
        command += ["--local-pids", f"@{local_pids}"]
    elif local_pids:
        command += ["--local-pids", ",".join(f"{name}={pid}" for name, pid in local_pids.items())]
    if local_cgroups:
        command += ["--local-cgroups", ",".join(f"{name}={path}" for name, path in local_cgroups.items())]
    return command


PROGRESS_EVERY_S = 10.0
"""Without a terminal (CI logs), one progress line this often."""
STOP_GRACE_S = 30.0
"""How long a stop request may take: the users' ``--stop-timeout``, the last flush, Locust's outputs."""


def run_locust(command: list[str], run_dir: Path, console: Console, *, expected_s: float) -> LocustRun:
    """Run Locust to its end, showing progress; Ctrl-C (or SIGTERM, see `fwload.launch.interrupt`)
    asks it to stop cleanly through its lifeline, a second one kills it.

    Locust runs in a session of its own (the terminal's Ctrl-C reaches only fwload) and tied to
    this process (`fwload.lifeline`): if fwload dies, Locust stops loading the target at once.
    """
    tail: collections.deque[str] = collections.deque(maxlen=40)
    lifeline = Lifeline()
    process = lifeline.spawn(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             start_new_session=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    reader = threading.Thread(target=_collect, args=(process, tail), daemon=True)
    reader.start()
    try:
        _follow(process, run_dir / PROGRESS_JSON, console, expected_s)
    except KeyboardInterrupt:
        _stop(process, lifeline, console)
        raise
    finally:
        if process.poll() is None:
            _kill_group(process)
        lifeline.cut()
    reader.join(timeout=5)
    return LocustRun(process.returncode, list(tail))


def _follow(process: subprocess.Popen[str], progress_file: Path, console: Console, expected_s: float) -> None:
    """A live status line on a terminal; a plain progress line every `PROGRESS_EVERY_S` elsewhere."""
    if console.is_terminal:
        with console.status("starting Locust…") as status:
            while process.poll() is None:
                time.sleep(1)
                status.update(progress_line(progress_file, expected_s))
        return
    last = time.monotonic()
    while process.poll() is None:
        time.sleep(0.5)
        if time.monotonic() - last >= PROGRESS_EVERY_S:
            last = time.monotonic()
            console.print(f"progress: {progress_line(progress_file, expected_s)}", highlight=False, soft_wrap=True)


def _stop(process: subprocess.Popen[str], lifeline: Lifeline, console: Console) -> None:
    """Ask Locust to stop and wait for it to close the run directory; Ctrl-C again kills it."""
    if process.poll() is not None:
        return
    console.print("stopping Locust: it stops the users and closes the run directory (Ctrl-C again to kill it)…",
                  highlight=False)
    if not lifeline.request_stop():
        _kill_group(process)
        return
    try:
        process.wait(timeout=STOP_GRACE_S)
    except subprocess.TimeoutExpired:
        console.print(f"[yellow]Locust did not stop within {STOP_GRACE_S:g} s: killed[/]", highlight=False)
        _kill_group(process)
    except KeyboardInterrupt:
        console.print("killing Locust", highlight=False)
        _kill_group(process)


def _kill_group(process: subprocess.Popen[str]) -> None:
    """SIGKILL to Locust's session (the master and its ``--processes`` workers)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=10)


def progress_line(path: Path, expected_s: float) -> str:
    """Users, throughput, errors and p95 so far, and the time left, from ``progress.json``."""
    try:
        progress = json.loads(path.read_text())
    except (OSError, ValueError):
        return "waiting for the first measurements…"
    p95 = progress.get("p95_ms_30s")
    imports = progress.get("imports") or {}
    elapsed = float(progress["elapsed_s"])
    requests = int(progress["requests"])
    failed = int(progress["failures"])
    share = f" ({failed / requests:.1%})" if requests else ""
    return (
        f"{elapsed:>5.0f}/{expected_s:.0f} s ({max(expected_s - elapsed, 0):.0f} s left)  "
        f"stage {progress.get('stage') or '-'}  users {progress['users']}  "
        f"requests {requests} ({progress['rps_10s']:.1f}/s)  errors {failed}{share}  "
        f"throttled {progress['throttled']}  p95 {'-' if p95 is None else f'{p95:.0f} ms'}  "
        f"imports {sum(imports.values())}  streams {progress['streams']}"
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
