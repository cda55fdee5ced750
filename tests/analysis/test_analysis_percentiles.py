"""Percentiles are exact recorded values by the nearest-rank definition, per series and per group."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

from analysis.percentiles import grouped_percentiles, nearest_rank_index, percentile, summarise


def test_nearest_rank_on_1_to_100_picks_the_value_of_that_rank():
    values = np.arange(1, 101, dtype=float)
    assert [percentile(values, q) for q in (50, 90, 95, 99, 100)] == [50, 90, 95, 99, 100]


def test_p95_of_20_samples_is_the_19th_value_and_p99_is_the_max():
    values = np.random.default_rng(3).permutation(np.arange(1, 21, dtype=float))
    assert percentile(values, 95) == 19
    assert percentile(values, 99) == 20


@pytest.mark.parametrize("size", [1, 2, 7, 20, 99, 1000, 1001])
@pytest.mark.parametrize("q", [50, 90, 95, 99])
def test_matches_numpy_inverted_cdf(size, q):
    values = np.random.default_rng(size).lognormal(5, 1, size)
    assert percentile(values, q) == np.percentile(values, q, method="inverted_cdf")
    assert percentile(values, q) in values


@pytest.mark.parametrize("size", [1, 999, 1000, 1001, 12345])
def test_fractional_percentile_rank_is_exact(size):
    """numpy computes 0.999 * 1000 as 999.0000000000001 and picks rank 1000; the definition says 999."""
    values = np.sort(np.random.default_rng(size).normal(0, 1, size))
    rank = max(1, math.ceil(Fraction("99.9") * size / 100))
    assert percentile(values, 99.9) == values[rank - 1]


def test_rank_index_never_leaves_the_array():
    assert nearest_rank_index(1, 5) == 0
    assert nearest_rank_index(100, 5) == 4


def test_missing_values_are_ignored_and_empty_gives_nan():
    assert percentile([np.nan, 3.0, 1.0, 2.0], 50) == 2.0
    assert np.isnan(percentile([], 50))
    assert summarise([np.nan])["count"] == 0


def test_grouped_percentiles_equal_per_group_numpy_and_carry_counts():
    rng = np.random.default_rng(11)
    frame = pd.DataFrame({"group": rng.choice(["a", "b", "c"], 5000), "ms": rng.exponential(200, 5000)})
    frame.loc[::97, "ms"] = np.nan
    table = grouped_percentiles(frame, "group", "ms")
    for group, rows in frame.dropna().groupby("group"):
        values = rows["ms"].to_numpy()
        assert table.at[group, "count"] == len(values)
        for q in (50, 90, 95, 99):
            assert table.at[group, f"p{q}"] == np.percentile(values, q, method="inverted_cdf")
        assert table.at[group, "max"] == values.max()


def test_grouped_percentiles_by_two_keys():
    frame = pd.DataFrame(
        {"stage": [0, 0, 0, 1, 1], "group": ["x", "x", "y", "x", "x"], "ms": [30.0, 10.0, 5.0, 7.0, 9.0]}
    )
    table = grouped_percentiles(frame, ["stage", "group"], "ms", (50,))
    assert table.loc[(0, "x"), "p50"] == 10.0
    assert table.loc[(1, "x"), "max"] == 9.0
    assert table.loc[(0, "y"), "count"] == 1
