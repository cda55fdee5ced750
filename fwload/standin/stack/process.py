"""One component as a process group: started through the cgroup wrapper, watched, stopped.

Each component gets its own session (its session and process group id are its root PID,
and Ctrl-C on the stand-in's terminal reaches only the stand-in, which then stops the
components in order), the labels ``FWLOAD_STACK``/``FWLOAD_COMPONENT`` in its environment
(nginx, Redis and PostgreSQL's backends overwrite theirs with their process titles: their
session still finds them), and a pipe for its output, of which the last lines are kept in
memory for error messages; nothing is written to disk, since logs may carry request details.
"""

from __future__ import annotations

import collections
import os
import re
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from fwload.common.cgroups import Cgroup
from fwload.standin.stack.environment import COMPONENT_LABEL_ENV, STACK_LABEL_ENV

WRAPPER = Path(__file__).resolve().with_name("exec_in_cgroup.py")
TAIL_LINES = 60


@dataclass
class ComponentCommand:
    """What to run for one component, and how it asks to be stopped."""

    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path | None = None
    user: str | None = None
    pass_fds: tuple[int, ...] = ()
    stop_signal: int = signal.SIGTERM
    ready_patterns: tuple[str, ...] = ()
    """Output lines to wait for (each at least ``count`` times, see `ready_counts`)."""
    ready_counts: dict[str, int] = field(default_factory=dict)


class ComponentProcess:
    """A running component: ``pid`` (its root, also its process group), output tail, stop."""

    def __init__(self, command: ComponentCommand, *, stack_id: str, cgroup: Cgroup | None) -> None:
        self.command = command
        self.name = command.name
        self.cgroup = cgroup
        self._stack_id = stack_id
        self._process: subprocess.Popen[bytes] | None = None
        self._tail: collections.deque[str] = collections.deque(maxlen=TAIL_LINES)
        self._matches: collections.Counter[str] = collections.Counter()
        self._patterns = {p: re.compile(p) for p in command.ready_patterns}
        self._lock = threading.Lock()
        self._reader: threading.Thread | None = None

    def start(self) -> None:
        wrapper = [sys.executable, "-I", "-S", str(WRAPPER), "--parent", str(os.getpid())]
        if self.cgroup is not None:
            for directory in self.cgroup.directories():
                wrapper += ["--join", str(directory / "cgroup.procs")]
        if self.command.user:
            wrapper += ["--user", self.command.user]
        env = {
            **os.environ,
            **self.command.env,
            STACK_LABEL_ENV: self._stack_id,
            COMPONENT_LABEL_ENV: self.name,
        }
        self._process = subprocess.Popen(
            [*wrapper, "--", *self.command.argv],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            cwd=self.command.cwd,
            env=env,
            pass_fds=self.command.pass_fds,
            start_new_session=True,
        )
        self._reader = threading.Thread(
            target=self._read, args=(self._process.stdout,), daemon=True, name=f"stack-{self.name}-output"
        )
        self._reader.start()

    @property
    def pid(self) -> int:
        if self._process is None:
            raise RuntimeError(f"{self.name} is not started")
        return self._process.pid

    @property
    def started(self) -> bool:
        return self._process is not None

    def exit_code(self) -> int | None:
        """None while it runs; negative = killed by that signal."""
        return None if self._process is None else self._process.poll()

    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def matched(self, pattern: str) -> int:
        with self._lock:
            return self._matches[pattern]

    def output_ready(self) -> bool:
        """Every ready pattern seen as often as asked."""
        return all(
            self.matched(p) >= self.command.ready_counts.get(p, 1) for p in self.command.ready_patterns
        )

    def tail(self, lines: int = 12) -> str:
        with self._lock:
            return "\n".join(list(self._tail)[-lines:])

    def _read(self, stream: IO[bytes]) -> None:
        for raw in stream:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            with self._lock:
                self._tail.append(line)
                for pattern, regex in self._patterns.items():
                    if regex.search(line):
                        self._matches[pattern] += 1
        stream.close()

    def stop(self, timeout_s: float) -> None:
        """The component's own stop signal to its group, SIGKILL to the group after `timeout_s`."""
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            _signal_group(process.pid, self.command.stop_signal)
            try:
                process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                pass
        _signal_group(process.pid, signal.SIGKILL)
        if process.poll() is None:
            process.kill()
        process.wait(timeout_s)
        if self._reader is not None:
            self._reader.join(timeout_s)


def _signal_group(pgid: int, signum: int) -> None:
    try:
        os.killpg(pgid, signum)
    except (ProcessLookupError, PermissionError):
        pass
