"""What the first screen of report.html answers: did it hold, and where is the limit?

A handful of figures, each with what it was judged against and whether it held, then the
checks split three ways: failed (shown), passed and not judged (folded, with their reasons),
so a reader never scrolls past a block of ``n/a`` rows to find what broke.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from analysis.verdict.check import Check
from analysis.verdict.resource import no_samples_reason
from analysis.writers import formatting as fmt
from analysis.writers.views import Table, checks_table

if TYPE_CHECKING:
    from analysis.analyse import RunAnalysis

HEADLINE_GROUPS = ("browse", "listen")
"""The request groups whose p95 is a first-screen figure when the run made them."""
STATES = {True: "ok", False: "bad", None: "na"}


@dataclass(frozen=True)
class Figure:
    """One first-screen number: ``state`` is the CSS class of the check behind it (``ok``,
    ``bad``, ``na``), empty when nothing judges it."""

    label: str
    value: str
    detail: str = ""
    state: str = ""


def key_figures(analysis: RunAnalysis) -> list[Figure]:
    """Users, throughput, error ratio, p95 of browse and listen, import wait, the listener
    experience and the component closest to its limit, those this run has (none for a run
    that sent no load and sampled nothing: refused, or never ready)."""
    checks = {check.name: check for check in analysis.checks}
    overall = analysis.requests.overall
    total = int(overall["requests"].sum()) if len(overall) else 0
    if not total:
        return [] if analysis.resources.summary.empty else [closest_to_limit(analysis)]
    duration = analysis.timeline.duration
    stages = analysis.timeline.stages
    peak_users = float(stages["users"].max()) if len(stages) else float("nan")
    figures = [Figure("peak users", fmt.count(peak_users),
                      f"{len(stages)} stage(s) over {duration:.0f} s" if len(stages) else "")]
    by_window = analysis.requests.by_window
    peak_rps = float(by_window["rps"].max()) if len(by_window) else float("nan")
    figures.append(Figure("requests/s", fmt.rate(total / duration, "") if duration else "–",
                          f"{total:,} requests, peak {fmt.rate(peak_rps)}"))
    figures.append(_judged("error ratio", fmt.ratio(overall["error_ratio"].iloc[0]), checks.get("error ratio")))
    by_group = analysis.requests.by_group
    for group in HEADLINE_GROUPS:
        if group in by_group.index and by_group.loc[group, "samples"] > 0:
            figures.append(_judged(f"{group} p95", fmt.ms(by_group.loc[group, "p95"]),
                                   checks.get(f"latency p95 [{group}]"),
                                   f"{fmt.count(by_group.loc[group, 'samples'])} samples"))
    if not analysis.imports.empty:
        figures.append(_judged("import wait p95", fmt.ms(analysis.imports.wait["p95"]),
                               checks.get("import wait p95"), f"{fmt.count(analysis.imports.wait['count'])} imports"))
    plays = analysis.plays
    if plays.realtime:
        figures.append(_judged("stall ratio", fmt.ratio(plays.stall_ratio), checks.get("stall ratio"),
                               f"start-up p95 {fmt.ms(plays.startup['p95'])}, {plays.max_at_once} playing at most"))
    elif not plays.empty:
        figures.append(_judged("start-up delay p95", fmt.ms(plays.startup["p95"]), checks.get("start-up delay p95")))
    figures.append(closest_to_limit(analysis))
    return figures


def closest_to_limit(analysis: RunAnalysis) -> Figure:
    """The component whose CPU p95 or memory peak came nearest its limit (the one the resource
    checks use), and how near; without samples, why there is no answer rather than a guess."""
    summary = analysis.resources.summary
    which, label = ("live", "live") if analysis.scenario.resources.limits == "live" else ("doc", "documented")
    best: tuple[float, str, str] | None = None
    for component, row in summary.iterrows():
        for resource, column in (("CPU p95", f"cpu_p95_pct_{which}_limit"),
                                 ("memory peak", f"memory_peak_pct_{which}_limit")):
            share = row.get(column)
            if fmt.known(share) and (best is None or float(share) > best[0]):
                best = (float(share), str(component), resource)
    if best is None:
        reason = (no_samples_reason(analysis.run.meta.get("collector")) if summary.empty
                  else f"no {label} limit for any sampled component")
        return Figure("closest to its limit", "not measured", reason, "na")
    share, component, resource = best
    row = summary.loc[component]
    if resource == "CPU p95":
        detail = f"{fmt.millicores(row['cpu_p95'])} of {fmt.millicores(row[f'{which}_cpu_limit_m'])}"
        check = f"cpu p95 [{component}]"
    else:
        detail = f"{fmt.mib(row['memory_peak'])} of {fmt.mib(row[f'{which}_memory_limit_bytes'])}"
        check = f"memory peak [{component}]"
    found = next((c for c in analysis.checks if c.name == check), None)
    return Figure("closest to its limit", f"{component} {fmt.pct(share)}",
                  f"{resource}: {detail} ({label} limit)", STATES[found.passed] if found else "")


def _judged(label: str, value: str, check: Check | None, detail: str = "") -> Figure:
    if check is None:
        return Figure(label, value, detail or "not judged: no SLO set")
    against = f"SLO ≤ {fmt.value(check.threshold, check.unit)}"
    if check.passed is None:
        reason = check.detail.split(";")[0].removesuffix(": not evaluated")
        detail = f"not judged: {reason}" if reason else "not judged"
    return Figure(label, value, " · ".join(filter(None, [against, detail])), STATES[check.passed])


@dataclass(frozen=True)
class CheckSplit:
    failed: Table
    passed: Table
    unjudged: Table
    reasons: list[str]
    """The distinct reasons checks were not judged, for the folded section's summary line."""


def split_checks(analysis: RunAnalysis) -> CheckSplit:
    """Every check, failures first within each kind, split by outcome (start-up checks included)."""
    columns, rows = checks_table(analysis)
    outcome = {"FAIL": "failed", "pass": "passed"}
    parts: dict[str, list[list[str]]] = {"failed": [], "passed": [], "unjudged": []}
    for row in rows:
        parts[outcome.get(row[0], "unjudged")].append(row)
    reasons = list(dict.fromkeys(row[-1] for row in parts["unjudged"] if row[-1]))
    return CheckSplit((columns, parts["failed"]), (columns, parts["passed"]), (columns, parts["unjudged"]),
                      reasons)
