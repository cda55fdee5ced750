"""Turn the scenario's SLOs and resource checks into checks with observed values, and an exit code.

Every check is ``{name, kind, observed, threshold, unit, samples, passed, detail}``; ``passed``
is None when a check could not be evaluated (say, no limit is known for a component), which
neither fails nor hides it. The exit code follows one precedence, documented in the README:

    NOT_READY (4)  >  SLO_BROKEN (1)  >  RESOURCE_BROKEN (3)  >  SUCCESS (0)

A target that never became ready explains everything after it, so it wins; a broken latency
or error SLO is what users feel, so it comes before a resource check.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass

import pandas as pd

from fwload.status import ExitStatus

from analysis.metrics.imports import ImportMetrics
from analysis.metrics.requests import RequestMetrics
from analysis.metrics.resources import ResourceMetrics
from analysis.metrics.startup import Startup
from analysis.percentiles import percentile_column
from analysis.scenario import ResourceSpec, ScenarioSpec, SloSpec, percentile_of_key
from analysis.metrics.streams import StreamMetrics

STARTUP, SLO, RESOURCE = "startup", "slo", "resource"
PRECEDENCE = (
    (STARTUP, ExitStatus.NOT_READY),
    (SLO, ExitStatus.SLO_BROKEN),
    (RESOURCE, ExitStatus.RESOURCE_BROKEN),
)
"""Check kind → exit status, strongest first."""

MIB = 1024**2


@dataclass
class Check:
    name: str
    kind: str
    observed: float | None
    threshold: float | None
    unit: str
    samples: int | None
    passed: bool | None
    detail: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


def exit_status(checks: Iterable[Check]) -> ExitStatus:
    """The verdict's exit code: the strongest failed kind in `PRECEDENCE`, else success."""
    failed = {check.kind for check in checks if check.passed is False}
    return next((status for kind, status in PRECEDENCE if kind in failed), ExitStatus.SUCCESS)


def startup_checks(startup: Startup, spec: ScenarioSpec) -> list[Check]:
    checks = []
    if startup.gate:
        deadline = f" within {spec.ready_timeout_s:g} s" if spec.ready_timeout_s is not None else ""
        detail = f"ready after {startup.seconds:.1f} s" if startup.ready and startup.seconds is not None else \
            f"never became ready{deadline}" if not startup.ready else "ready"
        if startup.detail:
            detail += f": {startup.detail}"
        checks.append(Check("target ready", STARTUP, startup.seconds, spec.ready_timeout_s, "s", None,
                            startup.ready, detail))
    for failure in startup.failures:
        checks.append(Check(f"alive before the load [{failure['component']}]", STARTUP, None, None, "", None,
                            False, failure["detail"] or "the component died or never became ready before the load"))
    return checks


def slo_checks(slos: SloSpec, requests: RequestMetrics, imports: ImportMetrics,
               streams: StreamMetrics, aborts: list[dict]) -> list[Check]:
    checks = []
    by_group = requests.by_group
    for group, targets in slos.groups.items():
        for key, threshold in targets.items():
            q = percentile_of_key(key)
            column = "max" if q is None else percentile_column(q)
            samples = int(by_group.at[group, "samples"]) if group in by_group.index else 0
            observed = float(by_group.at[group, column]) if samples else None
            checks.append(_upper_bound(f"latency {key} [{group}]", SLO, observed, threshold, "ms", samples,
                                       missing=f"no timed request in group '{group}': it was never exercised"))
    if slos.window_s is not None and requests.by_slo_window_group is not None:
        checks.extend(window_checks(slos, requests.by_slo_window_group))
    if slos.error_ratio is not None:
        overall = requests.overall
        counted = int(overall["requests"].sum() - overall["throttled"].sum()) if len(overall) else 0
        observed = float(overall["error_ratio"].iloc[0]) if counted else None
        check = _upper_bound("error ratio", SLO, observed, slos.error_ratio, "ratio", counted,
                             missing="no request was made")
        if counted:
            failed = int(overall["failed"].iloc[0])
            kinds = ", ".join(f"{kind} {int(overall[f'errors_{kind}'].iloc[0])}" for kind in
                              ("http", "timeout", "connection", "proxy", "unexpected")
                              if overall[f"errors_{kind}"].iloc[0])
            check.detail = f"{failed} failed of {counted} (throttled excluded)" + (f": {kinds}" if kinds else "")
        checks.append(check)
    if slos.import_wait_p95_ms is not None:
        wait = imports.wait
        checks.append(_upper_bound("import wait p95", SLO, _known(wait["p95"]), slos.import_wait_p95_ms, "ms",
                                   int(wait["count"]), missing="no import was followed"))
    if slos.stream_ttfb_p95_ms is not None:
        ttfb = streams.ttfb
        checks.append(_upper_bound("stream ttfb p95", SLO, _known(ttfb["p95"]), slos.stream_ttfb_p95_ms, "ms",
                                   int(ttfb["count"]), missing="no audio was streamed"))
    for abort in aborts:
        checks.append(Check("no abort rule fired", SLO, _known(abort.get("observed")), None, "", None, False,
                            f"{abort.get('rule', 'an abort rule')} stopped the run: {abort.get('detail', '')}".strip()))
    return checks


def window_checks(slos: SloSpec, table: pd.DataFrame) -> list[Check]:
    """Each latency SLO in its worst window of ``slos.window`` seconds.

    A window is judged on pq only when it holds at least 100 / (100 - q) timed requests
    (20 for a p95): with fewer, its "pq" would just be its slowest request.
    """
    checks = []
    width = slos.window_s
    groups = set(table.index.get_level_values("group")) if len(table) else set()
    for group, targets in slos.groups.items():
        rows = table.xs(group, level="group") if group in groups else table.iloc[0:0]
        for key, threshold in targets.items():
            q = percentile_of_key(key)
            column = "max" if q is None else percentile_column(q)
            needed = 1 if q is None or q >= 100 else math.ceil(round(100 / (100 - q), 9))
            judged = rows.loc[rows["samples"] >= needed]
            name = f"latency {key} [{group}] per {width:g}s window"
            if judged.empty:
                checks.append(Check(name, SLO, None, threshold, "ms", 0, None,
                                    f"no {width:g}s window held the {needed} requests a {key} needs: not evaluated"))
                continue
            worst = judged[column].idxmax()
            detail = f"worst of {len(judged)} windows: +{worst:.0f}s after the load started"
            if len(judged) < len(rows):
                detail += f"; {len(rows) - len(judged)} window(s) with fewer than {needed} requests not judged"
            checks.append(_upper_bound(name, SLO, float(judged.at[worst, column]), threshold, "ms",
                                       int(judged.at[worst, "samples"]), detail))
    return checks


def resource_checks(spec: ResourceSpec, resources: ResourceMetrics) -> list[Check]:
    """Memory peak and CPU p95 against the chosen limit, restarts and OOM kills, per component."""
    checks = []
    which = "live" if spec.limits == "live" else "doc"
    label = "live pod spec" if which == "live" else "documented"
    for component, row in resources.summary.iterrows():
        if spec.components is not None and component not in spec.components:
            continue
        if spec.memory_peak_pct is not None:
            limit = row[f"{which}_memory_limit_bytes"]
            observed = _known(row[f"memory_peak_pct_{which}_limit"])
            detail = f"peak {_mib(row['memory_peak'])} of {_mib(limit)} ({label} limit)"
            if _known(row["memory_anon_peak"]) is not None:
                detail += f", anonymous peak {_mib(row['memory_anon_peak'])}"
            checks.append(_upper_bound(f"memory peak [{component}]", RESOURCE, observed, spec.memory_peak_pct, "%",
                                       int(row["memory_samples"]), detail, unknown_fails=False,
                                       missing=_why_unknown(row["memory_samples"], limit, "memory", label)))
        if spec.cpu_p95_pct is not None:
            limit = row[f"{which}_cpu_limit_m"]
            observed = _known(row[f"cpu_p95_pct_{which}_limit"])
            detail = f"p95 {row['cpu_p95']:.0f}m of {limit or 0:.0f}m ({label} limit) during the load"
            if _known(row["throttled_pct"]) is not None:
                detail += f"; throttled in {row['throttled_pct']:.0f}% of CFS periods"
            checks.append(_upper_bound(f"cpu p95 [{component}]", RESOURCE, observed, spec.cpu_p95_pct, "%",
                                       int(row["cpu_samples"]), detail, unknown_fails=False,
                                       missing=_why_unknown(row["cpu_samples"], limit, "CPU", label)))
        for counter, threshold, name in (("restarts", spec.max_restarts, "restarts"),
                                         ("oom_kills", spec.max_oom_kills, "oom kills")):
            if threshold is None:
                continue
            before = int(row[f"{counter}_before_load"])
            detail = f"{before} before the load" if before else ""
            if counter == "oom_kills" and row["respawns"]:
                detail = ", ".join(filter(None, [detail, f"{int(row['respawns'])} worker respawns"]))
            checks.append(_upper_bound(f"{name} [{component}]", RESOURCE, float(row[counter]), threshold, "count",
                                       int(row["samples"]), detail))
    return checks


def _upper_bound(name: str, kind: str, observed: float | None, threshold: float, unit: str,
                 samples: int | None, detail: str = "", *, missing: str = "", unknown_fails: bool = True) -> Check:
    """A check that passes when ``observed <= threshold``.

    An unknown ``observed`` fails (an SLO nobody exercised is not met) or, for resources the
    collector cannot judge, is not evaluated; ``missing`` then says why.
    """
    if observed is None:
        return Check(name, kind, None, threshold, unit, samples, False if unknown_fails else None, missing)
    return Check(name, kind, observed, threshold, unit, samples, observed <= threshold, detail)


def _known(value: object) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def _mib(value: object) -> str:
    number = _known(value)
    return "?" if number is None else f"{number / MIB:.1f} MiB"


def _why_unknown(samples: int, limit: object, what: str, label: str) -> str:
    if not samples:
        return f"no {what} samples: not evaluated"
    if _known(limit) is None:
        return f"no {label} {what} limit for this component: not evaluated"
    return "not evaluated"


def checks_frame(checks: list[Check]) -> pd.DataFrame:
    """The checks as a table (for notebooks and the compare command)."""
    return pd.DataFrame([check.as_dict() for check in checks])
