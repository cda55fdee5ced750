"""Exact percentiles by the nearest-rank definition, for one series or many groups at once.

Locust keeps response times rounded to about two significant digits; SLO verdicts must not
inherit that error, so every percentile here is a value that was actually recorded:

    Pq = the smallest recorded value x such that at least q % of the values are <= x
       = sorted_values[ceil(q / 100 * n) - 1]            (nearest rank, 1 <= rank <= n)

(numpy's ``method="inverted_cdf"`` is the same definition). Each result carries the sample
count ``n`` behind it, because a p99 of 20 samples is the maximum, not a p99.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

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


def percentile(values: Sequence[float] | np.ndarray | pd.Series, q: float) -> float:
    """The nearest-rank ``q`` percentile of ``values`` (NaN ignored); NaN when there are none."""
    array = np.asarray(values, dtype="float64")
    array = array[~np.isnan(array)]
    if array.size == 0:
        return float("nan")
    index = nearest_rank_index(q, array.size)
    return float(np.partition(array, index)[index])


def summarise(
    values: Sequence[float] | np.ndarray | pd.Series, quantiles: Sequence[float] = PERCENTILES
) -> dict[str, float]:
    """``{"count", "p50", ..., "max"}`` of one series (NaN ignored)."""
    array = np.sort(np.asarray(values, dtype="float64"))
    array = array[~np.isnan(array)]
    result: dict[str, float] = {"count": int(array.size)}
    for q in quantiles:
        result[percentile_column(q)] = (
            float(array[nearest_rank_index(q, array.size)]) if array.size else float("nan")
        )
    result["max"] = float(array[-1]) if array.size else float("nan")
    return result


def grouped_percentiles(
    frame: pd.DataFrame,
    by: str | list[str],
    value: str,
    quantiles: Sequence[float] = PERCENTILES,
    presorted: bool = False,
) -> pd.DataFrame:
    """Count, nearest-rank percentiles and max of ``value`` per group, from one ordering.

    Rows are ordered by value, then stably by group code (a radix sort for small codes), so
    every group's values sit sorted side by side and each percentile is one indexed read.
    ``presorted`` says ``frame`` is already sorted by ``value``: callers computing several
    groupings of the same rows sort once. Rows whose ``value`` is missing are left out.
    """
    keys = [by] if isinstance(by, str) else list(by)
    columns = ["count", *(percentile_column(q) for q in quantiles), "max"]
    data = frame.loc[frame[value].notna(), [*keys, value]]
    grouped = data.groupby(keys, observed=True, sort=True)
    index = grouped.size().index
    if data.empty:
        return pd.DataFrame(columns=columns, index=index, dtype="float64").astype({"count": "int64"})
    codes = grouped.ngroup().to_numpy()
    codes = codes.astype(np.min_scalar_type(len(index)))
    values = data[value].to_numpy(dtype="float64")
    by_value = np.arange(len(values)) if presorted else np.argsort(values, kind="stable")
    order = by_value[np.argsort(codes[by_value], kind="stable")]
    ordered = values[order]
    counts = np.bincount(codes, minlength=len(index))
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    result = {"count": counts}
    for q in quantiles:
        result[percentile_column(q)] = ordered[starts + nearest_rank_index(q, counts)]
    result["max"] = ordered[starts + counts - 1]
    return pd.DataFrame(result, index=index)[columns]
