"""Request counts, error ratios by kind and exact latency percentiles, per group, window and stage.

Two definitions hold everywhere (and are printed in the reports):

- error ratio = failed / all requests, **throttled and rejected requests excluded** from both:
  a 429 is the server's rate limiter refusing work, reported as throttling, never as slowness
  or error; ``rejected`` is a deliberately bad file the server refused (real 1.4 answers the
  corrupt mp3's upload with HTTP 500), the answer the user provoked on purpose.
- latency samples = every request except throttled and rejected ones and connection failures
  (no answer, so no time to measure); a timeout counts with the time the client waited, a
  lower bound.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.grouping import Grouper
from analysis.percentiles import PERCENTILES, Layout, arrange, merge_runs, select
from analysis.timeline import Timeline
from fwload.recording import schema

NOT_TIMED = ("throttled", "rejected", "connection")
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
    by_window_group: pd.DataFrame | None = None
    """Index (window start in seconds since the load started, group): each group's latency over time."""


def request_metrics(
    requests: pd.DataFrame, timeline: Timeline, slo_window_s: float | None = None
) -> RequestMetrics:
    """Every request table the verdict, the capacity model and the reports use.

    Windows are grouped by their index (whole numbers: offset codes, no hashing) and turned
    into start seconds afterwards; rows are visited in time order, where every window and
    stage is a contiguous run.
    """
    ts = requests["ts"].to_numpy(dtype="float64")
    columns = {
        "all": pd.Categorical.from_codes(np.zeros(len(requests), dtype="int8"), ["all"]),
        "window": _compact(timeline.window_index(ts)),
        "stage": _compact(timeline.stage_index(ts)),
    }
    if slo_window_s is not None:
        columns["slo_window"] = _compact(np.floor((ts - timeline.start) / slo_window_s))
    frame = requests.assign(**columns)
    tables = RequestTables(frame)
    table = tables.table

    by_endpoint = table(["group", "method", "name"])
    by_group = table("group")
    overall = table("all")
    by_stage_group = table(["stage", "group"])
    by_stage = table("stage")
    slo_windows = None
    if slo_window_s is not None:
        slo_windows = table(["slo_window", "group"])
        slo_windows.index = slo_windows.index.set_levels(
            slo_windows.index.levels[0] * slo_window_s, level=0
        )
    by_window_group = table(["window", "group"])
    by_window_group.index = by_window_group.index.set_levels(
        by_window_group.index.levels[0] * timeline.window_s, level=0
    )
    by_window = table("window")
    by_window.index = by_window.index * timeline.window_s
    if not by_window.empty:
        by_window = by_window.reindex(timeline.window_grid(by_window.index))
        counts = [
            c
            for c in by_window.columns
            if c in ("requests", "ok", "throttled", "rejected", "failed", "samples") or c.startswith("errors_")
        ]
        by_window[counts] = by_window[counts].fillna(0).astype("int64")
        seconds = by_window.index.to_numpy(dtype="float64")
        by_window["rps"] = by_window["requests"] / timeline.window_s
        by_window["ok_rps"] = by_window["ok"] / timeline.window_s
        by_window["users"] = timeline.users_at(seconds)
    durations = timeline.stages["duration"].to_numpy()
    by_stage["duration_s"] = [durations[i] if i >= 0 else np.nan for i in by_stage.index]
    by_stage["rps"] = by_stage["requests"] / by_stage["duration_s"]
    by_stage["ok_rps"] = by_stage["ok"] / by_stage["duration_s"]
    throttled = by_group["throttled"].rename(None)
    return RequestMetrics(
        overall=overall,
        by_group=by_group,
        by_endpoint=by_endpoint,
        by_window=by_window,
        by_stage=by_stage,
        by_stage_group=by_stage_group,
        top_errors=top_errors(frame),
        throttled_by_group=throttled[throttled > 0].sort_values(ascending=False),
        by_slo_window_group=slo_windows,
        by_window_group=by_window_group,
    )


def request_table(frame: pd.DataFrame, by: str | list[str], timed: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per key: requests, ok, failed, throttled, rejected, one count per error kind, error ratio, latencies.

    Latency columns are ``samples`` (the count behind them), ``p50`` ... ``max`` in ms, over
    ``timed`` (default: the rows of ``frame`` whose error kind is not in `NOT_TIMED`).
    """
    mask = None if timed is None else frame.index.isin(timed.index)
    return RequestTables(frame, mask).table(by)


class RequestTables:
    """`request_table` for several groupings of the same rows, from integer ids and selection.

    The rows are never reordered in the frame. Counts are a bincount of the group ids, the
    few failed rows counted apart by kind. Latencies are visited in time order (an argsort
    of the timestamps, nearly free on rows recorded in time order, skipped when they already
    are), so that time windows are runs of consecutive values; each grouping's latencies are
    laid out group by group (`analysis.percentiles.arrange`; a grouping by some of the keys
    of the previous one, or by none, merges the previous layout's runs instead) and their
    percentiles selected (`analysis.percentiles.select`).
    """

    def __init__(self, frame: pd.DataFrame, timed: np.ndarray | None = None):
        self.frame = frame
        kinds = ["", *schema.ERROR_KINDS]
        self.kind_codes = _kind_codes(frame["error_kind"], kinds)
        self.failing = np.flatnonzero(self.kind_codes != 0)
        """Rows that failed (or whose error kind is unknown): counted kind by kind."""
        values = frame["response_ms"].to_numpy(dtype="float64", na_value=np.nan)
        if timed is None:
            timed = ~np.isin(self.kind_codes, [kinds.index(kind) for kind in NOT_TIMED])
        ts = frame["ts"].to_numpy(dtype="float64")
        self.time_order = None if _non_decreasing(ts) else np.argsort(ts, kind="stable")
        values = np.where(timed, values, np.nan)
        self.values = values if self.time_order is None else values[self.time_order]
        """Latencies in time order, NaN for the requests that are not timed."""
        self.grouper = Grouper(frame)
        self._layout: Layout | None = None
        self._layout_keys: set[str] = set()

    def table(self, by: str | list[str]) -> pd.DataFrame:
        keys = [by] if isinstance(by, str) else list(by)
        if not self._coarser(keys):
            self._layout = None  # before the new ids and layout take memory
        ids, index, sizes = self.grouper.group_ids(keys)
        ids = ids.astype(np.min_scalar_type(-len(index) - 1), copy=False)
        counts = self._counts(ids, sizes)
        kinds = ["", *schema.ERROR_KINDS]
        by_kind = dict(zip(kinds, counts.T, strict=True))
        table = pd.DataFrame(index=index)
        table["requests"] = counts.sum(axis=1).astype("int64")
        table["ok"] = by_kind[""]
        table["throttled"] = by_kind["throttled"]
        table["rejected"] = by_kind["rejected"]
        set_apart = sum(by_kind[kind] for kind in schema.SET_APART_KINDS)
        table["failed"] = table["requests"] - table["ok"] - set_apart
        counted_requests = table["requests"] - set_apart
        table["error_ratio"] = (table["failed"] / counted_requests.where(counted_requests > 0)).astype("float64")
        for kind in schema.ERROR_KINDS:
            table[f"errors_{kind}"] = by_kind[kind]
        for column, values in self._latencies(keys, ids, sizes).items():
            table[column] = values
        return table

    def _counts(self, ids: np.ndarray, sizes: np.ndarray) -> np.ndarray:
        """Rows per (group, error kind), from the rows of each group (``sizes``) and the failed
        rows; rows without a group or of an unknown kind are left out."""
        width = len(schema.ERROR_KINDS) + 1
        groups = len(sizes)
        failed_ids, failed_kinds = ids[self.failing].astype("int64"), self.kind_codes[self.failing]
        grouped = failed_ids >= 0
        known = grouped & (failed_kinds >= 0)
        counts = np.bincount(failed_ids[known] * width + failed_kinds[known],
                             minlength=groups * width).reshape(groups, width)
        unknown = np.bincount(failed_ids[grouped & (failed_kinds < 0)], minlength=groups)
        counts[:, 0] = sizes - counts[:, 1:].sum(axis=1) - unknown
        return counts

    def _coarser(self, keys: list[str]) -> bool:
        """Whether the groups of ``keys`` are unions of the current layout's groups."""
        return self._layout is not None and (keys == ["all"] or set(keys) <= self._layout_keys)

    def _latencies(self, keys: list[str], ids: np.ndarray, sizes: np.ndarray) -> dict[str, np.ndarray]:
        """Samples, percentiles and max per group id, over the timed latencies."""
        if self.time_order is not None:
            ids = ids[self.time_order]
        self._layout = merge_runs(self._layout, ids) if self._coarser(keys) else None
        if self._layout is None:
            self._layout = arrange(self.values, ids, sizes)
        self._layout_keys = set(keys)
        return select(self._layout, len(sizes), PERCENTILES)


def _kind_codes(kinds: pd.Series, known: list[str]) -> np.ndarray:
    """Index of each row's error kind in ``known``; -1 for any other value."""
    if isinstance(kinds.dtype, pd.CategoricalDtype):
        lookup = np.array([known.index(c) if c in known else -1 for c in kinds.cat.categories] + [-1], dtype="int8")
        return lookup[kinds.cat.codes.to_numpy()]
    return pd.Categorical(kinds, categories=known).codes.astype("int8")


def _compact(numbers: np.ndarray) -> np.ndarray:
    """Whole numbers in the smallest integer type that holds them (floats kept when NaN is among them)."""
    if numbers.size == 0 or (numbers.dtype.kind == "f" and np.isnan(numbers).any()):
        return numbers
    low, high = numbers.min(), numbers.max()
    return numbers.astype(np.promote_types(np.min_scalar_type(int(low)), np.min_scalar_type(int(high))))


def _non_decreasing(values: np.ndarray) -> bool:
    return bool(values.size < 2 or (values[1:] >= values[:-1]).all())


def top_errors(frame: pd.DataFrame, limit: int = 15) -> pd.DataFrame:
    """The most frequent failures by group, kind, status and text (throttling included)."""
    failed = frame.loc[frame["error_kind"] != ""]
    if failed.empty:
        return pd.DataFrame(columns=["group", "error_kind", "status", "error", "count"])
    counts = failed.groupby(["group", "error_kind", "status", "error"], observed=True, dropna=False).size()
    counts = counts[counts > 0].sort_values(ascending=False).head(limit)
    return counts.rename("count").reset_index()
