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


PANEL = "Resources from Prometheus (after the run)"
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
    collect_from: str | None = typer.Option(
        None, "--collect-from", rich_help_panel=PANEL,
        help="Fill resources.csv from this source first, over the run's window: prometheus.",
    ),
    history: str | None = typer.Option(
        None, "--history", rich_help_panel=PANEL,
        help="Also fetch this much history before the run's end for right-sizing, e.g. 7d.",
    ),
    prometheus_url: str | None = typer.Option(
        None, "--prometheus-url", rich_help_panel=PANEL,
        help="Prometheus base URL (default: the run's scenario collector.prometheus.url).",
    ),
    prometheus_token_file: str | None = typer.Option(
        None, "--prometheus-token-file", rich_help_panel=PANEL,
        help="File holding the Prometheus bearer token.",
    ),
    prometheus_token_env: str | None = typer.Option(
        None, "--prometheus-token-env", rich_help_panel=PANEL,
        help="Environment variable holding the Prometheus bearer token.",
    ),
    namespace: str | None = typer.Option(
        None, "--namespace", rich_help_panel=PANEL,
        help="Kubernetes namespace of the target (default: the run's scenario, else funkwhale).",
    ),
    step: str | None = typer.Option(
        None, "--step", rich_help_panel=PANEL,
        help="Query step for --collect-from (default: the scenario's collector interval, 15s).",
    ),
) -> None:
    """(Re)build verdict.json, junit.xml, summary.md, report.html and recommendations/ of a run.

    With --collect-from prometheus, resources.csv is filled first from Prometheus over the run's
    window (for a run that had no collector); --history 7d adds a longer usage history that the
    right-sizing recommendations use (the checks keep the run's own samples).

    Exits with the verdict: 0 all checks passed, 1 SLO broken, 3 resource check broken,
    4 target not ready or a component dead before the load, 5 incomplete run (interrupted,
    killed, or its files cut short), 2 refused before the load (as `fwload run` said);
    precedence 2 > 4 > 5 > 1 > 3.
    """
    if collect_from is not None or history is not None:
        _collect_after(run_dir, collect_from, history, url=prometheus_url, token_file=prometheus_token_file,
                       token_env=prometheus_token_env, namespace=namespace, step=step)
    from analysis.outputs import build_outputs
    from analysis.writers.terminal import terminal_summary

    outputs = build_outputs(run_dir, formats or None, window_s=window)
    console.print(terminal_summary(outputs.analysis))
    for path in outputs.files:
        console.print(f"  wrote {path}", highlight=False)
    stdout_line(str(run_dir))
    raise typer.Exit(code=int(outputs.status))


HISTORY_SOURCES = ("prometheus",)
"""Collectors that keep history, so they can fill a run after the fact."""


def _collect_after(run_dir: Path, collect_from: str | None, history: str | None, *, url: str | None,
                   token_file: str | None, token_env: str | None, namespace: str | None, step: str | None) -> None:
    """Fill the run's resource samples (and/or a longer history) from Prometheus before the report."""
    from fwload.collectors.selection import build_collector, prometheus_settings
    from fwload.errors import UsageError
    from fwload.recording.backfill import fill
    from fwload.units import parse_duration

    if collect_from is not None and collect_from not in HISTORY_SOURCES:
        raise UsageError(f"--collect-from {collect_from}: only {', '.join(HISTORY_SOURCES)} keeps the history "
                         "a finished run needs", "use --collect-from prometheus")
    seconds = {}
    for flag, text in (("--history", history), ("--step", step)):
        if text is None:
            continue
        try:
            seconds[flag] = parse_duration(text)
        except ValueError as error:
            raise UsageError(f"{flag}: {error}", f"write it like {flag} 7d or {flag} 30s") from None
        if seconds[flag] <= 0:
            raise UsageError(f"{flag} must be longer than 0", f"write it like {flag} 7d or {flag} 30s")
    scenario = _run_scenario(run_dir)
    section = scenario.collector if scenario is not None else None
    settings = prometheus_settings(section.prometheus if section else None, url=url, token_file=token_file,
                                   token_env=token_env, interval=section.interval if section else None)
    if "--step" in seconds:
        settings["step_s"] = seconds["--step"]
    collector = build_collector("prometheus", namespace=namespace or (section.namespace if section else None),
                                prometheus=settings)
    assert collector is not None
    try:
        with console.status("collecting resource samples from Prometheus…"):
            filled = fill(run_dir, collector, collect=collect_from is not None,  # type: ignore[arg-type]
                          history_s=seconds.get("--history"))
    finally:
        collector.close()
    for notice in filled.notices:
        console.print(f"[yellow]notice:[/] {escape(notice)}", highlight=False)
    if collect_from is not None:
        console.print(f"collected {filled.samples} resource samples and {filled.events} events from Prometheus "
                      f"over the run's {filled.window[1] - filled.window[0]:.0f} s", highlight=False)
    if filled.history_samples is not None:
        console.print(f"fetched {filled.history_samples} samples of history ({history}) for right-sizing",
                      highlight=False)


def _run_scenario(run_dir: Path):  # noqa: ANN202 - the Scenario model, imported lazily
    """The run's resolved scenario.yaml, when it has one that still reads."""
    from fwload.errors import FwloadError
    from fwload.recording.schema import SCENARIO_YAML
    from fwload.scenario.loader import load_scenario

    path = run_dir / SCENARIO_YAML
    if not path.is_file():
        return None
    try:
        return load_scenario(path, check_files=False)
    except FwloadError:
        return None


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
