"""Percentiles are exact recorded values by the nearest-rank definition, per series and per group."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

from analysis.percentiles import arrange, grouped_percentiles, merge_runs, nearest_rank_index, percentile, select, summarise


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


def _exact(values: np.ndarray) -> dict[str, float]:
    """The reference: numpy's own nearest-rank definition, group by group."""
    found = {f"p{q}": float(np.percentile(values, q, method="inverted_cdf")) for q in (50, 90, 95, 99)}
    return {**found, "max": float(values.max()), "samples": len(values)}


def _ids(rng: np.random.Generator, size: int, groups: int, shape: str, left_out: bool) -> np.ndarray:
    ids = rng.integers(0, groups, size)
    if shape == "sorted":
        ids = np.sort(ids)
    elif shape == "blocks":  # (time window, group) ids of time-ordered rows: high bits never decrease
        windows = np.sort(rng.integers(0, max(groups // 8, 1), size))
        ids = windows * 8 + rng.integers(0, 8, size)
    ids = ids.astype("int64")
    if left_out:
        ids[rng.random(size) < 0.01] = -1
    return ids


@pytest.mark.parametrize("seed", range(12))
def test_selection_by_group_equals_numpy_exact_percentiles(seed):
    """Property: for random values (with NaN for rows without a value), group counts and id
    layouts, every group's count, percentiles and max are numpy's exact ones; so are those of
    a coarser grouping laid out from the first."""
    rng = np.random.default_rng(seed)
    size = int(rng.integers(0, 6000))
    groups = int(rng.choice([1, 3, 40, 126, 127, 300, 2000]))
    shape = ("random", "sorted", "blocks")[seed % 3]
    values = np.round(rng.lognormal(4, 1.2, size), int(rng.integers(0, 4)))
    values[rng.random(size) < 0.05] = np.nan
    ids = _ids(rng, size, groups, shape, left_out=seed % 2 == 1)
    top = int(ids.max()) + 1 if size else 0
    layout = arrange(values, ids)
    coarse_ids = np.where(ids < 0, -1, ids // 8)
    coarse = merge_runs(layout, coarse_ids)
    assert (coarse is None) == (seed % 2 == 1 and bool((ids < 0).any()) and coarse_ids.min() != coarse_ids.max())
    coarse = coarse or arrange(values, coarse_ids)
    for found_ids, found, count in ((ids, select(layout, top), top),
                                    (coarse_ids, select(coarse, top // 8 + 1), top // 8 + 1)):
        for group in range(count):
            known = values[(found_ids == group) & ~np.isnan(values)]
            if not known.size:
                assert found["samples"][group] == 0 and np.isnan(found["p50"][group])
                continue
            assert {key: found[key][group] for key in ("p50", "p90", "p95", "p99", "max", "samples")} == \
                _exact(known), (seed, group)


@pytest.mark.parametrize("seed", range(4))
def test_request_tables_equal_numpy_exact_percentiles_for_every_grouping(seed):
    from analysis.metrics.requests import NOT_TIMED, RequestTables

    rng = np.random.default_rng(100 + seed)
    size = 20_000
    frame = pd.DataFrame({
        "ts": rng.uniform(0, 600, size),  # not in time order: flushes and workers interleave
        "group": pd.Categorical(rng.choice(["browse", "listen", "auth", "upload"], size)),
        "method": pd.Categorical(rng.choice(["GET", "POST"], size)),
        "name": pd.Categorical(rng.choice(["/a", "/b", "/c"], size)),
        "response_ms": np.round(rng.lognormal(4, 1, size), 3),
        "error_kind": pd.Categorical(rng.choice(["", "", "", "http", "throttled", "connection"], size)),
    })
    frame.loc[rng.random(size) < 0.01, "response_ms"] = np.nan
    frame["window"] = np.floor(frame["ts"] / 15)
    frame["stage"] = np.searchsorted([0, 200, 400], frame["ts"], side="right") - 1
    tables = RequestTables(frame)
    timed = frame.loc[~frame["error_kind"].isin(NOT_TIMED) & frame["response_ms"].notna()]
    for keys in (["group", "method", "name"], ["group"], ["stage", "group"], ["stage"], ["window", "group"],
                 ["window"]):
        table = tables.table(keys)
        expected = frame.groupby(keys, observed=True).size()
        assert table["requests"].to_dict() == expected.to_dict()
        for key, rows in timed.groupby(keys, observed=True):
            found = table.loc[key if len(keys) > 1 else key[0]]
            assert {name: found[name] for name in ("p50", "p90", "p95", "p99", "max", "samples")} == \
                _exact(rows["response_ms"].to_numpy()), (keys, key)


@pytest.mark.parametrize("q", [90, 95, 99, 99.9])
def test_a_percentile_on_too_few_samples_is_decided_above_only_when_padding_cannot_save_it(q):
    """Padded with instant samples to the `min_samples` it needs, the pq (nearest rank, as
    everywhere) is above the threshold exactly when the slowest samples put it there."""
    from analysis.percentiles import above_at_minimum, min_samples, slowest

    needed = min_samples(q)
    for above in range(0, 4):
        few = [5.0] * above + [1.0] * 2
        assert len(few) < needed
        padded = few + [0.0] * (needed - len(few))
        assert above_at_minimum(slowest(few), q, 3.0) is (percentile(padded, q) > 3.0), (q, above)
