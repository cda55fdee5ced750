"""Latency, error-ratio, import-wait and stream-TTFB SLOs, over the whole run and per window.

Two rules hold for every percentile SLO: it is judged only on `min_samples` of them (one
rule for the whole run and each window: 20 for a p95), fewer is "not evaluated" — unless
the few there are already decide it (`above_at_minimum`: the import wait and stream ttfb
of a run with a dead import worker fail on 5 timed-out imports); and a latency SLO fails
when no request of its group succeeded, since the time it takes to fail is not a service
level (a bypassed nginx answers every listen "fast" with no audio).
"""

from __future__ import annotations

import pandas as pd

from analysis.metrics.imports import ImportMetrics
from analysis.metrics.requests import RequestMetrics
from analysis.metrics.streams import StreamMetrics
from analysis.percentiles import above_at_minimum, min_samples, percentile_column
from analysis.scenario import SloSpec, percentile_of_key
from analysis.verdict.check import SLO, Check, known, upper_bound


def slo_checks(
    slos: SloSpec,
    requests: RequestMetrics,
    imports: ImportMetrics,
    streams: StreamMetrics,
    aborts: list[dict],
) -> list[Check]:
    checks = []
    by_group = requests.by_group
    for group, targets in slos.groups.items():
        for key, threshold in targets.items():
            q = percentile_of_key(key)
            column = "max" if q is None else percentile_column(q)
            samples = int(by_group.at[group, "samples"]) if group in by_group.index else 0
            succeeded = int(by_group.at[group, "ok"]) if group in by_group.index else 0
            observed = float(by_group.at[group, column]) if samples else None
            name = f"latency {key} [{group}]"
            if samples and not succeeded:
                failed = int(by_group.at[group, "failed"])
                checks.append(Check(name, SLO, observed, threshold, "ms", samples, False,
                                    f"no request of '{group}' succeeded ({failed} failed): a latency of failures "
                                    "only is not a service level"))
                continue
            checks.append(
                percentile_bound(
                    name,
                    q,
                    observed,
                    threshold,
                    "ms",
                    samples,
                    "timed requests",
                    missing=f"no timed request in group '{group}': it was never exercised",
                )
            )
    if slos.window_s is not None and requests.by_slo_window_group is not None:
        checks.extend(window_checks(slos, requests.by_slo_window_group))
    if slos.error_ratio is not None:
        overall = requests.overall
        counted = int((overall["requests"] - overall["throttled"] - overall["rejected"]).sum()) if len(overall) else 0
        observed = float(overall["error_ratio"].iloc[0]) if counted else None
        check = upper_bound(
            "error ratio", SLO, observed, slos.error_ratio, "ratio", counted, missing="no request was made"
        )
        if counted:
            failed = int(overall["failed"].iloc[0])
            kinds = ", ".join(
                f"{kind} {int(overall[f'errors_{kind}'].iloc[0])}"
                for kind in ("http", "timeout", "connection", "proxy", "unexpected")
                if overall[f"errors_{kind}"].iloc[0]
            )
            check.detail = f"{failed} failed of {counted} (throttled and rejected excluded)" + (
                f": {kinds}" if kinds else ""
            )
        checks.append(check)
    if slos.import_wait_p95_ms is not None:
        wait = imports.wait
        check = percentile_bound(
            "import wait p95",
            95,
            known(wait["p95"]),
            slos.import_wait_p95_ms,
            "ms",
            int(wait["count"]),
            "followed imports",
            missing="no import was followed",
            slowest=imports.wait_slowest,
        )
        outcomes = import_outcomes_text(imports)
        if outcomes:
            check.detail = f"{check.detail}; {outcomes}" if check.detail else outcomes
        checks.append(check)
    if slos.stream_ttfb_p95_ms is not None:
        ttfb = streams.ttfb
        checks.append(
            percentile_bound(
                "stream ttfb p95",
                95,
                known(ttfb["p95"]),
                slos.stream_ttfb_p95_ms,
                "ms",
                int(ttfb["count"]),
                "streams",
                missing="no audio was streamed",
                slowest=streams.ttfb_slowest,
            )
        )
    for abort in aborts:
        checks.append(
            Check(
                "no abort rule fired",
                SLO,
                known(abort.get("observed")),
                None,
                "",
                None,
                False,
                f"{abort.get('rule', 'an abort rule')} stopped the run: {abort.get('detail', '')}".strip(),
            )
        )
    return checks


def window_checks(slos: SloSpec, table: pd.DataFrame) -> list[Check]:
    """Each latency SLO in its worst window of ``slos.window`` seconds.

    A window is judged on pq only when it holds `min_samples` timed requests (20 for a p95),
    the rule of the whole-run checks: with fewer, its "pq" would just be its slowest request.
    """
    checks = []
    width = slos.window_s
    groups = set(table.index.get_level_values("group")) if len(table) else set()
    for group, targets in slos.groups.items():
        rows = table.xs(group, level="group") if group in groups else table.iloc[0:0]
        for key, threshold in targets.items():
            q = percentile_of_key(key)
            column = "max" if q is None else percentile_column(q)
            needed = min_samples(q)
            judged = rows.loc[rows["samples"] >= needed]
            name = f"latency {key} [{group}] per {width:g}s window"
            if judged.empty:
                checks.append(
                    Check(
                        name,
                        SLO,
                        None,
                        threshold,
                        "ms",
                        0,
                        None,
                        f"no {width:g}s window held the {needed} requests a {key} needs: not evaluated",
                    )
                )
                continue
            worst = judged[column].idxmax()
            detail = f"worst of {len(judged)} windows: +{worst:.0f}s after the load started"
            if len(judged) < len(rows):
                detail += (
                    f"; {len(rows) - len(judged)} window(s) with fewer than {needed} requests not judged"
                )
            checks.append(
                upper_bound(
                    name,
                    SLO,
                    float(judged.at[worst, column]),
                    threshold,
                    "ms",
                    int(judged.at[worst, "samples"]),
                    detail,
                )
            )
    return checks


def percentile_bound(
    name: str,
    q: float | None,
    observed: float | None,
    threshold: float,
    unit: str,
    samples: int,
    what: str,
    *,
    missing: str,
    slowest: tuple[float, ...] | None = None,
) -> Check:
    """`upper_bound` for a percentile: none observed fails (``missing`` says why); fewer than
    `min_samples` is not evaluated, saying how many there were and how many it needs, unless
    the ``slowest`` samples already put it above the threshold whatever the missing ones are."""
    needed = min_samples(q)
    if observed is not None and samples < needed:
        label = "max" if q is None else f"p{q:g}"
        if slowest is not None and above_at_minimum(slowest, q, threshold):
            return Check(name, SLO, observed, threshold, unit, samples, False,
                         f"only {samples} {what}, but the slowest are above the threshold: even with the "
                         f"{needed - samples} more a {label} needs all instant, it would be above")
        return Check(name, SLO, observed, threshold, unit, samples, None,
                     f"only {samples} {what}: a {label} needs at least {needed}; not evaluated")
    return upper_bound(name, SLO, observed, threshold, unit, samples, missing=missing)


def import_outcomes_text(imports: ImportMetrics) -> str:
    """``31 finished, 1 timeout (1 of them deliberately bad files)``: what the wait percentile covers."""
    parts = [f"{count} {outcome}" for outcome, count in imports.outcomes.items() if count]
    table = imports.by_fixture
    bad = int(table.drop(index="valid", errors="ignore")[["timeout", "errored", "skipped", "rejected"]].to_numpy().sum()) \
        if len(table) else 0
    text = ", ".join(parts)
    return f"{text} ({bad} of them deliberately bad files)" if bad else text
