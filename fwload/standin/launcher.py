"""Start the stand-in in a subprocess, wait until it serves, stop it cleanly, or restart it.

The demo and the tests use this: the server runs apart from the caller (its own PID for
the resource collector to sample, and no Locust/gevent patching can reach it), and the
caller gets the URL and the admin credential it printed. The admin password travels by
environment variable (not argv, which every local user can read) and is kept as a
`SecretStr`.

A restart (the API restarting mid-run, a fault of `fwload.standin.faults`) starts a new
process on the same port and data directory, with the same admin password and secret key,
so accounts, tokens and listen tokens survive it as they survive a real pod restart. In
stack mode only the ``api`` component restarts, done by the stack process when asked
(`fwload.standin.stack.restart`); nginx, the data stores and Celery keep running.

The server is tied to the caller's life (`fwload.lifeline`): should the caller die without
stopping it (SIGKILL), the server stops as on SIGTERM (a stack stops every component, drops
its database and removes its cgroups) and removes the temporary data folder made for it.

``mode="stack"`` (or ``FWLOAD_STANDIN_MODE=stack`` in the environment) runs the seed's
components as processes (`fwload.standin.stack`); ``component_pids`` and ``cgroups`` then
name each component's root process and cgroup for the processes collector, and
``findings`` lists what the limits did to them during start-up.
"""

from __future__ import annotations

import collections
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self
from urllib.parse import urlsplit

from pydantic import SecretStr

import fwload
from fwload.common.faults import Faults
from fwload.common.files import write_atomic
from fwload.errors import NotReadyError, UsageError
from fwload.lifeline import Lifeline
from fwload.standin.command import (
    ADMIN_PASSWORD_ENV,
    ADMIN_PREFIX,
    DATABASE_URL_ENV,
    MODE_ENV,
    READY_PREFIX,
    REDIS_URL_ENV,
    SECRET_KEY_ENV,
    STACK_PREFIX,
)
from fwload.standin.faults.client import FaultAdmin
from fwload.standin.faults.lifecycle import Happened, LifecycleSchedule
from fwload.standin.stack.options import StackOptions, build_options
from fwload.standin.stack.restart import ask_api_restart

STOP_TIMEOUT_S = 10.0
PIDS_FILE = "component-pids.json"
STACK_STOP_TIMEOUT_S = 60.0
"""Stopping a stack stops six components in turn and drops a database."""
STACK_READY_MARGIN_S = 30.0
RESTART_ATTEMPTS = 5


@dataclass(frozen=True)
class AdminCredential:
    username: str
    password: SecretStr


class StandinProcess:
    """``with StandinProcess() as standin:`` gives ``standin.url``, ``.admin`` and ``.pid``."""

    def __init__(
        self,
        *,
        data_dir: Path | None = None,
        port: int = 0,
        host: str = "127.0.0.1",
        import_rate: float = 1.0,
        closed_registration: bool = False,
        admin_password: str | None = None,
        audio_serving: str = "direct",
        ready_timeout_s: float = 30.0,
        mode: str | None = None,
        stack: dict[str, Any] | None = None,
    ) -> None:
        """`stack`: `StackOptions` fields for ``mode="stack"``, e.g. ``{"limits": "k8s", "own_postgres": True}``."""
        self.ready_timeout_s = ready_timeout_s
        self.mode = mode or os.environ.get(MODE_ENV) or "embedded"
        self._stack_argv, self._stack_env, stack_options = _stack_arguments(self.mode, stack)
        if stack_options is not None:
            self.ready_timeout_s = max(ready_timeout_s, stack_options.ready_timeout_s + STACK_READY_MARGIN_S)
        self.stack_description: dict[str, Any] | None = None
        self._argv = [
            sys.executable,
            "-m",
            "fwload.standin",
            "--host",
            host,
            "--import-rate",
            str(import_rate),
            "--audio-serving",
            audio_serving,
        ]
        if closed_registration:
            self._argv.append("--closed-registration")
        self._port = port
        self._data_dir = data_dir
        self._owned_data_dir: Path | None = None
        self._admin_password = admin_password
        self._secret_key = secrets.token_urlsafe(48)
        self._lock = threading.RLock()
        self._schedule: LifecycleSchedule | None = None
        self.restarts = 0
        self._process: subprocess.Popen[str] | None = None
        self._lifeline: Lifeline | None = None
        self._stderr_tail: collections.deque[str] = collections.deque(maxlen=40)
        self._ready = threading.Event()
        self._readers: list[threading.Thread] = []
        self.url: str = ""
        self.admin: AdminCredential | None = None

    @property
    def pid(self) -> int:
        if self._process is None:
            raise RuntimeError("the stand-in is not started")
        return self._process.pid

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def component_pids(self) -> dict[str, int]:
        """Component -> root PID for the processes collector (``{"standin": pid}`` when embedded)."""
        if self.stack_description is None:
            return {"standin": self.pid}
        components = self.stack_description["components"]
        return {name: c["pid"] for name, c in components.items() if c["pid"] is not None}

    @property
    def cgroups(self) -> dict[str, str]:
        """Component -> cgroup path (relative to each controller's root) of a confined stack."""
        components = (self.stack_description or {}).get("components", {})
        return {name: c["cgroup"] for name, c in components.items() if c.get("cgroup")}

    @property
    def findings(self) -> list[dict[str, Any]]:
        """What the limits did during start-up: ``{component, kind, detail, ts, count}``."""
        return list((self.stack_description or {}).get("findings", []))

    @property
    def notices(self) -> list[str]:
        return list((self.stack_description or {}).get("notices", []))

    @property
    def api_url(self) -> str:
        """The API itself, behind nginx (stack mode; the same as `url` when embedded)."""
        return (self.stack_description or {}).get("api_url") or self.url

    def stderr_tail(self) -> str:
        """The last lines the server wrote on stderr (warnings, errors), for diagnostics."""
        return "\n".join(self._stderr_tail)

    def start(self) -> Self:
        """Start the server and wait until it serves; its data directory is ours to remove if none was given."""
        with self._lock:
            if self._data_dir is None:
                self._data_dir = self._owned_data_dir = Path(tempfile.mkdtemp(prefix="fwload-standin-"))
            try:
                self._spawn(keep_faults=False)
            except BaseException:
                self.stop()
                raise
        return self

    def _spawn(self, *, keep_faults: bool) -> None:
        self._ready.clear()
        self.url, self.admin = "", None
        argv = [*self._argv, "--port", str(self._port), "--data", str(self._data_dir), "--mode", self.mode,
                *self._stack_argv]
        if keep_faults:
            argv.append("--keep-faults")
        if self._owned_data_dir is not None:
            argv.append("--temporary-data")
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(Path(fwload.__file__).resolve().parent.parent), env.get("PYTHONPATH")])
        )
        env.pop(ADMIN_PASSWORD_ENV, None)
        if self._admin_password:
            env[ADMIN_PASSWORD_ENV] = self._admin_password
        env[SECRET_KEY_ENV] = self._secret_key
        env.update(self._stack_env)
        self._lifeline = Lifeline()
        self._process = self._lifeline.spawn(
            argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            env=env,
            start_new_session=True,
        )
        assert self._process.stdout is not None and self._process.stderr is not None
        self._readers = [
            threading.Thread(target=self._read_stdout, args=(self._process.stdout,), daemon=True),
            threading.Thread(target=self._read_stderr, args=(self._process.stderr,), daemon=True),
        ]
        for reader in self._readers:
            reader.start()
        deadline = time.monotonic() + self.ready_timeout_s
        while not self._ready.wait(0.05):
            if self._process.poll() is not None or time.monotonic() > deadline:
                self._halt(STOP_TIMEOUT_S)
                raise NotReadyError(
                    "the local stand-in did not start"
                    + (f":\n{self.stderr_tail()}" if self._stderr_tail else ""),
                    "run `fwload standin` by hand to see why",
                )
        self._port = urlsplit(self.url).port or self._port
        if self.admin is not None:
            self._admin_password = self.admin.password.get_secret_value()
        write_atomic(self.pids_file, json.dumps(self.component_pids))

    @property
    def pids_file(self) -> Path:
        """Component -> root PID as JSON, rewritten at every (re)start, so a collector follows restarts."""
        assert self._data_dir is not None, "the stand-in is not started"
        return self._data_dir / PIDS_FILE

    def restart(self, down_s: float) -> None:
        """The API restarting: SIGTERM (in-flight requests finish, new connections are refused), ``down_s``
        seconds with nothing listening, then a new process on the same port, data and faults. A stack
        restarts its ``api`` component alone (`fwload.standin.stack.stack.Stack.restart_api`)."""
        with self._lock:
            if self._process is None:
                raise RuntimeError("the stand-in is not started")
            if self.mode == "stack":
                self._restart_stack_api(down_s)
                return
            self._halt(STOP_TIMEOUT_S)
            time.sleep(down_s)
            for attempt in range(RESTART_ATTEMPTS):
                try:
                    self._spawn(keep_faults=True)
                    break
                except NotReadyError:
                    if attempt == RESTART_ATTEMPTS - 1:
                        raise
                    time.sleep(0.5)
            self.restarts += 1

    def _restart_stack_api(self, down_s: float) -> None:
        """Ask the stack; then name the new API PID to the collector, even when it did not get ready."""
        assert self._process is not None and self._data_dir is not None
        timeout_s = down_s + self.ready_timeout_s + 2 * STOP_TIMEOUT_S
        answer = ask_api_restart(self._process.pid, self._data_dir, down_s, timeout_s=timeout_s,
                                 alive=lambda: self.running)
        if answer.get("description"):
            self.stack_description = answer["description"]
            write_atomic(self.pids_file, json.dumps(self.component_pids))
        if answer.get("error"):
            raise NotReadyError(f"the api did not restart: {answer['error']}",
                                "run `fwload standin --mode stack` by hand to see why")
        self.restarts += 1

    restart_api = restart
    """`fwload.standin.faults.lifecycle.FaultTarget`: what a scheduled restart calls."""

    def kill_import_worker(self) -> str:
        """The worker fault's outside half: stack mode SIGKILLs the Celery worker's process group, as an
        OOM kill does; embedded, the import thread is inside the server and the in-process fault stops it."""
        pid = self.component_pids.get("celery-worker") if self.mode == "stack" else None
        if pid is None:
            return "the import thread stops working (in-process)"
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            return f"celery-worker (pid {pid}) was already gone"
        return f"celery-worker process group {pid} killed"

    def fault_admin(self) -> FaultAdmin:
        """The admin endpoints of this stand-in (arm faults, read what it received), on the API itself:
        nginx does not proxy ``/_fwload/`` in stack mode."""
        if self.admin is None:
            raise RuntimeError("the stand-in is not started")
        return FaultAdmin(self.api_url, self.admin.username, self.admin.password)

    def arm_faults(
        self, plan: Faults, on_event: Callable[[Happened], None] | None = None
    ) -> LifecycleSchedule:
        """Put ``plan`` in force from now: the server's own part through its admin endpoint, the
        restarts on a timer here; ``on_event`` hears of each restart once done."""
        self.fault_admin().arm(plan)
        with self._lock:
            if self._schedule is not None:
                self._schedule.cancel()
            self._schedule = LifecycleSchedule(plan, self, on_event).start()
            return self._schedule

    def _read_stdout(self, stream: IO[str]) -> None:
        for line in stream:
            text = line.rstrip("\n")
            if text.startswith(READY_PREFIX):
                self.url = text.removeprefix(READY_PREFIX).strip()
            elif text.startswith(STACK_PREFIX):
                self.stack_description = json.loads(text.removeprefix(STACK_PREFIX))
            elif text.startswith(ADMIN_PREFIX):
                username, _, password = text.removeprefix(ADMIN_PREFIX).partition(":")
                self.admin = AdminCredential(username, SecretStr(password))
            if self.url and self.admin is not None:
                self._ready.set()

    def _read_stderr(self, stream: IO[str]) -> None:
        for line in stream:
            self._stderr_tail.append(line.rstrip("\n"))

    def stop(self, timeout_s: float = STOP_TIMEOUT_S) -> int | None:
        """SIGTERM, then SIGKILL after `timeout_s`; returns the exit code."""
        schedule, self._schedule = self._schedule, None
        if schedule is not None:
            schedule.cancel()
        with self._lock:
            code = self._halt(max(timeout_s, STACK_STOP_TIMEOUT_S) if self.mode == "stack" else timeout_s)
            if self._owned_data_dir is not None:
                shutil.rmtree(self._owned_data_dir, ignore_errors=True)
                self._owned_data_dir = self._data_dir = None
            return code

    def _halt(self, timeout_s: float) -> int | None:
        process = self._process
        if process is None:
            return None
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout_s)
        for reader in self._readers:
            reader.join(timeout_s)
        if self._lifeline is not None:
            self._lifeline.cut()
        return process.returncode

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()


def _stack_arguments(mode: str, values: dict[str, Any] | None
                     ) -> tuple[list[str], dict[str, str], StackOptions | None]:
    """Flags (and, for URLs that may hold a password, environment variables) for the stack
    options given; the others come from the caller's environment or the defaults."""
    if mode != "stack":
        if values:
            raise UsageError("stack options need mode='stack'", "pass mode='stack' or no stack options")
        return [], {}, None
    options = build_options(**(values or {}))
    flags = {"api_workers": "--api-workers", "worker_concurrency": "--worker-concurrency", "limits": "--limits",
             "ready_timeout_s": "--ready-timeout", "beat_interval_s": "--beat-interval",
             "task_memory_mb": "--task-memory"}
    secret = {"database_url": DATABASE_URL_ENV, "redis_url": REDIS_URL_ENV}
    argv: list[str] = []
    env: dict[str, str] = {}
    for name in sorted(options.model_fields_set):
        value = getattr(options, name)
        if name == "own_postgres":
            argv += ["--own-postgres"] if value else []
        elif name == "limit_overrides":
            for override in value:
                argv += ["--limit", override]
        elif name in secret:
            if value is not None:
                env[secret[name]] = str(value)
        elif value is not None:
            argv += [flags[name], str(value)]
    return argv, env, options
