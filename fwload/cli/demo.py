"""``fwload demo``: the whole product in about two minutes, with nothing to set up."""

from __future__ import annotations

from pathlib import Path

import typer

from fwload.cli.app import app, console, handles_errors, stdout_line
from fwload.errors import UsageError
from fwload.fixtures import ensure_fixtures
from fwload.launch.interrupt import sigterm_interrupts
from fwload.launch.run import RunRequest, run
from fwload.status import ExitStatus
from fwload.units import parse_duration

DEMO_SCENARIO = Path(__file__).resolve().parents[2] / "scenarios" / "upload-and-play.yaml"
MIN_DURATION_S = 10.0
DEMO_OVERRIDES = {
    "target": {"host": None},
    # Untagged files stay pending forever on real 1.4: give up in time to see them in a 1-minute demo.
    "users": [
        {"class": "Listener", "weight": 2, "options": {"skip_ratio": 0.2, "seek_ratio": 0.05}},
        {"class": "Uploader", "weight": 1, "options": {"import_timeout": 15, "bad_files": 0.1}},
    ],
}


@app.command("demo")
@handles_errors
def demo_command(
    out: Path = typer.Option(Path("reports"), "--out", help="Folder for the run directory"),
    duration: str = typer.Option("1m", "--duration", help="Length of the load (at least 10s), e.g. 90s or 2m"),
    users: int = typer.Option(None, "--users", help="Users (2 listeners per uploader); default: the scenario's 6"),
    spawn_rate: float = typer.Option(None, "--spawn-rate", help="Users started per second; default: the scenario's"),
    stack: bool = typer.Option(
        False, "--stack", help="Run the stand-in in stack mode: nginx, gunicorn, PostgreSQL, Redis, Celery "
        "(needs nginx and redis-server, and PostgreSQL on 127.0.0.1:5432; see `fwload standin --help`)",
    ),
) -> None:
    """Start the local stand-in, run the upload-and-play mix for a minute, write the report."""
    _check_duration(duration)
    where = "the stack-mode stand-in" if stack else "a local stand-in"
    console.print(f"[bold]fwload demo[/]: upload-and-play against {where} of Funkwhale 1.4")
    with console.status("generating audio fixtures…"):
        ensure_fixtures("fixtures/audio")
    standin_options = {"mode": "stack" if stack else "embedded"}
    with sigterm_interrupts():
        result = run(RunRequest(scenario=DEMO_SCENARIO, out=out, collector="auto", overrides=DEMO_OVERRIDES,
                                duration=duration, users=users, spawn_rate=spawn_rate,
                                standin_options=standin_options), console)
    if result.analysis is not None:
        from analysis.writers.terminal import terminal_summary

        console.print(terminal_summary(result.analysis))
    console.print(f"report: {result.run_dir / 'report.html'}")
    stdout_line(str(result.run_dir))
    if result.status in (ExitStatus.INTERRUPTED, ExitStatus.TERMINATED):
        raise typer.Exit(code=int(result.status))


def _check_duration(text: str) -> None:
    """The demo needs some load to show anything: at least `MIN_DURATION_S`."""
    try:
        seconds = parse_duration(text)
    except ValueError as error:
        raise UsageError(f"--duration {text!r}: {error}", "give a duration such as 90s or 2m") from None
    if seconds < MIN_DURATION_S:
        raise UsageError(f"--duration {text} is too short for the demo", f"give {MIN_DURATION_S:g}s or more")
