"""The capacity section of a report, put together from levels, saturation, projections and right-sizing."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from analysis.capacity.levels import highest_within_slos, load_levels
from analysis.capacity.projection import projections
from analysis.capacity.rightsizing import History, basis, recommendations
from analysis.capacity.saturation import first_saturated, saturation_by_stage, unjudged_resources
from analysis.limits import Limits
from analysis.metrics.imports import ImportMetrics
from analysis.metrics.requests import RequestMetrics
from analysis.metrics.resources import ResourceMetrics
from analysis.scenario import SloSpec
from analysis.timeline import Timeline


@dataclass
class Capacity:
    applicable: bool
    """True for runs with two load levels or more (steps, ramp, spike)."""
    verdict: str
    """One sentence: the highest load within SLOs, or why there is none."""
    levels: pd.DataFrame
    highest: pd.Series | None
    first_failure: pd.Series | None
    saturation: pd.DataFrame
    first_saturated: pd.DataFrame
    saturation_unjudged: str
    """Why CPU, memory, restarts and OOM kills were not judged for saturation ("" when they were)."""
    projections: pd.DataFrame
    recommendations: pd.DataFrame
    rightsizing_basis: str = ""
    """What the recommendations were computed from (the run's samples, or a longer history)."""


def capacity_report(
    timeline: Timeline,
    requests: RequestMetrics,
    imports: ImportMetrics,
    streams: pd.DataFrame,
    resources: ResourceMetrics,
    resource_rows: pd.DataFrame,
    slos: SloSpec,
    limits: dict[str, Limits],
    history: History | None = None,
    no_samples: str = "no resource samples",
) -> Capacity:
    levels = load_levels(timeline, requests, imports, streams, slos)
    loaded = levels.loc[levels["users"].fillna(0) > 0]
    applicable = timeline.staged and loaded["users"].nunique() >= 2
    highest, first_failure = highest_within_slos(levels) if applicable else (None, None)
    saturation = saturation_by_stage(resources, imports, limits, levels)
    return Capacity(
        applicable=applicable,
        verdict=_verdict(applicable, levels, highest, first_failure, slos),
        levels=levels,
        highest=highest,
        first_failure=first_failure,
        saturation=saturation,
        first_saturated=first_saturated(saturation),
        saturation_unjudged=unjudged_resources(resources, no_samples),
        projections=projections(resources.by_stage, levels, limits) if applicable else pd.DataFrame(),
        recommendations=recommendations(resource_rows, resources.summary, history=history),
        rightsizing_basis=basis(history),
    )


def _verdict(
    applicable: bool,
    levels: pd.DataFrame,
    highest: pd.Series | None,
    first_failure: pd.Series | None,
    slos: SloSpec,
) -> str:
    if not applicable:
        return "Capacity needs a run with two load levels or more (profile steps, ramp or spike)."
    if slos.empty:
        return "The scenario sets no SLO, so no load level can be judged."
    if highest is None and first_failure is not None:
        return (
            f"No load level met every SLO: the first, {first_failure['users']:.0f} users, broke "
            f"{first_failure['broken']}."
        )
    if highest is None:
        return "No load level carried requests."
    text = f"Highest load within SLOs: {highest['users']:.0f} users, {highest['rps']:.1f} requests/s achieved"
    if first_failure is not None:
        return text + f"; at {first_failure['users']:.0f} users: {first_failure['broken']}."
    top = levels.loc[levels["users"].idxmax()]
    return (
        text
        + f"; every level passed, so capacity is above the highest tested load ({top['users']:.0f} users)."
    )
