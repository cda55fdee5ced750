"""The end-of-run summary on a terminal: the verdict, what failed, and one line per measurement.

The full story is in summary.md and report.html; a terminal gets what fits on a screen:
count, failures and exact p50/p95/p99 for every request group, for the import wait and for
the time to the first audio byte.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from analysis.writers import formatting as fmt
from analysis.writers import views
from fwload.status import ExitStatus

if TYPE_CHECKING:
    from analysis.analyse import RunAnalysis


def terminal_summary(analysis: RunAnalysis) -> Group:
    style = {ExitStatus.SUCCESS: "bold green", ExitStatus.INCOMPLETE: "bold yellow"}.get(analysis.status, "bold red")
    headline = Text(f"{views.verdict_word(analysis)}: {views.headline(analysis)}", style=style)
    parts: list[Any] = [headline]
    failed = [check for check in analysis.checks if check.passed is False]
    if failed:
        table = Table("failed check", "observed", "threshold", "samples", "detail", title_justify="left",
                      box=None, header_style="bold")
        for check in failed:
            table.add_row(Text(check.name), fmt.value(check.observed, check.unit),
                          fmt.value(check.threshold, check.unit), fmt.count(check.samples), Text(check.detail))
        parts.append(table)
    parts.extend(not_evaluated_lines(analysis))
    parts.append(measurements_table(analysis))
    if (line := listeners_line(analysis)) is not None:
        parts.append(line)
    sessions = analysis.sessions
    if sessions is not None and sessions.active:
        parts.append(Text(f"sessions: {sessions.summary()}", style="yellow" if sessions.dropped else ""))
    for notice in analysis.notices:
        if notice.kind in ("partial", "throttling", "component_died", "sessions_dropped", "user_stopped"):
            parts.append(Text(f"{notice.kind}: {notice.message} {notice.advice}".strip(), style="yellow"))
    return Group(*parts)


def not_evaluated_lines(analysis: RunAnalysis) -> list[Text]:
    """One line per reason: the checks that could not be judged, so none vanishes unnoticed."""
    by_reason: dict[str, list[str]] = {}
    for check in analysis.checks:
        if check.passed is None:
            by_reason.setdefault(check.detail or "not evaluated", []).append(check.name)
    return [Text(f"not evaluated: {', '.join(names)}: {reason}", style="yellow")
            for reason, names in by_reason.items()]


def measurements_table(analysis: RunAnalysis) -> Table:
    table = Table("measurement", "count", "failed", "p50", "p95", "p99", box=None, header_style="bold")
    for group, row in analysis.requests.by_group.iterrows():
        table.add_row(f"requests: {group}", fmt.count(row["requests"]), fmt.count(row["failed"]),
                      fmt.ms(row["p50"]), fmt.ms(row["p95"]), fmt.ms(row["p99"]))
    imports, streams = analysis.imports, analysis.streams
    if imports.wait["count"] or any(imports.outcomes.values()):
        not_done = sum(imports.outcomes.get(name, 0) for name in ("errored", "timeout", "failed"))
        table.add_row("import wait", fmt.count(imports.wait["count"]), fmt.count(not_done),
                      fmt.ms(imports.wait["p50"]), fmt.ms(imports.wait["p95"]), fmt.ms(imports.wait["p99"]))
    if streams.streams:
        table.add_row("stream time to first byte", fmt.count(streams.streams), fmt.count(sum(streams.failed.values())),
                      fmt.ms(streams.ttfb["p50"]), fmt.ms(streams.ttfb["p95"]), fmt.ms(streams.ttfb["p99"]))
    sessions = analysis.sessions
    if sessions is not None and sessions.active:
        table.add_row("session start (from due)", fmt.count(sessions.started), fmt.count(sessions.dropped),
                      fmt.ms(sessions.first["p50"]), fmt.ms(sessions.first["p95"]), fmt.ms(sessions.first["p99"]))
    plays = analysis.plays
    if plays.plays:
        table.add_row("play start-up delay", fmt.count(plays.startup["count"]), fmt.count(plays.outcomes.get("failed", 0)),
                      fmt.ms(plays.startup["p50"]), fmt.ms(plays.startup["p95"]), fmt.ms(plays.startup["p99"]))
    return table


def listeners_line(analysis: RunAnalysis) -> Text | None:
    """``listeners: 12 at once at most · stall ratio 0.00% · ...``, or None without plays."""
    figures = views.listener_figures(analysis)
    if not figures:
        return None
    return Text("listeners: " + " · ".join(f"{label} {value}" for label, value in figures))
