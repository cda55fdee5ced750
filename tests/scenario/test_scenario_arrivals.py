"""Open arrivals as arithmetic: due instants for constant, stepped and ramping rates, the split
across processes, the class mix, session lengths, and the scenario's `arrivals` profile."""

from __future__ import annotations

import math
import random
import statistics

import pytest

from fwload.errors import UsageError
from fwload.scenario.arrivals import (
    ArrivalPlan,
    ArrivalStage,
    ClassPicker,
    SessionLength,
    plan_of,
    slot_allocation_s,
)
from fwload.scenario.loader import scenario_from_text
from fwload.scenario.schedule import Schedule
from fwload.units import parse_rate


def scenario_with(arrivals: str, load: str = "", caps: str = "{}", users: str = "[{class: Listener}]"):
    return scenario_from_text(
        f"name: t\nusers: {users}\nload: {{profile: arrivals, {load}arrivals: {arrivals}}}\ncaps: {caps}\n"
    )


def instants(plan: ArrivalPlan, worker: int = 0, workers: int = 1) -> list[float]:
    return [t for _k, t in plan.instants(worker, workers)]


def test_a_constant_rate_is_due_at_even_intervals_from_zero():
    plan = ArrivalPlan([ArrivalStage(0, 3, 2, 2)])
    assert instants(plan) == [0.0, 0.5, 1.0, 1.5, 2.0, 2.5]
    assert plan.due() == 6 and plan.rate_at(1.2) == 2.0 and plan.rate_at(3.0) == 0.0


def test_a_ramp_from_zero_is_due_where_the_integral_reaches_each_whole_session():
    plan = plan_of(scenario_with("{stages: [{duration: 2s, rate: 4, ramp: true}]}").load)
    assert plan.count_until(1.0) == 1.0 and plan.count_until(2.0) == 4.0
    assert instants(plan) == pytest.approx([0.0, 1.0, math.sqrt(2), math.sqrt(3)], abs=1e-12)


def test_steps_hold_each_rate_for_its_stretch():
    plan = plan_of(scenario_with("{stages: [{duration: 2s, rate: 1}, {duration: 2s, rate: 3/s}]}").load)
    assert instants(plan) == pytest.approx([0, 1, 2, 2 + 1 / 3, 2 + 2 / 3, 3, 3 + 1 / 3, 3 + 2 / 3], abs=1e-12)


def test_a_ramp_down_to_zero_thins_the_arrivals_out():
    plan = plan_of(scenario_with("{stages: [{duration: 2s, rate: 2}, {duration: 2s, rate: 0, ramp: true}]}").load)
    assert plan.total == 6.0
    assert instants(plan) == pytest.approx([0, 0.5, 1, 1.5, 2, 2 + (2 - math.sqrt(2))], abs=1e-12)


def test_a_fractional_total_starts_the_last_partial_session():
    plan = ArrivalPlan([ArrivalStage(0, 3, 0.5, 0.5)])
    assert instants(plan) == [0.0, 2.0] and plan.instant(1) == 2.0 and plan.instant(2) is None


@pytest.mark.parametrize("workers", [2, 3])
def test_processes_split_the_one_sequence_and_together_start_all_of_it(workers):
    plan = plan_of(scenario_with("{stages: [{duration: 3s, rate: 2}, {duration: 2s, rate: 5, ramp: true}]}").load)
    everything = list(plan.instants())
    shares = [list(plan.instants(w, workers)) for w in range(workers)]
    assert [k for k, _ in shares[0]] == list(range(0, plan.due(), workers))
    assert sorted(item for share in shares for item in share) == everything
    assert sum(len(share) for share in shares) == plan.due() == 13


def test_process_two_of_two_takes_the_odd_arrivals():
    plan = ArrivalPlan([ArrivalStage(0, 3, 2, 2)])
    assert instants(plan, 1, 2) == [0.5, 1.5, 2.5]
    with pytest.raises(ValueError):
        list(plan.instants(2, 2))


def test_classes_alternate_by_weight_in_every_cycle():
    picker = ClassPicker()
    picks = [picker.pick({"Listener": 3, "Uploader": 1}) for _ in range(8)]
    assert picks == ["Listener", "Listener", "Uploader", "Listener"] * 2
    assert ClassPicker().pick({"Listener": 0}) is None


def test_session_lengths_follow_their_distribution_around_the_median():
    rng = random.Random(7)
    assert SessionLength("fixed", 30.0).draw(rng) == 30.0
    for distribution in ("exponential", "lognormal"):
        length = SessionLength(distribution, 30.0, sigma=0.8)
        draws = [length.draw(rng) for _ in range(20000)]
        assert statistics.median(draws) == pytest.approx(30.0, rel=0.05)
        assert statistics.fmean(draws) == pytest.approx(length.mean, rel=0.05)
    assert SessionLength("exponential", 30.0).mean == pytest.approx(30 / math.log(2))


def test_the_shape_keeps_the_slots_and_names_each_rate_after_a_slot_stage():
    scenario = scenario_with("{stages: [{duration: 10s, rate: 1}, {duration: 20s, rate: 30/min, ramp: true}], "
                             "slots: 20}", load="spawn_rate: 10, ")
    assert scenario.load.duration == 30.0 and slot_allocation_s(20, 10) == 3.0
    schedule = Schedule.for_scenario(scenario)
    assert [(s.name, s.start, s.end, s.users) for s in schedule.stages] == [
        ("slots", 0.0, 3.0, 20), ("1/s", 3.0, 13.0, 20), ("1/s→30/min", 13.0, 33.0, 20)]
    assert schedule.at(0).users == 20 and schedule.at(20).rate == 0.5 and schedule.at(33) is None


def test_slots_default_to_the_cap_all_spawned_within_a_second_and_the_dump_reloads_the_same():
    scenario = scenario_with("{rate: 2}", load="duration: 1m, ", caps="{max_users: 40}")
    assert scenario.load.arrivals.slots == 40 and scenario.load.spawn_rate == 40.0
    again = scenario_from_text(scenario.dump_resolved())
    assert again.stages() == scenario.stages()


def test_a_duration_override_stretches_the_arrival_stages_in_proportion():
    from fwload.scenario.loader import with_overrides

    scenario = scenario_with("{stages: [{duration: 10s, rate: 1}, {duration: 30s, rate: 2, ramp: true}]}")
    longer = with_overrides(scenario, duration="80s")
    assert [(s.duration, s.rate, s.ramp) for s in longer.load.arrivals.stages] == [(20.0, 1.0, False),
                                                                                    (60.0, 2.0, True)]


def test_rates_are_per_second_or_written_with_their_unit():
    assert [parse_rate(v) for v in (2, "2/s", "30/min", "90/h")] == [2.0, 2.0, 0.5, 0.025]
    with pytest.raises(ValueError, match="not a rate"):
        parse_rate("2 per s")


@pytest.mark.parametrize(("text", "message"), [
    ("name: t\nusers: [{class: Listener}]\nload: {users: 4, pacing: {iterations_per_s: 2}}\n",
     "load.pacing was replaced by the open-arrivals profile"),
    ("name: t\nusers: [{class: Listener}]\nload: {profile: arrivals}\n", "load.arrivals: profile: arrivals needs"),
    ("name: t\nusers: [{class: Listener}]\nload: {profile: arrivals, users: 5, arrivals: {rate: 1}}\n",
     "load.users: not used with profile: arrivals"),
    ("name: t\nusers: [{class: Listener}]\nload: {profile: arrivals, arrivals: {rate: 1, stages: "
     "[{duration: 1s, rate: 1}]}}\n", "give either rate (constant) or stages"),
    ("name: t\nusers: [{class: Listener}]\nload: {profile: arrivals, duration: 5s, arrivals: {stages: "
     "[{duration: 2s, rate: 1}]}}\n", "load.duration: the arrival stages take 2s, not 5s"),
    ("name: t\nusers: [{class: Listener}]\nload: {profile: arrivals, arrivals: {rate: 1, slots: 300}}\n",
     "load.arrivals.slots: 300 slots exceed caps.max_users (200)"),
    ("name: t\nusers: [{class: Listener, fixed_count: 2}]\nload: {profile: arrivals, arrivals: {rate: 1}}\n",
     "users[0].fixed_count: not used with profile: arrivals"),
    ("name: t\nusers: [{class: Listener}]\nload: {profile: arrivals, arrivals: {rate: 1, session: "
     "{length: null}}}\n", "a session needs a length or a number of iterations"),
    ("name: t\nusers: [{class: Listener}]\nload: {profile: constant, users: 2, arrivals: {rate: 1}}\n",
     "load.arrivals: only used with profile: arrivals"),
])
def test_a_wrong_arrivals_section_is_one_message_naming_the_field(text, message):
    with pytest.raises(UsageError) as caught:
        scenario_from_text(text)
    assert message in caught.value.problem
