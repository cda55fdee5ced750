"""SIGTERM read like Ctrl-C, so a cancelled CI job or a stopped pod ends a run as cleanly as a person.

Both raise `Interrupted` (a `KeyboardInterrupt`) in the main thread; whoever started
children stops them on the way out, and the command exits 130 (Ctrl-C) or 143 (SIGTERM).
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator
from types import FrameType

from fwload.status import ExitStatus


class Interrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM; `status` is the exit code the command ends with."""

    def __init__(self, status: ExitStatus = ExitStatus.INTERRUPTED):
        super().__init__(status.name.lower())
        self.status = status


def exit_status(interruption: BaseException) -> ExitStatus:
    """130 for a plain Ctrl-C, 143 for SIGTERM."""
    return getattr(interruption, "status", ExitStatus.INTERRUPTED)


def describe(interruption: BaseException) -> str:
    return "SIGTERM" if exit_status(interruption) == ExitStatus.TERMINATED else "Ctrl-C"


@contextlib.contextmanager
def sigterm_interrupts() -> Iterator[None]:
    """Within the block, SIGTERM raises `Interrupted` (exit 143) as Ctrl-C raises KeyboardInterrupt."""

    def interrupt(_signum: int, _frame: FrameType | None) -> None:
        raise Interrupted(ExitStatus.TERMINATED)

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
