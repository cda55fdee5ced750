"""The error funnel and stdout lines shared by the `fwload` CLI and ``python -m fwload.standin``.

A bad input ends in one message naming the problem and its fix and in the error's exit code,
whichever of the two entry points ran; stdout keeps only what scripts read.
"""

from __future__ import annotations

import functools
import signal
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import typer
from rich.console import Console

from fwload.errors import FwloadError
from fwload.status import ExitStatus

console = Console(stderr=True)
"""Progress and messages go to stderr; stdout keeps what scripts read (a run directory)."""

F = TypeVar("F", bound=Callable[..., Any])


def fail(error: FwloadError) -> typer.Exit:
    """Print one error with its fix and return the exit to raise."""
    console.print(f"[bold red]fwload: error:[/] {error.problem}", highlight=False)
    if error.fix:
        console.print(f"  [bold]fix:[/] {error.fix}", highlight=False)
    return typer.Exit(code=int(error.status))


def handles_errors(func: F) -> F:
    """Turn `FwloadError` into one message and its exit code; Ctrl-C into 130."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except FwloadError as error:
            raise fail(error) from None
        except KeyboardInterrupt as stop:
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the exit short
            console.print("fwload: interrupted")
            raise typer.Exit(code=int(getattr(stop, "status", ExitStatus.INTERRUPTED))) from None

    return wrapper  # type: ignore[return-value]


def stdout_line(text: str) -> None:
    """Write a line scripts can read (e.g. the run directory) to stdout."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()
