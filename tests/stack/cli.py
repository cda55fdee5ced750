"""``fwload standin --mode stack`` as a subprocess, read line by line with bounded waits."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from fwload.cli.standin import READY_PREFIX, STACK_PREFIX

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 120.0


class StackCli:
    """The stand-in command in its own process group, as a person starts it in a terminal."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "fwload.standin", "--mode", "stack", *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO,
            env={**os.environ, **(env or {})},
            start_new_session=True,
        )
        self.out: list[str] = []
        self.err: list[str] = []
        self._readers = [
            threading.Thread(target=self._read, args=(stream, lines), daemon=True)
            for stream, lines in ((self.process.stdout, self.out), (self.process.stderr, self.err))
        ]
        for reader in self._readers:
            reader.start()

    @staticmethod
    def _read(stream: Any, lines: list[str]) -> None:
        for line in stream:
            lines.append(line.rstrip("\n"))

    def wait_for(self, condition: Any, timeout_s: float = START_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout_s
        while not condition():
            if self.process.poll() is not None:
                time.sleep(0.2)
                if condition():
                    return
                raise AssertionError(f"fwload standin exited ({self.process.returncode}):\n" + self.stderr)
            if time.monotonic() > deadline:
                raise AssertionError(f"gave up after {timeout_s} s:\n" + self.stderr)
            time.sleep(0.05)

    @property
    def stderr(self) -> str:
        return "\n".join(self.err)

    @property
    def stack_id(self) -> str | None:
        for line in self.err:
            match = re.search(r"starting stack (\w+)", line)
            if match:
                return match.group(1)
        return None

    def ready(self) -> dict[str, Any]:
        """Wait for the ready line; the stack's description."""
        self.wait_for(lambda: any(line.startswith(READY_PREFIX) for line in self.out))
        line = next(line for line in self.out if line.startswith(STACK_PREFIX))
        return json.loads(line.removeprefix(STACK_PREFIX))

    def interrupt(self, signum: int = signal.SIGINT, timeout_s: float = 90.0) -> int:
        """Ctrl-C: SIGINT to the stand-in's process group, as a terminal sends it to its foreground job."""
        os.killpg(self.process.pid, signum)
        code = self.process.wait(timeout_s)
        for reader in self._readers:
            reader.join(10)
        return code

    def kill(self) -> None:
        """After a failed check: SIGTERM first, so the stand-in still cleans up; SIGKILL only if it hangs
        (a killed stand-in takes its components' roots with it, not their workers or cgroups)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(90)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(30)
