"""Resource checks per component: memory peak and CPU p95 against a limit, restarts, OOM kills."""

from __future__ import annotations

from analysis.metrics.resources import ResourceMetrics
from analysis.scenario import ResourceSpec
from analysis.verdict.check import RESOURCE, Check, known, upper_bound

MIB = 1024**2


CHECKS = (
    ("memory_peak_pct", "memory peak", "%"),
    ("cpu_p95_pct", "cpu p95", "%"),
    ("max_restarts", "restarts", "count"),
    ("max_oom_kills", "oom kills", "count"),
)
"""Scenario field → check name and unit, in report order."""


def resource_checks(spec: ResourceSpec, resources: ResourceMetrics, collector: dict | None = None) -> list[Check]:
    """Memory peak and CPU p95 against the chosen limit, restarts and OOM kills, per component.

    A check that cannot be judged is listed as not evaluated with the reason, never dropped:
    with no samples at all (``collector``: run.json's ``collector``, which says why), each
    configured check once for every component; a component the scenario names and the
    collector never saw, each check for it.
    """
    seen = set(map(str, resources.summary.index))
    if not seen:
        names = spec.components or ("all components",)
        return _not_evaluated(spec, names, no_samples_reason(collector))
    missing = [name for name in spec.components or () if name not in seen]
    return _judged(spec, resources) + _not_evaluated(spec, missing, "no samples of this component: not evaluated")


def no_samples_reason(collector: dict | None) -> str:
    """Why a run has no resource sample, from run.json's ``collector`` entry."""
    collector = collector or {}
    backend = collector.get("backend")
    if not backend:
        return "no resource samples: no collector ran (plain Locust without the fwload plugin's collector?)"
    if backend == "none":
        reason = collector.get("reason")
        return "no resource samples: collector none" + (f" because {reason}" if reason else "")
    return f"no resource samples: the {backend} collector took none (see its gaps and notices)"


def _not_evaluated(spec: ResourceSpec, components: list[str] | tuple[str, ...], why: str) -> list[Check]:
    return [
        Check(f"{name} [{component}]", RESOURCE, None, float(getattr(spec, field)), unit, 0, None, why)
        for component in components
        for field, name, unit in CHECKS
        if getattr(spec, field) is not None
    ]


def _judged(spec: ResourceSpec, resources: ResourceMetrics) -> list[Check]:
    checks = []
    which = "live" if spec.limits == "live" else "doc"
    label = "live pod spec" if which == "live" else "documented"
    for component, row in resources.summary.iterrows():
        if spec.components is not None and component not in spec.components:
            continue
        if spec.memory_peak_pct is not None:
            limit = row[f"{which}_memory_limit_bytes"]
            observed = known(row[f"memory_peak_pct_{which}_limit"])
            detail = f"peak {_mib(row['memory_peak'])} of {_mib(limit)} ({label} limit)"
            if known(row["memory_anon_peak"]) is not None:
                detail += f", anonymous peak {_mib(row['memory_anon_peak'])}"
            checks.append(
                upper_bound(
                    f"memory peak [{component}]",
                    RESOURCE,
                    observed,
                    spec.memory_peak_pct,
                    "%",
                    int(row["memory_samples"]),
                    detail,
                    unknown_fails=False,
                    missing=_why_unknown(row["memory_samples"], limit, "memory", label),
                )
            )
        if spec.cpu_p95_pct is not None:
            limit = row[f"{which}_cpu_limit_m"]
            observed = known(row[f"cpu_p95_pct_{which}_limit"])
            detail = f"p95 {row['cpu_p95']:.0f}m of {limit or 0:.0f}m ({label} limit) during the load"
            if known(row["throttled_pct"]) is not None:
                detail += f"; throttled in {row['throttled_pct']:.0f}% of CFS periods"
            checks.append(
                upper_bound(
                    f"cpu p95 [{component}]",
                    RESOURCE,
                    observed,
                    spec.cpu_p95_pct,
                    "%",
                    int(row["cpu_samples"]),
                    detail,
                    unknown_fails=False,
                    missing=_why_unknown(row["cpu_samples"], limit, "CPU", label),
                )
            )
        for counter, threshold, name in (
            ("restarts", spec.max_restarts, "restarts"),
            ("oom_kills", spec.max_oom_kills, "oom kills"),
        ):
            if threshold is None:
                continue
            before = int(row[f"{counter}_before_load"])
            detail = f"{before} before the load" if before else ""
            if counter == "oom_kills" and row["respawns"]:
                detail = ", ".join(filter(None, [detail, f"{int(row['respawns'])} worker respawns"]))
            checks.append(
                upper_bound(
                    f"{name} [{component}]",
                    RESOURCE,
                    float(row[counter]),
                    threshold,
                    "count",
                    int(row["samples"]),
                    detail,
                )
            )
    return checks


def _mib(value: object) -> str:
    number = known(value)
    return "?" if number is None else f"{number / MIB:.1f} MiB"


def _why_unknown(samples: int, limit: object, what: str, label: str) -> str:
    if not samples:
        return f"no {what} samples: not evaluated"
    if known(limit) is None:
        return f"no {label} {what} limit for this component: not evaluated"
    return "not evaluated"
