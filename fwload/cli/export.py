"""``fwload export --csv RUN_DIR``: a run directory's tables as CSV files, for tools that want CSV."""

from __future__ import annotations

from pathlib import Path

import typer

from fwload.cli.app import app, console, handles_errors, stdout_line
from fwload.errors import UsageError


@app.command()
@handles_errors
def export(
    run_dir: Path = typer.Argument(..., help="A run directory written by `fwload run` (reports/<run-id>/)."),
    csv: bool = typer.Option(False, "--csv", help="Write every table as <table>.csv (the only format for now)."),
    out: Path | None = typer.Option(
        None, "--out", "-o",
        help="Write a complete CSV-layout run directory (fwload-run/1) there instead of the CSV files "
             "beside the Parquet ones.",
    ),
) -> None:
    """Export the measurement tables (requests, imports, streams, resources) as CSV.

    The files have the columns of `fwload/recording/schema.py`, a header line, empty fields
    for unknown values. Prints the folder written on stdout.
    """
    if not csv:
        raise UsageError("fwload export needs a format", "add --csv: fwload export --csv RUN_DIR")
    from fwload.recording.export import export_csv

    written = export_csv(run_dir, out)
    for path in written:
        console.print(f"  wrote {path}", highlight=False)
    stdout_line(str(out or run_dir))
