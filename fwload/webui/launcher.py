"""``fwload ui``: Locust's web UI with the fwload plugin, against a target or the local stand-in.

Locust runs as a child process from its own command line (as ``fwload run`` does), so the
web UI, the plugin and distributed mode behave exactly as in a plain ``locust`` run. The
child gets a session of its own, tied to this process (`fwload.lifeline`: it quits if this
process dies): Ctrl-C reaches only this process, which then stops Locust
first (its ``quitting`` closes the run directory of a test still going) and the stand-in
last. The web UI has no login, so it binds to 127.0.0.1 unless told otherwise; with
``--processes`` the master listens for its workers on 127.0.0.1 and a free port, never on
Locust's default ``*:5557``, where another distributed run's workers would join it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from rich.console import Console

from fwload.errors import UsageError
from fwload.launch.interrupt import sigterm_interrupts
from fwload.launch.locust_process import LOOPBACK, free_port, locustfile, loopback_master_args
from fwload.launch.scenario_file import resolved_copy, with_command_line
from fwload.launch.target import start_target
from fwload.lifeline import Lifeline
from fwload.scenario.loader import load_scenario

UI_START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 60.0


@dataclass
class UiRequest:
    scenario: Path
    host: str | None = None
    web_host: str = LOOPBACK
    web_port: int = 8089
    processes: int = 0
    users_file: str | None = None
    collector: str | None = None
    out: Path = Path("reports")
    users: int | None = None
    spawn_rate: float | None = None
    duration: str | None = None
    """Load fields changed for the tests of this web UI, as ``fwload run``'s options."""
    namespace: str | None = None
    context: str | None = None
    kubeconfig: str | None = None
    """Where the kubernetes collector looks, as ``fwload run``'s options."""
    prometheus_url: str | None = None
    prometheus_token_file: str | None = None
    prometheus_token_env: str | None = None
    """Where the prometheus collector looks and its token comes from, as ``fwload run``'s options."""


@dataclass
class UiResult:
    exit_code: int
    """Locust's: the verdict of the last test (0 when no test ran)."""
    run_dirs: list[Path]


def run_ui(request: UiRequest, console: Console, announce: Callable[[str], None]) -> UiResult:
    """Serve the web UI until Ctrl-C (or SIGTERM); ``announce`` receives its URL once it answers."""
    load = {"users": request.users, "spawn_rate": request.spawn_rate, "duration": request.duration}
    scenario = with_command_line(load_scenario(request.scenario), request.scenario, **load)
    port = request.web_port or free_port(request.web_host)
    before = _run_dirs(request.out)
    with contextlib.ExitStack() as stack, sigterm_interrupts():
        host, standin = start_target(request.host or scenario.target.host, stack, console)
        changed = any(value is not None for value in load.values())
        scenario_file = stack.enter_context(resolved_copy(scenario)) if changed else request.scenario
        command = ui_command(request, host, port, standin, scenario_file)
        lifeline = Lifeline()
        stack.callback(lifeline.cut)
        locust = lifeline.spawn(command, stdin=subprocess.DEVNULL, stdout=sys.stderr, start_new_session=True,
                                env={**os.environ, "PYTHONUNBUFFERED": "1"})
        try:
            url = f"http://{_url_host(request.web_host)}:{port}"
            _wait_for_ui(locust, url)
            if request.web_host != LOOPBACK:
                console.print(f"[yellow]notice:[/] the web UI listens on {request.web_host}: anyone who can reach "
                              "it can start load against the target", highlight=False)
            console.print(f"web UI: [bold]{url}[/]  (scenario {request.scenario}; Ctrl-C stops Locust"
                          f"{' and the stand-in' if standin is not None else ''})", highlight=False)
            _list_scenarios(request.scenario, console)
            announce(url)
            exit_code = locust.wait()
            console.print(f"Locust exited by itself (exit code {exit_code})", highlight=False)
        except KeyboardInterrupt:
            console.print("stopping Locust (it closes the run directory of a test still going)…")
            exit_code = stop_process_group(locust)
        finally:
            if locust.poll() is None:
                stop_process_group(locust, timeout_s=5.0)
    return UiResult(exit_code, sorted(set(_run_dirs(request.out)) - set(before)))


def ui_command(request: UiRequest, host: str, port: int, standin: Any = None,
               scenario_file: Path | None = None) -> list[str]:
    command = [
        sys.executable, "-m", "locust", "-f", str(locustfile()), "--scenario", str(scenario_file or request.scenario),
        "--host", host, "--web-host", request.web_host, "--web-port", str(port),
        "--reports-dir", str(request.out),
    ]
    if request.processes:
        command += ["--processes", str(request.processes), *loopback_master_args()]
    for flag, value in (("--users-file", request.users_file), ("--collector", request.collector),
                        ("--namespace", request.namespace), ("--kube-context", request.context),
                        ("--kubeconfig", request.kubeconfig), ("--prometheus-url", request.prometheus_url),
                        ("--prometheus-token-file", request.prometheus_token_file),
                        ("--prometheus-token-env", request.prometheus_token_env)):
        if value:
            command += [flag, value]
    if standin is not None:
        command += ["--local-pids", f"@{standin.pids_file}"]
        if standin.cgroups:
            command += ["--local-cgroups", ",".join(f"{name}={path}" for name, path in standin.cgroups.items())]
    return command


def stop_process_group(process: subprocess.Popen[bytes], timeout_s: float = STOP_TIMEOUT_S) -> int:
    """SIGTERM to the child's session (Locust and its workers), SIGKILL if it outlives ``timeout_s``."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout_s)
    return int(process.returncode)


def _wait_for_ui(locust: subprocess.Popen[bytes], url: str) -> None:
    deadline = time.monotonic() + UI_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if locust.poll() is not None:
            raise UsageError(f"Locust stopped before its web UI answered (exit code {locust.returncode})",
                             "read Locust's messages above; if the port is in use, pass another --web-port")
        with contextlib.suppress(requests.RequestException):
            if requests.get(url + "/", timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    stop_process_group(locust)
    raise UsageError(f"Locust's web UI did not answer at {url} within {UI_START_TIMEOUT_S:g} s",
                     "read Locust's messages above")


def _url_host(web_host: str) -> str:
    return LOOPBACK if web_host in ("", "*", "0.0.0.0") else web_host


def _list_scenarios(chosen: Path, console: Console) -> None:
    others = sorted(str(path) for path in chosen.parent.glob("*.yaml") if path.resolve() != chosen.resolve())
    if others:
        console.print("other scenarios for the start form's scenario field (under Custom parameters): "
                      + ", ".join(others), highlight=False)


def _run_dirs(out: Path) -> list[Path]:
    return [path.parent for path in out.glob("*/run.json")] if out.is_dir() else []
