"""Errors that end a command with one readable message.

Each error names the problem and the way out (`fix`). The CLI prints
``fwload: error: <problem>`` and, on the next line, the fix; the exit code comes from
`status`. Library code raises these instead of printing, so the same failure reads the
same from the CLI, from the Locust plugin and from tests.
"""

from __future__ import annotations

from fwload.status import ExitStatus


class FwloadError(Exception):
    """A failure the user can act on."""

    status: ExitStatus = ExitStatus.USAGE_ERROR

    def __init__(self, problem: str, fix: str | None = None, *, status: ExitStatus | None = None):
        super().__init__(problem)
        self.problem = problem
        self.fix = fix
        if status is not None:
            self.status = status

    def __str__(self) -> str:
        return f"{self.problem}\n  fix: {self.fix}" if self.fix else self.problem


class UsageError(FwloadError):
    """Bad options, files or scenarios."""


class TargetError(FwloadError):
    """The target cannot be used: unreachable, wrong credentials, registration closed."""


class NotReadyError(FwloadError):
    """The target (or one of its components) never became ready within the deadline."""

    status = ExitStatus.NOT_READY


class RunDirectoryError(FwloadError):
    """A run directory is missing, empty, foreign or unreadable."""
