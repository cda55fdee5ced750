"""Load levels: each stage of a step or ramp run, its achieved throughput and whether it met every SLO.

The SLOs are the scenario's own, evaluated on each stage's rows with the same definitions as
the verdict. A level with no sample for an SLO does not fail it (a short stage may simply not
have exercised that group); the highest load within SLOs is the last level that met them all
before the first level that broke one, since a later "recovery" is usually noise.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.metrics.imports import ImportMetrics
from analysis.metrics.requests import NOT_TIMED, RequestMetrics
from analysis.percentiles import grouped_percentiles, min_samples, percentile_column
from analysis.scenario import SloSpec, percentile_of_key
from analysis.timeline import Timeline


def load_levels(
    timeline: Timeline, requests: RequestMetrics, imports: ImportMetrics, streams: pd.DataFrame, slos: SloSpec
) -> pd.DataFrame:
    """One row per stage: users, duration_s, requests, rps, ok_rps, error_ratio, p95_ms, slo_passed, broken
    (the SLOs it broke, as text)."""
    stages = timeline.stages
    by_stage = requests.by_stage
    timed = streams.loc[~streams["error_kind"].isin(NOT_TIMED)]
    ttfb = grouped_percentiles(
        timed.assign(stage=timeline.stage_index(timed["ts"])),
        "stage",
        "ttfb_ms",
        (95,),
    )
    rows = []
    for index, stage in stages.iterrows():
        row = {
            "stage": index,
            "label": timeline.stage_label(index),
            "users": stage["users"],
            "duration_s": stage["duration"],
        }
        counts = by_stage.loc[index] if index in by_stage.index else None
        row["requests"] = int(counts["requests"]) if counts is not None else 0
        row["rps"] = float(counts["rps"]) if counts is not None else 0.0
        row["ok_rps"] = float(counts["ok_rps"]) if counts is not None else 0.0
        row["error_ratio"] = float(counts["error_ratio"]) if counts is not None else np.nan
        row["p95_ms"] = float(counts["p95"]) if counts is not None and counts["samples"] else np.nan
        broken = _broken_slos(index, slos, requests.by_stage_group, counts, imports.by_stage, ttfb)
        row["slo_passed"] = not broken if row["requests"] else None
        row["broken"] = "; ".join(broken)
        rows.append(row)
    return pd.DataFrame(rows).set_index("stage")


def highest_within_slos(levels: pd.DataFrame) -> tuple[pd.Series | None, pd.Series | None]:
    """(the last level within SLOs before the first failing one, the first failing level)."""
    best, first_failure = None, None
    for _, level in levels.loc[levels["users"].fillna(0) > 0].iterrows():
        if level["slo_passed"] is None:
            continue
        if not level["slo_passed"]:
            first_failure = level
            break
        best = level
    return best, first_failure


def _broken_slos(
    stage: int,
    slos: SloSpec,
    by_stage_group: pd.DataFrame,
    counts: pd.Series | None,
    imports_by_stage: pd.DataFrame,
    ttfb: pd.DataFrame,
) -> list[str]:
    broken = []
    for group, targets in slos.groups.items():
        key = (stage, group)
        if key not in by_stage_group.index or not by_stage_group.at[key, "samples"]:
            continue
        for name, threshold in targets.items():
            q = percentile_of_key(name)
            if by_stage_group.at[key, "samples"] < min_samples(q):
                continue
            observed = by_stage_group.at[key, "max" if q is None else percentile_column(q)]
            if observed > threshold:
                broken.append(f"{group} {name} {observed:.0f} ms > {threshold:.0f} ms")
    if slos.error_ratio is not None and counts is not None and counts["requests"] > counts["throttled"] + counts["rejected"]:
        if counts["error_ratio"] > slos.error_ratio:
            broken.append(f"error ratio {counts['error_ratio']:.3f} > {slos.error_ratio:g}")
    if slos.import_wait_p95_ms is not None and stage in imports_by_stage.index:
        wait = imports_by_stage.at[stage, "p95"] if "p95" in imports_by_stage else np.nan
        if wait == wait and wait > slos.import_wait_p95_ms:
            broken.append(f"import wait p95 {wait / 1000:.1f} s > {slos.import_wait_p95_ms / 1000:g} s")
    if slos.stream_ttfb_p95_ms is not None and stage in ttfb.index and ttfb.at[stage, "count"]:
        observed = ttfb.at[stage, "p95"]
        if observed > slos.stream_ttfb_p95_ms:
            broken.append(f"stream ttfb p95 {observed:.0f} ms > {slos.stream_ttfb_p95_ms:.0f} ms")
    return broken
