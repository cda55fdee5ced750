"""Request counts, error ratios by kind and exact latency percentiles, per group, window and stage.

Two definitions hold everywhere (and are printed in the reports):

- error ratio = failed / all requests, **throttled requests excluded** from both: a 429 is
  the server's rate limiter refusing work, reported as throttling, never as slowness or error.
- latency samples = every request except throttled ones and connection failures (no answer,
  so no time to measure); a timeout counts with the time the client waited, a lower bound.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.percentiles import grouped_percentiles
from analysis.timeline import Timeline
from fwload.recording import schema

NOT_TIMED = ("throttled", "connection")
"""Error kinds whose response time says nothing about the server's speed."""


@dataclass
class RequestMetrics:
    overall: pd.DataFrame
    """One row (index ``all``): the whole run."""
    by_group: pd.DataFrame
    by_endpoint: pd.DataFrame
    by_window: pd.DataFrame
    """Index: window start, seconds since the load started; ``users`` is the target at that time."""
    by_stage: pd.DataFrame
    """Index: stage index (-1 before the load)."""
    by_stage_group: pd.DataFrame
    top_errors: pd.DataFrame
    throttled_by_group: pd.Series = field(default_factory=lambda: pd.Series(dtype="int64"))
    by_slo_window_group: pd.DataFrame | None = None
    """Index (slo_window, group), when the scenario judges SLOs per window (``slos.window``)."""


def request_metrics(
    requests: pd.DataFrame, timeline: Timeline, slo_window_s: float | None = None
) -> RequestMetrics:
    """Every request table the verdict, the capacity model and the reports use."""
    frame = requests.assign(
        all=pd.Categorical.from_codes(np.zeros(len(requests), dtype="int8"), ["all"]),
        window=timeline.window(requests["ts"]),
        stage=timeline.stage_index(requests["ts"]),
    ).sort_values("response_ms", kind="stable")
    timed = frame.loc[~frame["error_kind"].isin(NOT_TIMED)]

    def table(by: str | list[str]) -> pd.DataFrame:
        return request_table(frame, by, timed=timed, presorted=True)

    by_window = table("window")
    if not by_window.empty:
        by_window = by_window.reindex(timeline.window_grid(by_window.index))
        counts = [
            c
            for c in by_window.columns
            if c in ("requests", "ok", "throttled", "failed", "samples") or c.startswith("errors_")
        ]
        by_window[counts] = by_window[counts].fillna(0).astype("int64")
        seconds = by_window.index.to_numpy(dtype="float64")
        by_window["rps"] = by_window["requests"] / timeline.window_s
        by_window["ok_rps"] = by_window["ok"] / timeline.window_s
        by_window["users"] = timeline.users_at(seconds)
    by_stage = table("stage")
    durations = timeline.stages["duration"].to_numpy()
    by_stage["duration_s"] = [durations[i] if i >= 0 else np.nan for i in by_stage.index]
    by_stage["rps"] = by_stage["requests"] / by_stage["duration_s"]
    by_stage["ok_rps"] = by_stage["ok"] / by_stage["duration_s"]
    throttled = frame.loc[frame["error_kind"] == "throttled"].groupby("group", observed=True).size()
    slo_windows = None
    if slo_window_s is not None:
        slo_window = np.floor((frame["ts"] - timeline.start) / slo_window_s) * slo_window_s
        slo_windows = request_table(
            frame.assign(slo_window=slo_window),
            ["slo_window", "group"],
            timed=timed.assign(slo_window=slo_window),
            presorted=True,
        )
    return RequestMetrics(
        overall=table("all"),
        by_group=table("group"),
        by_endpoint=table(["group", "method", "name"]),
        by_window=by_window,
        by_stage=by_stage,
        by_stage_group=table(["stage", "group"]),
        top_errors=top_errors(frame),
        throttled_by_group=throttled[throttled > 0].sort_values(ascending=False),
        by_slo_window_group=slo_windows,
    )


def request_table(
    frame: pd.DataFrame, by: str | list[str], timed: pd.DataFrame | None = None, presorted: bool = False
) -> pd.DataFrame:
    """Per key: requests, ok, failed, throttled, one count per error kind, error ratio, latencies.

    Latency columns are ``samples`` (the count behind them), ``p50`` ... ``max`` in ms, over
    ``timed`` (default: the rows of ``frame`` whose error kind is not in `NOT_TIMED`);
    ``presorted`` says ``timed`` is sorted by response time.
    """
    keys = [by] if isinstance(by, str) else list(by)
    kinds = frame.groupby([*keys, "error_kind"], observed=True).size().unstack("error_kind", fill_value=0)
    kinds = kinds.reindex(columns=["", *schema.ERROR_KINDS], fill_value=0).astype("int64")
    table = pd.DataFrame(index=kinds.index)
    table["requests"] = kinds.sum(axis=1)
    table["ok"] = kinds[""]
    table["throttled"] = kinds["throttled"]
    table["failed"] = table["requests"] - table["ok"] - table["throttled"]
    counted = table["requests"] - table["throttled"]
    table["error_ratio"] = (table["failed"] / counted.where(counted > 0)).astype("float64")
    for kind in schema.ERROR_KINDS:
        table[f"errors_{kind}"] = kinds[kind]
    if timed is None:
        timed = frame.loc[~frame["error_kind"].isin(NOT_TIMED)]
    latency = grouped_percentiles(timed, keys, "response_ms", presorted=presorted)
    latency = latency.rename(columns={"count": "samples"})
    table = table.join(latency, how="left")
    table["samples"] = table["samples"].fillna(0).astype("int64")
    return table


def top_errors(frame: pd.DataFrame, limit: int = 15) -> pd.DataFrame:
    """The most frequent failures by group, kind, status and text (throttling included)."""
    failed = frame.loc[frame["error_kind"] != ""]
    if failed.empty:
        return pd.DataFrame(columns=["group", "error_kind", "status", "error", "count"])
    counts = failed.groupby(["group", "error_kind", "status", "error"], observed=True, dropna=False).size()
    counts = counts[counts > 0].sort_values(ascending=False).head(limit)
    return counts.rename("count").reset_index()
