"""Arrival-rate mode: the per-user interval and the detection of a load shortfall."""

from __future__ import annotations

import pytest

from fwload.errors import UsageError
from fwload.scenario.loader import scenario_from_text
from fwload.scenario.pacing import offered_load_shortfall, pacing_interval


def scenario_with(load: str):
    return scenario_from_text(f"name: t\nusers: [{{class: Listener}}]\nload: {load}\n")


def test_interval_spreads_the_target_rate_over_the_users():
    scenario = scenario_with("{users: 10, spawn_rate: 10, pacing: {iterations_per_s: 5}}")
    assert pacing_interval(scenario, 10) == 2.0
    assert pacing_interval(scenario, 4) == 0.8


def test_no_interval_without_pacing_or_without_users():
    assert pacing_interval(scenario_with("{users: 2, spawn_rate: 2}"), 2) is None
    assert (
        pacing_interval(scenario_with("{users: 2, spawn_rate: 2, pacing: {iterations_per_s: 1}}"), 0) is None
    )


def test_pacing_needs_a_positive_rate():
    with pytest.raises(
        UsageError, match=r"load\.pacing\.iterations_per_s: should be greater than 0 \(got 0\)"
    ):
        scenario_with("{pacing: {iterations_per_s: 0}}")


@pytest.mark.parametrize(
    ("target", "achieved", "tolerance", "expected"),
    [(10, 8, 0.1, 0.2), (10, 0, 0.1, 1.0), (10, 9.5, 0.1, None), (10, 12, 0.0, None), (2, 1.5, 0.2, 0.25)],
)
def test_shortfall_is_reported_only_beyond_the_tolerance(target, achieved, tolerance, expected):
    result = offered_load_shortfall(target, achieved, tolerance)
    assert result == (None if expected is None else pytest.approx(expected))


@pytest.mark.parametrize(("target", "achieved", "tolerance"), [(0, 1, 0.1), (1, -1, 0.1), (1, 1, 1.0)])
def test_shortfall_refuses_meaningless_inputs(target, achieved, tolerance):
    with pytest.raises(ValueError):
        offered_load_shortfall(target, achieved, tolerance)
