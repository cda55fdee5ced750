"""``fwload report`` and ``fwload compare``: verdicts and reports from run directories alone."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from fwload.cli.app import app, console, handles_errors, stdout_line


def _results() -> Console:
    """Comparison tables are the command's result, so they go to stdout; piped, they keep their width."""
    return Console() if sys.stdout.isatty() else Console(width=140)


FORMATS = ("html", "json", "junit", "markdown")
"""The names in `analysis.writers` (a test keeps them equal); spelled here so that `fwload --help`
does not import pandas and matplotlib."""


@app.command()
@handles_errors
def report(
    run_dir: Path = typer.Argument(..., help="A run directory written by `fwload run` (reports/<run-id>/)."),
    formats: list[str] | None = typer.Option(
        None,
        "--format",
        "-f",
        help=f"Write only this report (repeatable): {', '.join(FORMATS)}. Default: all.",
    ),
    window: float | None = typer.Option(
        None,
        "--window",
        min=1,
        help="Width of the time windows in seconds (default: chosen for about 100 windows).",
    ),
) -> None:
    """(Re)build verdict.json, junit.xml, summary.md, report.html and recommendations/ of a run.

    Exits with the verdict: 0 all checks passed, 1 SLO broken, 3 resource check broken,
    4 target not ready or a component dead before the load, 5 incomplete run (interrupted,
    killed, or its files cut short), 2 refused before the load (as `fwload run` said);
    precedence 2 > 4 > 5 > 1 > 3.
    """
    from analysis.outputs import build_outputs
    from analysis.writers.terminal import terminal_summary

    outputs = build_outputs(run_dir, formats or None, window_s=window)
    console.print(terminal_summary(outputs.analysis))
    for path in outputs.files:
        console.print(f"  wrote {path}", highlight=False)
    stdout_line(str(run_dir))
    raise typer.Exit(code=int(outputs.status))


@app.command()
@handles_errors
def compare(
    base_run: Path = typer.Argument(..., help="The reference run directory."),
    new_run: Path = typer.Argument(..., help="The run directory to judge against it."),
    threshold: str = typer.Option(
        "10%", "--threshold", "-t", help="Relative change that counts as a regression, e.g. 10% (or 0.1)."
    ),
    min_ms: float = typer.Option(
        5.0, "--min-ms", min=0, help="Noise floor: a latency rise of fewer milliseconds is never a regression."
    ),
    min_samples: int = typer.Option(
        20, "--min-samples", min=1, help="Latency of a group with fewer samples in either run is not judged."
    ),
) -> None:
    """Per-group latency and per-component resource deltas between two runs; flags regressions.

    Exits 1 when latency, errors or throughput regressed beyond the threshold (and the noise
    floor), 3 when only resources did, 0 otherwise. Warns when the runs' scenarios differ.
    """
    from analysis.analyse import analyse_run
    from analysis.compare import SHOWN_DIFFERENCES, compare_runs, parse_threshold

    limit = parse_threshold(threshold)
    comparison = compare_runs(analyse_run(base_run), analyse_run(new_run), limit, min_ms=min_ms,
                              min_samples=min_samples)
    differences = comparison.scenario_differences
    if differences:
        shown = differences[:SHOWN_DIFFERENCES]
        more = f"\n  … and {len(differences) - len(shown)} more" if len(differences) > len(shown) else ""
        console.print("[yellow]warning:[/] the two runs ran different scenarios, so a change may come from the "
                      f"scenario rather than the target ({len(differences)} field(s) differ):\n  "
                      + "\n  ".join(escape(line) for line in shown) + more, highlight=False)
    table = Table(title=f"{base_run.name} → {new_run.name} (regression: worse by more than {limit:.0%}; "
                        f"latency by at least {min_ms:g} ms over {min_samples}+ samples)")
    for column in ("area", "subject", "metric", "base", "new", "change", ""):
        table.add_column(column, justify="right" if column in ("base", "new", "change") else "left")
    for _, row in comparison.deltas.iterrows():
        mark = "[red]REGRESSION[/]" if row["regression"] else f"[dim]{row['note']}[/]"
        table.add_row(
            row["area"],
            escape(row["subject"]),
            f"{row['metric']} ({row['unit']})",
            _number(row["base"]),
            _number(row["new"]),
            _change(row["change"]),
            mark,
        )
    _results().print(table)
    count = int(comparison.deltas["regression"].sum()) if len(comparison.deltas) else 0
    console.print(f"fwload: {count} regression(s) beyond {limit:.0%}", highlight=False)
    raise typer.Exit(code=int(comparison.status))


def _number(value: float) -> str:
    return "–" if value != value else f"{value:.4g}"


def _change(value: float) -> str:
    if value != value:
        return "–"
    return "new" if value == float("inf") else f"{value:+.1%}"
