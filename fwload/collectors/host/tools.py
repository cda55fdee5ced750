"""Running the host's own tools (``systemctl``, ``docker``, ``podman``) with a deadline.

The host backend asks them once per sample for all components of a kind (never once per
component), so a slow or absent daemon costs one bounded call, reported as a gap.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass

TIMEOUT_S = 10.0


class HostToolError(Exception):
    """A tool is missing, timed out or answered with an error (the message says which and why)."""


@dataclass(frozen=True)
class Answer:
    code: int
    stdout: str
    stderr: str

    def first_error_line(self) -> str:
        lines = [line.strip() for line in self.stderr.splitlines() if line.strip()]
        return lines[0] if lines else f"exit code {self.code}"


def run_tool(argv: list[str], *, timeout_s: float = TIMEOUT_S) -> Answer:
    """Run ``argv`` (looked up on PATH); HostToolError when it is not installed or hangs."""
    program = shutil.which(argv[0])
    if program is None:
        raise HostToolError(f"{argv[0]} is not installed here (not on PATH)")
    try:
        done = subprocess.run([program, *argv[1:]], capture_output=True, text=True, timeout=timeout_s,
                              stdin=subprocess.DEVNULL, check=False)
    except subprocess.TimeoutExpired:
        raise HostToolError(f"`{' '.join(argv[:2])}` did not answer within {timeout_s:g} s") from None
    except OSError as error:
        raise HostToolError(f"cannot run {argv[0]}: {error.strerror or error}") from None
    return Answer(done.returncode, done.stdout, done.stderr)
