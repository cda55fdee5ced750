"""The typer application every subcommand module registers on, and the error funnel (`fwload.common.terminal`)."""

from __future__ import annotations

import sys

import typer

from fwload.common.terminal import console, fail, handles_errors, stdout_line  # noqa: F401  (the CLI's funnel)

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


