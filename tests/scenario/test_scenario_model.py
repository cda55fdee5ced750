"""The scenario model: defaults, cross-field checks, the resolved dump and field help."""

from __future__ import annotations

import typing

import pytest
from pydantic import BaseModel

from fwload.errors import UsageError
from fwload.scenario.loader import scenario_from_text
from fwload.scenario.model import Scenario
from fwload.users.options import USER_CLASS_OPTIONS

FULL = """
name: full
description: every section set
target:
  host: https://funkwhale.example.org/
  auth: session
  password: s3cret-Passw0rd
  request_timeout: 10s
  ready_timeout: 2m
users:
  - {class: Listener, weight: 3, options: {range_bytes: 65536, wait: [1s, 2s]}}
  - {class: Uploader, weight: 1, fixed_count: 1, options: {bad_files: 0.1, formats: [mp3]}}
load:
  profile: spike
  users: 20
  spawn_rate: 4
  duration: 3m
  spike: {base_users: 4, at: 1m}
caps: {max_duration: 10m, max_users: 30}
slos:
  groups: {browse: {p50: 300ms, p95: 1s, p99: 2s}, listen: {p95: 800ms}}
  error_ratio: 0.02
  import_wait_p95: 30s
  stream_ttfb_p95: 1s
  window: 20s
resources: {limits: live, memory_peak_pct: 90, cpu_p95_pct: 80, max_restarts: 1, components: [api, nginx]}
abort:
  - {metric: error_ratio, above: 0.2, for: 30s}
  - {metric: p95_ms, group: browse, above: 10s, for: 1m}
collector: {backend: kubernetes, interval: 20s, namespace: fw-staging, context: staging}
"""


def scenario(text: str) -> Scenario:
    return scenario_from_text(text, check_files=False)


def test_defaults_fill_every_section():
    s = scenario("name: m\nusers: [{class: Uploader}]\nload: {}\n")
    assert s.target.auth == "token" and s.target.request_timeout == 30.0 and s.target.password is None
    assert s.users[0].options == USER_CLASS_OPTIONS["Uploader"]()
    assert (s.load.profile, s.load.users, s.load.duration) == ("constant", 1, 60.0)
    assert s.slos.error_ratio == 0.01 and s.slos.groups == {}
    assert s.abort == [] and s.collector.backend == "auto"


def test_full_file_keeps_what_it_says():
    s = scenario(FULL)
    assert s.target.host == "https://funkwhale.example.org"
    assert s.target.password is not None and s.target.password.get_secret_value() == "s3cret-Passw0rd"
    assert s.slos.groups["browse"].thresholds_ms() == {"p50": 300.0, "p95": 1000.0, "p99": 2000.0}
    assert s.abort[1].above == 10_000.0 and s.abort[1].for_ == 60.0
    assert s.load.spike is not None and (s.load.spike.at, s.load.spike.hold) == (60.0, 60.0)


def test_resolved_dump_masks_secrets_and_reloads_to_the_same_scenario():
    original = scenario(FULL)
    text = original.dump_resolved()
    assert "s3cret-Passw0rd" not in text and "password: '**********'" in text
    reloaded = scenario(text)
    assert (
        reloaded.target.password is not None and reloaded.target.password.get_secret_value() == "**********"
    )
    assert reloaded.model_dump(exclude={"target": {"password"}}) == original.model_dump(
        exclude={"target": {"password"}}
    )
    assert reloaded.dump_resolved() == text


@pytest.mark.parametrize(
    "load",
    [
        "{profile: steps, users: 10, steps: {count: 5, duration: 1m}}",
        "{profile: steps, users: 6, duration: 3m, steps: {count: 3}}",
        "{profile: spike, users: 10, duration: 90s}",
        "{profile: ramp, from_users: 2, users: 8, duration: 1m}",
    ],
)
def test_resolved_dump_reloads_equal_for_each_profile(load):
    original = scenario(f"name: p\nusers: [{{class: Listener}}]\nload: {load}\n")
    reloaded = scenario(original.dump_resolved())
    assert reloaded == original
    assert reloaded.stages() == original.stages()


def test_stages_list_name_offsets_users_and_spawn_rate():
    stages = scenario(FULL).stages()
    assert [(st.name, st.start, st.end, st.users, st.spawn_rate) for st in stages] == [
        ("base", 0.0, 60.0, 4, 4.0),
        ("spike", 60.0, 120.0, 20, 16.0),
        ("recovery", 120.0, 180.0, 4, 16.0),
    ]


def problems(text: str) -> list[str]:
    with pytest.raises(UsageError) as caught:
        scenario_from_text(text, source="s.yaml")
    return caught.value.problem.splitlines()


def test_profile_sections_must_match_the_profile():
    assert problems(
        "name: x\nusers: [{class: Listener}]\nload: {users: 5, steps: {count: 2}, from_users: 2}\n"
    ) == [
        "s.yaml: load.steps: only used with profile: steps (profile is 'constant'); "
        "remove it or set profile: steps",
        "s.yaml: load.from_users: only used with profile: ramp (profile is 'constant')",
    ]


def test_steps_and_duration_must_agree():
    assert problems(
        "name: x\nusers: [{class: Listener}]\n"
        "load: {profile: steps, users: 5, duration: 5m, steps: {count: 5, duration: 2m}}\n"
    ) == ["s.yaml: load.duration: 5 steps of 2m take 10m, not 5m; make it 10m or remove load.duration"]


def test_more_steps_than_users_is_refused():
    assert problems(
        "name: x\nusers: [{class: Listener}]\nload: {profile: steps, users: 3, steps: {count: 4}}\n"
    ) == ["s.yaml: load.steps.count: 4 steps need at least 4 users (load.users is 3)"]


def test_spike_must_fit_and_rise():
    lines = problems(
        "name: x\nusers: [{class: Listener}]\n"
        "load: {profile: spike, users: 5, duration: 1m, spike: {base_users: 5, at: 50s, hold: 20s}}\n"
    )
    assert lines[0] == "s.yaml: load.spike.base_users: must be below load.users, the spike's height (5)"
    assert lines[1].startswith("s.yaml: load.spike.hold: the spike ends at 70s, after load.duration (60s)")


def test_a_stage_too_short_to_start_its_users_is_refused():
    assert problems(
        "name: x\nusers: [{class: Listener}]\nload: {users: 100, spawn_rate: 1, duration: 30s}\n"
    ) == [
        "s.yaml: load.spawn_rate: starting 100 users at 1/s takes 100s, longer than stage 'constant' (30s); "
        "raise the spawn rate or lengthen the stage"
    ]


def test_mix_refuses_a_class_twice_and_fixed_counts_above_the_users():
    lines = problems(
        "name: x\nusers: [{class: Listener, fixed_count: 3}, {class: Listener}, "
        "{class: Uploader, fixed_count: 3}]\nload: {users: 5, spawn_rate: 5}\n"
    )
    assert lines == [
        "s.yaml: users[1].class: Listener is already in the mix (users[0]); merge the two entries",
        "s.yaml: users[2].fixed_count: the fixed counts add up to 6 users, more than the load ever runs (5)",
    ]


def test_latency_slos_need_a_value_and_increase_with_the_percentile():
    lines = problems(
        "name: x\nusers: [{class: Listener}]\nslos: {groups: {browse: {}, listen: {p50: 2s, p95: 1s}}}\n"
    )
    assert lines == [
        "s.yaml: slos.groups.browse: set at least one of p50, p90, p95, p99 (e.g. {p95: 1s})",
        "s.yaml: slos.groups.listen.p95: 1s is below p50 (2s); a higher percentile cannot be faster",
    ]


def test_abort_thresholds_match_their_metric():
    lines = problems(
        "name: x\nusers: [{class: Listener}]\nabort: [{metric: throttled_ratio, above: 5}, "
        "{metric: p95_ms, above: 0.5ms}, {metric: latency, above: 1}]\n"
    )
    assert lines == [
        "s.yaml: abort[0].above: throttled_ratio is a ratio: use a number from 0 to 1 (got 5.0)",
        "s.yaml: abort[1].above: a p95_ms threshold must be at least 1ms",
        "s.yaml: abort[2].metric: got 'latency'; allowed: 'error_ratio', 'p95_ms', 'throttled_ratio' or 'stall_ratio'",
    ]


@pytest.mark.parametrize(
    ("host", "problem"),
    [
        ("funkwhale.example.org", "is not a base URL"),
        ("https://admin:pw@funkwhale.example.org", "the URL holds credentials"),
        ("https://funkwhale.example.org/?x=1", "has a query or fragment"),
    ],
)
def test_host_must_be_a_bare_base_url(host, problem):
    (line,) = problems(f"name: x\ntarget: {{host: '{host}'}}\nusers: [{{class: Listener}}]\n")
    assert line.startswith("s.yaml: target.host: ") and problem in line
    assert ":pw@" not in line or "credentials" in line


def test_unknown_component_in_the_filter_lists_the_components():
    (line,) = problems("name: x\nusers: [{class: Listener}]\nresources: {components: [celery]}\n")
    assert line.startswith("s.yaml: resources.components[0]: got 'celery'; allowed: 'nginx', 'api',")


def _models(model: type[BaseModel], seen: set[type[BaseModel]]) -> None:
    if model in seen:
        return
    seen.add(model)
    for field in model.model_fields.values():
        for candidate in [field.annotation, *typing.get_args(field.annotation)]:
            for inner in [candidate, *typing.get_args(candidate)]:
                if isinstance(inner, type) and issubclass(inner, BaseModel):
                    _models(inner, seen)


def test_every_field_of_every_section_has_a_description():
    seen: set[type[BaseModel]] = set()
    _models(Scenario, seen)
    assert len(seen) >= 12
    undocumented = [
        f"{m.__name__}.{name}" for m in seen for name, f in m.model_fields.items() if not f.description
    ]
    assert undocumented == []


def test_every_section_forbids_unknown_keys():
    seen: set[type[BaseModel]] = set()
    _models(Scenario, seen)
    assert {model.__name__ for model in seen if model.model_config.get("extra") != "forbid"} == set()


def test_a_stall_ratio_abort_rule_takes_no_request_group():
    text = ("name: s\nusers: [{class: Listener}]\n"
            "abort: [{metric: stall_ratio, group: listen, above: 0.2, for: 30s}]\n")
    with pytest.raises(UsageError, match="stall_ratio is measured on plays"):
        scenario_from_text(text, source="s.yaml")
    rule = scenario_from_text(text.replace("group: listen, ", ""), source="s.yaml").abort[0]
    assert (rule.metric, rule.above, rule.for_) == ("stall_ratio", 0.2, 30.0)
