"""The scenarios shipped in scenarios/ validate and say what the docs promise."""

from __future__ import annotations

import pytest

from fwload.scenario.loader import load_scenario, scenario_from_text

EXPECTED = {"smoke.yaml", "upload-and-play.yaml", "step-capacity.yaml", "soak.yaml", "spike.yaml",
            "evening-peak.yaml"}


def test_the_shipped_scenarios_are_there(shipped):
    assert {path.name for path in shipped.glob("*.yaml")} >= EXPECTED


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_shipped_scenario_validates_targets_the_standin_and_round_trips(shipped, name):
    scenario = load_scenario(shipped / name)
    assert scenario.name == name.removesuffix(".yaml")
    assert scenario.target.host is None
    assert scenario_from_text(scenario.dump_resolved()) == scenario


def test_smoke_is_tiny(shipped):
    scenario = load_scenario(shipped / "smoke.yaml")
    assert 30 <= scenario.load.duration <= 45
    assert 2 <= scenario.load.users <= 4


def test_upload_and_play_runs_four_listeners_two_uploaders_with_bad_files(shipped):
    scenario = load_scenario(shipped / "upload-and-play.yaml")
    weights = {mix.class_name: mix.weight for mix in scenario.users}
    share = {name: scenario.load.users * weight / sum(weights.values()) for name, weight in weights.items()}
    assert share == {"Listener": 4, "Uploader": 2}
    uploader = next(mix for mix in scenario.users if mix.class_name == "Uploader")
    assert uploader.options.bad_files == 0.1
    assert scenario.load.duration == 60
    assert scenario.slos.groups and scenario.slos.stream_ttfb_p95 is not None


def test_step_capacity_steps_up_to_its_users(shipped):
    stages = load_scenario(shipped / "step-capacity.yaml").stages()
    users = [stage.users for stage in stages]
    assert len(stages) > 2 and users == sorted(users) and len(set(users)) == len(users)


def test_soak_lasts_hours_and_spike_returns_to_its_base(shipped):
    assert load_scenario(shipped / "soak.yaml").load.duration >= 3600
    stages = load_scenario(shipped / "spike.yaml").stages()
    assert [stage.name for stage in stages] == ["base", "spike", "recovery"]
    assert stages[0].users == stages[2].users < stages[1].users


def test_evening_peak_ramps_arrivals_up_then_down_and_fails_on_any_dropped_session(shipped):
    from fwload.scenario.arrivals import plan_of

    scenario = load_scenario(shipped / "evening-peak.yaml")
    plan = plan_of(scenario.load)
    rates = [plan.rate_at(t) for t in (0, 90, 200, 400, 599)]
    assert rates[0] < rates[1] < rates[2] == rates[3] > rates[4] > 0
    assert {mix.class_name for mix in scenario.users} == {"Listener", "Uploader"}
    assert scenario.slos.dropped_sessions == 0
