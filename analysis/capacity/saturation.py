"""Which component saturates first as the load grows, and the evidence for it.

A component is saturated in a load stage when any of these holds (thresholds in
`SATURATION_RULES`): its CPU p95 reaches the limit, its CFS quota throttles it, its memory
peak nears the limit, it is OOM-killed, restarted or respawns workers, or (for the Celery
worker) imports are processed more slowly than uploads are accepted, so a queue builds.
Only stages of the load count; what happened before it is a start-up failure.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.limits import NO_LIMITS, Limits, share
from analysis.metrics.imports import ImportMetrics
from analysis.metrics.resources import ResourceMetrics
from analysis.timeline import NO_STAGE

SATURATION_RULES = {
    "cpu_pct_of_limit": 90.0,
    "throttled_pct": 25.0,
    "memory_pct_of_limit": 90.0,
    "import_processed_vs_accepted": 0.8,
    "import_min_accepted": 3,
}
IMPORT_COMPONENT = "celery-worker"


def saturation_by_stage(
    resources: ResourceMetrics, imports: ImportMetrics, limits: dict[str, Limits], levels: pd.DataFrame
) -> pd.DataFrame:
    """One row per (stage, component) that showed saturation: ``evidence`` lists why."""
    rows = []
    table = resources.by_stage
    for (stage, component), usage in table.iterrows() if len(table) else []:
        if stage == NO_STAGE:
            continue
        evidence = _resource_evidence(usage, limits.get(str(component), NO_LIMITS))
        if evidence:
            rows.append({"stage": stage, "component": str(component), "evidence": evidence})
    for stage, flow in imports.by_stage.iterrows():
        if stage == NO_STAGE or flow["accepted"] < SATURATION_RULES["import_min_accepted"]:
            continue
        if flow["processed"] < SATURATION_RULES["import_processed_vs_accepted"] * flow["accepted"]:
            rows.append(
                {
                    "stage": stage,
                    "component": IMPORT_COMPONENT,
                    "evidence": [
                        f"imports queueing: {flow['processed']:.0f} processed vs {flow['accepted']:.0f} "
                        f"accepted in the stage ({flow['processed_per_s']:.2f}/s vs "
                        f"{flow['accepted_per_s']:.2f}/s), backlog {flow['backlog']:.0f}"
                    ],
                }
            )
    frame = pd.DataFrame(rows, columns=["stage", "component", "evidence"])
    if frame.empty:
        return frame
    frame = frame.groupby(["stage", "component"], as_index=False).agg(
        {"evidence": lambda lists: sum(lists, [])}
    )
    frame["users"] = levels["users"].reindex(frame["stage"]).to_numpy()
    frame["rps"] = levels["rps"].reindex(frame["stage"]).to_numpy()
    return frame.sort_values(["stage", "component"]).reset_index(drop=True)


def unjudged_resources(resources: ResourceMetrics, no_samples: str) -> str:
    """Why CPU, memory and incidents could not be judged for saturation ("" when they could):
    no resource sample in any stage of the load. A report must then never say that no
    component saturated."""
    stages = resources.by_stage.index.get_level_values(0) if len(resources.by_stage) else []
    if any(stage != NO_STAGE for stage in stages):
        return ""
    return "no resource sample was taken during the load" if len(resources.summary) else no_samples


def first_saturated(saturation: pd.DataFrame) -> pd.DataFrame:
    """The components that saturated in the earliest stage where any did."""
    if saturation.empty:
        return saturation
    return saturation.loc[saturation["stage"] == saturation["stage"].min()].reset_index(drop=True)


def _resource_evidence(usage: pd.Series, limits: Limits) -> list[str]:
    evidence = []
    if usage["oom_kills"] > 0:
        evidence.append(f"{usage['oom_kills']:.0f} OOM kill(s)")
    if usage["restarts"] > 0:
        evidence.append(f"{usage['restarts']:.0f} restart(s)")
    if usage["respawns"] > 0:
        evidence.append(f"{usage['respawns']:.0f} worker respawn(s)")
    cpu_pct = share(usage["cpu_p95"], limits.cpu_limit_m)
    if cpu_pct >= SATURATION_RULES["cpu_pct_of_limit"]:
        evidence.append(
            f"CPU p95 {usage['cpu_p95']:.0f}m = {cpu_pct:.0f}% of the {limits.cpu_limit_m:.0f}m limit"
        )
    throttled = usage["throttled_pct"]
    if np.isfinite(throttled) and throttled >= SATURATION_RULES["throttled_pct"]:
        evidence.append(f"CPU throttled in {throttled:.0f}% of CFS periods")
    memory_pct = share(usage["memory_peak"], limits.memory_limit_bytes)
    if memory_pct >= SATURATION_RULES["memory_pct_of_limit"]:
        evidence.append(
            f"memory peak {usage['memory_peak'] / 2**20:.1f} MiB = {memory_pct:.0f}% of the "
            f"{limits.memory_limit_bytes / 2**20:.0f} MiB limit"
        )
    return evidence
