"""Exact percentiles by the nearest-rank definition, for one series or many groups at once.

Locust keeps response times rounded to about two significant digits; SLO verdicts must not
inherit that error, so every percentile here is a value that was actually recorded:

    Pq = the smallest recorded value x such that at least q % of the values are <= x
       = sorted_values[ceil(q / 100 * n) - 1]            (nearest rank, 1 <= rank <= n)

(numpy's ``method="inverted_cdf"`` is the same definition). Each result carries the sample
count ``n`` behind it, because a p99 of 20 samples is the maximum, not a p99.

Nothing is sorted: each group's values are laid out side by side (`arrange`: as they are
when a group's rows are already contiguous, e.g. time windows of time-ordered rows; else by
a radix sort of small group ids) and each percentile is found by selection
(``np.partition``, linear time) on that group's slice (`select`). A layout is reused for a
coarser grouping whose groups are unions of its groups (endpoints -> request groups -> all).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

PERCENTILES: tuple[float, ...] = (50, 90, 95, 99)
"""The percentiles every latency table shows, next to ``max`` and the sample count."""

DEFINITION = "nearest rank: Pq is the smallest recorded value with at least q% of the samples at or below it"


def percentile_column(q: float) -> str:
    """The column name of a percentile: ``p95``, ``p99.9``."""
    return f"p{q:g}"


def nearest_rank_index(q: float, count: np.ndarray | int) -> np.ndarray | int:
    """0-based index of the nearest-rank ``q`` percentile in ``count`` sorted values."""
    rank = np.ceil(np.round(np.asarray(count, dtype="float64") * q / 100.0, 9)).astype("int64")
    index = np.maximum(rank, 1) - 1
    return int(index) if np.ndim(index) == 0 else index


def percentile(values: Sequence[float] | np.ndarray | pd.Series, q: float) -> float:
    """The nearest-rank ``q`` percentile of ``values`` (NaN ignored); NaN when there are none."""
    array = _known(values)
    if array.size == 0:
        return float("nan")
    index = nearest_rank_index(q, array.size)
    return float(np.partition(array, index)[index])


def summarise(
    values: Sequence[float] | np.ndarray | pd.Series, quantiles: Sequence[float] = PERCENTILES
) -> dict[str, float]:
    """``{"count", "p50", ..., "max"}`` of one series (NaN ignored)."""
    array = _known(values)
    picked = _pick(array, quantiles)
    result: dict[str, float] = {"count": int(array.size)}
    for q, value in zip(quantiles, picked, strict=False):
        result[percentile_column(q)] = value
    result["max"] = picked[-1]
    return result


def _known(values: Sequence[float] | np.ndarray | pd.Series) -> np.ndarray:
    """A float64 copy of the non-missing values (callers partition it in place)."""
    if isinstance(values, pd.Series):
        values = values.to_numpy(dtype="float64", na_value=np.nan)
    array = np.asarray(values, dtype="float64")
    return array[~np.isnan(array)]


def _pick(segment: np.ndarray, quantiles: Sequence[float], size: int | None = None) -> list[float]:
    """The ``quantiles`` and the max of the ``size`` smallest values of ``segment`` (all by
    default; NaN sort last), selected in place: ``segment`` is reordered."""
    size = segment.size if size is None else size
    if size == 0:
        return [float("nan")] * (len(quantiles) + 1)
    ranks = [nearest_rank_index(q, size) for q in quantiles] + [size - 1]
    segment.partition(sorted(set(ranks)))
    return [float(segment[rank]) for rank in ranks]


@dataclass
class Layout:
    """Values ordered so that each group's values are contiguous: one run per group."""

    order: np.ndarray | None
    """Position (in the caller's order) of each laid-out value; None: the caller's order itself."""
    values: np.ndarray
    """The values in layout order, NaN for rows that count but have no value (each run is
    reordered in place by `select`)."""
    bounds: np.ndarray
    """Start of every run, then the end of the last."""
    groups: np.ndarray
    """Group id of every run; -1 for rows left out."""


def arrange(values: np.ndarray, ids: np.ndarray, previous: Layout | None = None) -> Layout:
    """Lay ``values`` (NaN: no value) out by group id (``ids``, -1 = leave out); see `Layout`.

    ``previous`` is reused when every group of ``ids`` is a union of whole runs of it (its
    values only moved inside its runs, so they are still each group's values).
    """
    identity = None
    if previous is not None and previous.values.size == values.size and \
            _groups_in(ids) <= int((previous.groups >= 0).sum()):
        layout = _runs(ids if previous.order is None else ids[previous.order], previous.order, previous.values)
        if layout is not None and np.isin(layout.bounds, previous.bounds).all():
            return layout
        identity = layout if previous.order is None else None
    layout = identity or _runs(ids, None, None)
    if layout is not None:
        layout.values = values.astype("float64", copy=True)
        return layout
    order = _group_order(ids)
    layout = _runs(ids[order], order, values[order])
    assert layout is not None
    return layout


def _groups_in(ids: np.ndarray) -> int:
    """An upper bound of the distinct ids other than -1 (the largest id + 1)."""
    return int(ids.max()) + 1 if ids.size else 0


def _runs(ids: np.ndarray, order: np.ndarray | None, values: np.ndarray | None) -> Layout | None:
    """The runs of equal ids, if every id other than -1 has only one."""
    if ids.size == 0:
        return Layout(order, np.empty(0) if values is None else values, np.zeros(1, dtype="int64"),
                      np.empty(0, dtype="int64"))
    changes = ids[1:] != ids[:-1]
    if np.count_nonzero(changes) > 2 * _groups_in(ids):
        return None
    starts = np.flatnonzero(changes) + 1
    groups = ids[np.concatenate(([0], starts))].astype("int64")
    kept = groups[groups >= 0]
    if np.unique(kept).size != kept.size:
        return None
    bounds = np.concatenate(([0], starts, [ids.size])).astype("int64")
    return Layout(order, values if values is not None else np.empty(0), bounds, groups)


def _group_order(ids: np.ndarray) -> np.ndarray:
    """A stable order by id: numpy's radix sort on 8-bit ids, by segment when ids grow in blocks.

    Ids of (time window, group) on time-ordered rows grow block by block: the high bits
    (id >> 7) never decrease, so sorting each block by the low 7 bits orders the whole.
    """
    top = int(ids.max()) if ids.size else 0
    if top < 127:
        return np.argsort(ids.astype("int8"), kind="stable")
    high = ids >> 7
    known = high[ids >= 0]
    if (known[1:] >= known[:-1]).all():
        high = np.maximum.accumulate(high)  # rows left out (-1) take their neighbour's block
        low = np.where(ids < 0, -1, ids & 127).astype("int8")
        edges = np.concatenate(([0], np.flatnonzero(high[1:] != high[:-1]) + 1, [ids.size]))
        if len(edges) < 10_000:
            order = np.empty(ids.size, dtype="int64")
            for start, end in zip(edges[:-1], edges[1:], strict=True):
                order[start:end] = start + np.argsort(low[start:end], kind="stable")
            return order
    return np.argsort(ids, kind="stable")


def select(layout: Layout, count: int, quantiles: Sequence[float] = PERCENTILES) -> dict[str, np.ndarray]:
    """Per group id 0..count-1: ``samples`` (values that are not NaN), the nearest-rank
    ``quantiles`` of them and their ``max`` (NaN when there are none)."""
    samples = np.zeros(count, dtype="int64")
    picked = np.full((len(quantiles) + 1, count), np.nan)
    for group, start, end in zip(layout.groups, layout.bounds[:-1], layout.bounds[1:], strict=True):
        if group < 0:
            continue
        segment = layout.values[start:end]
        known = segment.size - int(np.count_nonzero(np.isnan(segment)))
        samples[group] = known
        picked[:, group] = _pick(segment, quantiles, known)
    result = {"samples": samples}
    for row, q in enumerate(quantiles):
        result[percentile_column(q)] = picked[row]
    result["max"] = picked[-1]
    return result


def grouped_percentiles(
    frame: pd.DataFrame,
    by: str | list[str],
    value: str,
    quantiles: Sequence[float] = PERCENTILES,
) -> pd.DataFrame:
    """Count, nearest-rank percentiles and max of ``value`` per group; rows missing ``value`` are left out."""
    keys = [by] if isinstance(by, str) else list(by)
    columns = ["count", *(percentile_column(q) for q in quantiles), "max"]
    data = frame.loc[frame[value].notna(), [*keys, value]]
    grouped = data.groupby(keys, observed=True, sort=True)
    index = grouped.size().index
    if data.empty:
        return pd.DataFrame(columns=columns, index=index, dtype="float64").astype({"count": "int64"})
    ids = grouped.ngroup().to_numpy().astype("int64")
    result = select(arrange(data[value].to_numpy(dtype="float64"), ids), len(index), quantiles)
    result["count"] = result.pop("samples")
    return pd.DataFrame(result, index=index)[columns]
