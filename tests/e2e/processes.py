"""A command's process tree, waiting for it to be gone, and running a command on a terminal (a pty)."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from tests.e2e.helpers import REPO

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def descendants(pid: int) -> list[psutil.Process]:
    """Every process below ``pid`` now (children in sessions of their own included)."""
    return psutil.Process(pid).children(recursive=True)


def alive(processes: list[psutil.Process]) -> list[psutil.Process]:
    """Those still running: a zombie is dead, and a PID reused since is another process."""
    left = []
    for process in processes:
        try:
            if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                left.append(process)
        except psutil.NoSuchProcess:
            continue
    return left


def wait_until(what: str, done: Callable[[], bool], deadline_s: float, every_s: float = 0.05) -> float:
    """Poll until ``done()``; the seconds it took, or an AssertionError naming ``what`` at the deadline."""
    start = time.monotonic()
    while not done():
        if time.monotonic() - start > deadline_s:
            raise AssertionError(f"{what}: not within {deadline_s:g} s")
        time.sleep(every_s)
    return time.monotonic() - start


def progress_requests(out: Path) -> int:
    """Requests counted in the run's progress.json so far (0 before the load)."""
    for path in out.glob("*/progress.json"):
        try:
            return int(json.loads(path.read_text())["requests"])
        except (OSError, ValueError, KeyError):
            return 0
    return 0


def data_dir_of(processes: list[psutil.Process]) -> Path | None:
    """The ``--data`` folder of the stand-in among ``processes``."""
    for process in processes:
        command = process.cmdline()
        if "fwload.standin" in command and "--data" in command:
            return Path(command[command.index("--data") + 1])
    return None


@dataclass
class Terminal:
    """A command whose controlling terminal is a pty: typing Ctrl-C signals its foreground group."""

    pid: int
    master: int
    output: bytearray = field(default_factory=bytearray)
    returncode: int | None = None

    @classmethod
    def start(cls, argv: list[str], env: dict[str, str] | None = None) -> Terminal:
        child_env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "160", "TERM": "xterm", **(env or {})}
        pid, master = pty.fork()
        if pid == 0:  # the child: the pty is its controlling terminal and stdin/stdout/stderr
            try:
                os.chdir(REPO)
                os.execvpe(argv[0], argv, child_env)
            finally:
                os._exit(127)
        return cls(pid, master)

    def read(self, timeout_s: float = 0.2) -> str:
        while select.select([self.master], [], [], timeout_s)[0]:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            self.output += chunk
            timeout_s = 0
        return self.text

    @property
    def text(self) -> str:
        """What the terminal showed, without colours and cursor moves."""
        return ANSI.sub("", self.output.decode("utf-8", "replace"))

    def wait_for(self, needle: str, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while needle not in self.read():
            if time.monotonic() > deadline:
                raise AssertionError(f"{needle!r} never shown; the terminal showed:\n{self.text[-3000:]}")

    def type(self, keys: bytes) -> None:
        os.write(self.master, keys)

    def exit_code(self, timeout_s: float) -> int:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            self.read()
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.read()
                self.returncode = os.waitstatus_to_exitcode(status)
                return self.returncode
        raise AssertionError(f"still running after {timeout_s:g} s:\n{self.text[-3000:]}")

    def kill(self) -> None:
        """SIGKILL the command if it still runs (it has not been reaped, so its PID is still its own)."""
        if self.returncode is None:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
            self.returncode = -signal.SIGKILL
        os.close(self.master)
