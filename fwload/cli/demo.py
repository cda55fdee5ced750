"""``fwload demo``: the whole product in about two minutes, with nothing to set up."""

from __future__ import annotations

from pathlib import Path

import typer

from fwload.cli.app import app, console, handles_errors, stdout_line
from fwload.fixtures import ensure_fixtures
from fwload.launch.run import RunRequest, run

DEMO_SCENARIO = Path(__file__).resolve().parents[2] / "scenarios" / "upload-and-play.yaml"
DEMO_OVERRIDES = {
    "target": {"host": None},
    "load": {"duration": 60},
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
    duration: int = typer.Option(60, "--duration", min=10, help="Seconds of load"),
    stack: bool = typer.Option(
        False, "--stack", help="Run the stand-in in stack mode: nginx, gunicorn, PostgreSQL, Redis, Celery "
        "(needs nginx and redis-server, and PostgreSQL on 127.0.0.1:5432; see `fwload standin --help`)",
    ),
) -> None:
    """Start the local stand-in, run the upload-and-play mix for a minute, write the report."""
    where = "the stack-mode stand-in" if stack else "a local stand-in"
    console.print(f"[bold]fwload demo[/]: upload-and-play against {where} of Funkwhale 1.4")
    with console.status("generating audio fixtures…"):
        ensure_fixtures("fixtures/audio")
    overrides = {**DEMO_OVERRIDES, "load": {"duration": duration}}
    standin_options = {"mode": "stack" if stack else "embedded"}
    result = run(RunRequest(scenario=DEMO_SCENARIO, out=out, collector="auto", overrides=overrides,
                            standin_options=standin_options), console)
    if result.analysis is not None:
        from analysis.writers.terminal import terminal_summary

        console.print(terminal_summary(result.analysis))
    console.print(f"report: {result.run_dir / 'report.html'}")
    stdout_line(str(result.run_dir))
