"""Start the stand-in in a subprocess, wait until it serves, stop it cleanly.

The demo and the tests use this: the server runs apart from the caller (its own PID for
the resource collector to sample, and no Locust/gevent patching can reach it), and the
caller gets the URL and the admin credential it printed. The admin password travels by
environment variable (not argv, which every local user can read) and is kept as a
`SecretStr`.
"""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Self

from pydantic import SecretStr

import fwload
from fwload.cli.standin import ADMIN_PASSWORD_ENV, ADMIN_PREFIX, READY_PREFIX
from fwload.errors import NotReadyError

STOP_TIMEOUT_S = 10.0


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
    ) -> None:
        self.ready_timeout_s = ready_timeout_s
        self._argv = [
            sys.executable,
            "-m",
            "fwload.standin",
            "--port",
            str(port),
            "--host",
            host,
            "--import-rate",
            str(import_rate),
            "--audio-serving",
            audio_serving,
        ]
        if data_dir is not None:
            self._argv += ["--data", str(data_dir)]
        if closed_registration:
            self._argv.append("--closed-registration")
        self._admin_password = admin_password
        self._process: subprocess.Popen[str] | None = None
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

    def stderr_tail(self) -> str:
        """The last lines the server wrote on stderr (warnings, errors), for diagnostics."""
        return "\n".join(self._stderr_tail)

    def start(self) -> Self:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(Path(fwload.__file__).resolve().parent.parent), env.get("PYTHONPATH")])
        )
        env.pop(ADMIN_PASSWORD_ENV, None)
        if self._admin_password:
            env[ADMIN_PASSWORD_ENV] = self._admin_password
        self._process = subprocess.Popen(
            self._argv,
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
                self.stop()
                raise NotReadyError(
                    "the local stand-in did not start"
                    + (f":\n{self.stderr_tail()}" if self._stderr_tail else ""),
                    "run `fwload standin` by hand to see why",
                )
        return self

    def _read_stdout(self, stream: IO[str]) -> None:
        for line in stream:
            text = line.rstrip("\n")
            if text.startswith(READY_PREFIX):
                self.url = text.removeprefix(READY_PREFIX).strip()
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
        return process.returncode

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()
