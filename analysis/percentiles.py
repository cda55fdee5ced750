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
coarser grouping whose groups are unions of its groups (`merge_runs`: endpoints -> request
groups -> all).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

PERCENTILES: tuple[float, ...] = (50, 90, 95, 99)
"""The percentiles every latency table shows, next to ``max`` and the sample count."""

DEFINITION = "nearest rank: Pq is the smallest recorded value with at least q% of the samples at or below it"

MIN_SAMPLES_RULE = (
    "a pq is judged only on at least 100 / (100 - q) samples (2 for a p50, 20 for a p95, 100 for a p99), "
    "over the whole run and in each window alike: with fewer, it is just the slowest sample"
)


def min_samples(q: float | None) -> int:
    """The fewest samples a ``q`` percentile is judged on (`MIN_SAMPLES_RULE`); ``max`` (None) needs one.

    Below ``100 / (100 - q)`` samples the nearest-rank pq is the largest value, so a "p95"
    of 12 requests would judge the single slowest one.
    """
    if q is None or q >= 100:
        return 1
    return max(1, math.ceil(round(100 / (100 - q), 9)))


def percentile_column(q: float) -> str:
    """The column name of a percentile: ``p95``, ``p99.9``."""
    return f"p{q:g}"


def nearest_rank_index(q: float, count: np.ndarray | int) -> np.ndarray | int:
    """0-based index of the nearest-rank ``q`` percentile in ``count`` sorted values."""
    rank = np.ceil(np.round(np.asarray(count, dtype="float64") * q / 100.0, 9)).astype("int64")
    index = np.maximum(rank, 1) - 1
    return int(index) if np.ndim(index) == 0 else index


def slowest(values: Sequence[float] | np.ndarray | pd.Series, count: int = 4) -> tuple[float, ...]:
    """The ``count`` largest values (NaN ignored), largest first: enough to tell `above_at_minimum`."""
    array = _known(values)
    if array.size > count:
        array = np.partition(array, array.size - count)[-count:]
    return tuple(float(value) for value in np.sort(array)[::-1])


def above_at_minimum(slowest_values: Sequence[float], q: float | None, threshold: float) -> bool:
    """Whether a pq judged on fewer than `min_samples` is already above ``threshold``: with the
    samples it lacks all instant, the pq of `min_samples` would still be one of these slow ones
    (for every usual q: the two slowest are above the threshold)."""
    needed = min_samples(q)
    deciding = needed - nearest_rank_index(q, needed) if q is not None else 1
    return sum(value > threshold for value in slowest_values) >= deciding


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

    firsts: np.ndarray
    """Position (in the caller's order) of the first value of every run: enough to tell a
    coarser grouping's id of each run (`merge_runs`)."""
    values: np.ndarray
    """The values in layout order, NaN for rows that count but have no value (each run is
    reordered in place by `select`)."""
    bounds: np.ndarray
    """Start of every run, then the end of the last."""
    groups: np.ndarray
    """Group id of every run; -1 for rows left out."""


def arrange(values: np.ndarray, ids: np.ndarray, sizes: np.ndarray | None = None) -> Layout:
    """Lay ``values`` (NaN: no value) out by group id (``ids``, -1 = leave out); see `Layout`.

    As they are when every group's rows are already consecutive (time windows of rows in
    time order), else in a stable order by id (`_group_order`). ``sizes``: the rows of each
    id, when the caller knows them.
    """
    layout = _runs(ids)
    if layout is not None:
        layout.values = values.astype("float64", copy=True)
        return layout
    order = _group_order(ids)
    if sizes is None:
        sizes = np.bincount(ids[ids >= 0], minlength=_groups_in(ids))
    counts = np.concatenate(([ids.size - int(sizes.sum())], sizes))
    groups = np.flatnonzero(counts) - 1
    bounds = np.concatenate(([0], np.cumsum(counts[counts > 0]))).astype("int64")
    return Layout(order[bounds[:-1]], values[order], bounds, groups.astype("int64"))


def merge_runs(previous: Layout, ids: np.ndarray) -> Layout | None:
    """``previous`` regrouped by ``ids`` that are constant on each of its runs (a grouping by
    some of its keys, or by none): neighbouring runs of one new group merge, no value moves.

    None when a new group is not one stretch of runs, or when ``previous`` left rows out
    (they may belong to a new group).
    """
    if ids.size == 0 or previous.groups.size == 0:
        return None
    if (previous.groups < 0).any() and ids.min() != ids.max():
        return None
    starts = previous.bounds[:-1]
    run_ids = ids[previous.firsts].astype("int64")
    change = np.concatenate(([True], run_ids[1:] != run_ids[:-1]))
    groups = run_ids[change]
    kept = groups[groups >= 0]
    if np.unique(kept).size != kept.size:
        return None
    bounds = np.concatenate((starts[change], previous.bounds[-1:]))
    return Layout(previous.firsts[change], previous.values, bounds, groups)


def _groups_in(ids: np.ndarray) -> int:
    """An upper bound of the distinct ids other than -1 (the largest id + 1)."""
    return int(ids.max()) + 1 if ids.size else 0


def _runs(ids: np.ndarray) -> Layout | None:
    """The runs of equal ids as they stand, if every id other than -1 has only one (values to fill in)."""
    if ids.size == 0:
        return Layout(np.empty(0, dtype="int64"), np.empty(0), np.zeros(1, dtype="int64"), np.empty(0, dtype="int64"))
    changes = ids[1:] != ids[:-1]
    if np.count_nonzero(changes) > 2 * _groups_in(ids):
        return None
    starts = np.flatnonzero(changes) + 1
    groups = ids[np.concatenate(([0], starts))].astype("int64")
    kept = groups[groups >= 0]
    if np.unique(kept).size != kept.size:
        return None
    bounds = np.concatenate(([0], starts, [ids.size])).astype("int64")
    return Layout(bounds[:-1], np.empty(0), bounds, groups)


def _group_order(ids: np.ndarray) -> np.ndarray:
    """A stable order by id: numpy's radix sort on 8-bit ids, by segment when ids grow in blocks.

    Ids of (time window, group) on time-ordered rows grow block by block: the high bits
    (id >> 7) never decrease, so sorting each block by the low 7 bits orders the whole.
    """
    top = int(ids.max()) if ids.size else 0
    if top < 127:
        return np.argsort(ids.astype("int8"), kind="stable")
    if ids.min() < 0:  # rows left out go first, the rest is ordered on its own
        kept = np.flatnonzero(ids >= 0)
        return np.concatenate((np.flatnonzero(ids < 0), kept[_group_order(ids[kept])]))
    high = ids >> 7
    if (high[1:] >= high[:-1]).all():
        low = (ids & 127).astype("int8")
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
