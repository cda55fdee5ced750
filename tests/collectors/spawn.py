"""Child processes for the processes-backend tests, driven over pipes with bounded waits."""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import sys
import textwrap
import time
import uuid

import psutil
import pytest

from fwload.common.cgroups import Cgroup, cgroups_writable, create_cgroup, remove_cgroup

needs_cgroups = pytest.mark.skipif(
    not cgroups_writable(),
    reason="cgroups are not writable here (needs root and a read-write cgroup mount), so OOM kills and "
           "throttling inside a real cgroup cannot be provoked on this machine",
)


class Child:
    """A Python child process driven line by line over its stdin/stdout (bounded waits)."""

    def __init__(self, code: str, **popen):
        self.proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, bufsize=0, **popen)
        self.pid = self.proc.pid
        self._buffer = b""

    def send(self, line: str = "go") -> None:
        self.proc.stdin.write(line.encode() + b"\n")

    def line(self, timeout_s: float = 20.0) -> str:
        while b"\n" not in self._buffer:
            ready, _, _ = select.select([self.proc.stdout], [], [], timeout_s)
            if not ready:
                raise AssertionError(f"child {self.pid} said nothing for {timeout_s} s")
            chunk = os.read(self.proc.stdout.fileno(), 4096)
            if not chunk:
                raise AssertionError(f"child {self.pid} exited: {self.proc.wait(5)}")
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return line.decode()

    def stop(self) -> None:
        """Stop the parent first (so it respawns no worker meanwhile), then kill its tree and it."""
        try:
            parent = psutil.Process(self.pid)
            parent.suspend()
            for process in parent.children(recursive=True):
                process.kill()
        except psutil.Error:
            pass
        self.proc.kill()
        self.proc.wait(10)
        self.proc.stdin.close()
        self.proc.stdout.close()


def start(children: list[Child], code: str, **popen) -> Child:
    child = Child(code, **popen)
    children.append(child)
    return child


class StepClock:
    """Sample times chosen by the test, so CPU seconds can be recovered exactly from millicores."""

    def __init__(self, *times: float):
        self.times = list(times)

    def __call__(self) -> float:
        return self.times.pop(0)


class CgroupMaker:
    """``maker(memory_limit_bytes=..., cpu_limit_m=...)`` makes a fresh cgroup; `remove_all` kills what
    is left inside each and removes them."""

    def __init__(self) -> None:
        self.made: list[Cgroup] = []

    def __call__(self, **limits) -> Cgroup:
        cgroup = create_cgroup(f"fwload-test-{uuid.uuid4().hex[:10]}", **limits)
        self.made.append(cgroup)
        return cgroup

    def remove_all(self) -> None:
        for cgroup in self.made:
            for _ in range(100):  # kill what is left inside, then wait for the kernel to let the cgroup go
                listed = [(d / "cgroup.procs").read_text() for d in cgroup.directories() if d.is_dir()]
                for pid in {int(p) for text in listed for p in text.split()}:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                try:
                    remove_cgroup(cgroup)
                    break
                except OSError:
                    time.sleep(0.05)
            assert not cgroup.exists(), f"could not remove {cgroup}"
