"""The typer application every subcommand module registers on, and the error funnel."""

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

app = typer.Typer(
    name="fwload",
    help="Load tests and capacity reports for Funkwhale on Kubernetes (built on Locust).",
    add_completion=False,
    pretty_exceptions_enable=False,
)


def version_line() -> str:
    """fwload's version and Locust's, read from the installed packages (importing Locust patches the network)."""
    from importlib.metadata import PackageNotFoundError, version

    import fwload

    try:
        locust = version("locust")
    except PackageNotFoundError:
        locust = "not installed"
    return f"fwload {fwload.__version__} (Locust {locust}, Python {sys.version.split()[0]})"


def _show_version(value: bool) -> None:
    if value:
        stdout_line(version_line())
        raise typer.Exit()


@app.callback(invoke_without_command=True)
def fwload_main(
    ctx: typer.Context,
    version: bool = typer.Option(False, "--version", is_eager=True, callback=_show_version,
                                 help="Print fwload's version (and Locust's) and exit."),
) -> None:
    """Load tests and capacity reports for Funkwhale on Kubernetes (built on Locust).

    Without a command it prints this help and exits 0: nothing was asked, nothing failed
    (exit 1 means a broken SLO, 2 bad input).
    """
    if ctx.invoked_subcommand is None:
        stdout_line(ctx.get_help())
        raise typer.Exit()


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
