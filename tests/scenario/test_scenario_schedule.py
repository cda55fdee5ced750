"""The pure schedule: users, spawn rate and stage at given elapsed times, for every profile."""

from __future__ import annotations

import math

import pytest

from fwload.scenario.loader import scenario_from_text
from fwload.scenario.schedule import Schedule, Stage, Tick


def schedule_for(load: str, caps: str = "{}") -> Schedule:
    scenario = scenario_from_text(f"name: t\nusers: [{{class: Listener}}]\nload: {load}\ncaps: {caps}\n")
    return Schedule.for_scenario(scenario)


def users_at(schedule: Schedule, *times: float) -> list[int | None]:
    return [None if (tick := schedule.at(t)) is None else tick.users for t in times]


def test_constant_holds_the_users_then_ends():
    schedule = schedule_for("{users: 4, spawn_rate: 2, duration: 30s}")
    assert schedule.at(0) == Tick(4, 2.0, "constant")
    assert users_at(schedule, 15, 29.9, 30, 31) == [4, 4, None, None]


def test_soak_is_constant_under_its_own_stage_name():
    schedule = schedule_for("{profile: soak, users: 10, spawn_rate: 5, duration: 3h}", "{max_duration: 4h}")
    assert schedule.at(2 * 3600) == Tick(10, 5.0, "soak")
    assert schedule.at(3 * 3600) is None


def test_ramp_grows_linearly_from_zero():
    schedule = schedule_for("{profile: ramp, users: 10, duration: 100s}")
    assert users_at(schedule, 0, 25, 50, 94, 96, 99.9, 100) == [0, 3, 5, 9, 10, 10, None]
    assert schedule.at(50).stage == "ramp"


def test_ramp_from_users_and_spawn_rate_keeps_up_with_the_slope():
    schedule = schedule_for("{profile: ramp, from_users: 20, users: 60, spawn_rate: 1, duration: 10s}")
    assert users_at(schedule, 0, 5, 9.99) == [20, 40, 60]
    assert schedule.at(5).spawn_rate == 4.0


def test_ramp_down_is_linear_too():
    schedule = schedule_for("{profile: ramp, from_users: 10, users: 2, duration: 80s}")
    assert users_at(schedule, 0, 40, 79) == [10, 6, 2]


def test_steps_rise_in_equal_increments():
    schedule = schedule_for("{profile: steps, users: 10, spawn_rate: 5, steps: {count: 5, duration: 1m}}")
    assert users_at(schedule, 0, 59.9, 60, 150, 240, 299.9, 300) == [2, 2, 4, 6, 10, 10, None]
    assert [tick.stage for tick in map(schedule.at, (0, 60, 299))] == ["step-1", "step-2", "step-5"]


def test_steps_round_uneven_increments():
    schedule = schedule_for("{profile: steps, users: 10, spawn_rate: 5, duration: 3m, steps: {count: 3}}")
    assert users_at(schedule, 0, 60, 120) == [3, 7, 10]


def test_spike_goes_from_base_to_top_and_back():
    schedule = schedule_for(
        "{profile: spike, users: 40, spawn_rate: 5, duration: 6m, spike: {base_users: 5, at: 2m, hold: 1m}}"
    )
    assert schedule.at(60) == Tick(5, 5.0, "base")
    assert schedule.at(120) == Tick(40, 35.0, "spike")
    assert schedule.at(179.9) == Tick(40, 35.0, "spike")
    assert schedule.at(180) == Tick(5, 35.0, "recovery")
    assert schedule.at(360) is None


def test_spike_defaults_to_thirds_of_the_duration():
    schedule = schedule_for(
        "{profile: spike, users: 9, spawn_rate: 3, duration: 90s, spike: {base_users: 3}}"
    )
    assert [(s.name, s.start, s.end, s.users) for s in schedule.stages] == [
        ("base", 0.0, 30.0, 3),
        ("spike", 30.0, 60.0, 9),
        ("recovery", 60.0, 90.0, 3),
    ]


def test_spike_at_the_start_has_no_base_stage():
    schedule = schedule_for(
        "{profile: spike, users: 9, duration: 60s, spike: {base_users: 1, at: 0, hold: 60s}}"
    )
    assert [stage.name for stage in schedule.stages] == ["spike"]


def test_caps_cut_the_schedule_short_and_limit_users():
    stages = [Stage("constant", 0.0, 100.0, 50, 5.0)]
    schedule = Schedule(stages, max_users=20, max_duration=30.0)
    assert schedule.at(10) == Tick(20, 5.0, "constant")
    assert schedule.at(30) is None


def test_negative_elapsed_counts_as_the_start():
    assert schedule_for("{users: 3, spawn_rate: 3}").at(-1) == Tick(3, 3.0, "constant")


def test_common_options_follow_locust_u_r_t():
    schedule = Schedule.from_common_options(users=7, spawn_rate=3.0, run_time=100)
    assert schedule.at(99) == Tick(7, 3.0, "constant")
    assert schedule.at(100) is None


def test_common_options_unset_run_one_user_until_stopped():
    schedule = Schedule.from_common_options(users=None, spawn_rate=None, run_time=None)
    assert schedule.at(10**7) == Tick(1, 1.0, "constant")
    assert schedule.end == math.inf


def test_stage_at_maps_offsets_to_stages():
    schedule = schedule_for("{profile: steps, users: 4, steps: {count: 2, duration: 10s}}")
    assert [getattr(schedule.stage_at(t), "name", None) for t in (-1, 0, 9.9, 10, 20)] == [
        None,
        "step-1",
        "step-1",
        "step-2",
        None,
    ]


def test_a_schedule_without_stages_is_refused():
    with pytest.raises(ValueError, match="at least one stage"):
        Schedule([])
