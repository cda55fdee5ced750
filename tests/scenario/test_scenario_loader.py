"""Broken scenario files: each mistake is named with the file, the field and what is allowed."""

from __future__ import annotations

from pathlib import Path

import pytest

from fwload.errors import UsageError
from fwload.scenario.loader import load_scenario, scenario_from_text


def test_minimal_file_with_name_users_and_load_is_valid(write, minimal):
    scenario = load_scenario(write(minimal))
    assert (scenario.name, scenario.load.users, scenario.load.duration) == ("minimal", 2, 30.0)
    assert scenario.target.host is None and scenario.users[0].class_name == "Listener"


def test_unknown_key_names_file_field_and_allowed_keys(problem_of, tmp_path, minimal):
    problem = problem_of(minimal + "slos: {grups: {}}\n")
    assert problem.startswith(f"{tmp_path / 'x.yaml'}: slos.grups: unknown key")
    assert "allowed: groups, error_ratio, import_wait_p95, stream_ttfb_p95, stall_ratio, plays_with_stall, startup_p95, window" in problem


def test_unknown_option_of_a_user_class_lists_that_class_options(problem_of):
    problem = problem_of("name: x\nusers: [{class: Uploader, options: {bad_file: 0.1}}]\n")
    assert "x.yaml: users[0].options.bad_file: unknown key (did you mean 'bad_files'?)" in problem
    assert "import_timeout" in problem and "favorite_ratio" not in problem


def test_unknown_request_group_lists_the_groups(problem_of, minimal):
    problem = problem_of(minimal + "slos: {groups: {brows: {p95: 1s}}}\n")
    assert (
        "x.yaml: slos.groups.brows: unknown key (did you mean 'browse'?); allowed: instance, auth," in problem
    )


def test_wrong_type_shows_the_value_written(problem_of):
    problem = problem_of("name: x\nusers: [{class: Listener}]\nload: {users: many}\n")
    assert problem.endswith(
        "x.yaml: load.users: should be a valid integer, unable to parse string as an integer (got 'many')"
    )


def test_negative_duration(problem_of, tmp_path):
    problem = problem_of("name: x\nusers: [{class: Listener}]\nload: {duration: -5s}\n")
    assert problem == f"{tmp_path / 'x.yaml'}: load.duration: a duration cannot be negative (got '-5s')"


def test_unknown_user_class_lists_known_classes(problem_of, tmp_path):
    problem = problem_of("name: x\nusers: [{class: Listener}, {class: Lister}]\n")
    assert (
        problem
        == f"{tmp_path / 'x.yaml'}: users[1].class: unknown user class 'Lister'; known: Listener, Uploader, SubsonicListener"
    )


def test_unknown_profile_lists_the_profiles(problem_of):
    problem = problem_of("name: x\nusers: [{class: Listener}]\nload: {profile: stepz}\n")
    assert "load.profile: got 'stepz'; allowed: 'constant', 'ramp', 'steps', 'spike', 'soak' or 'arrivals'" in problem


def test_profile_beyond_caps_names_both_fields(problem_of):
    problem = problem_of(
        "name: x\nusers: [{class: Listener}]\nload: {users: 300, spawn_rate: 10, duration: 2h}\n"
        "caps: {max_duration: 1h, max_users: 200}\n"
    )
    lines = problem.splitlines()
    assert len(lines) == 2
    assert lines[0].endswith(
        "x.yaml: load.users: 300 users exceed caps.max_users (200); lower it or raise caps.max_users"
    )
    assert "x.yaml: load.duration: " in lines[1] and "exceeds caps.max_duration" in lines[1]


def test_ramp_starting_above_caps_names_from_users(problem_of):
    problem = problem_of(
        "name: x\nusers: [{class: Listener}]\n"
        "load: {profile: ramp, from_users: 50, users: 5, spawn_rate: 50}\ncaps: {max_users: 20}\n"
    )
    assert "load.from_users: 50 users exceed caps.max_users (20)" in problem


def test_several_mistakes_give_one_error_with_one_line_each(problem_of, tmp_path):
    problem = problem_of(
        "name: x\n"
        "users: [{class: Listener, options: {range_bytes: -1}}, {class: Uploader, weight: abc}]\n"
        "load: {duration: -5s}\n"
        "abort: [{metric: p95_ms, above: 800}]\n"
    )
    source = str(tmp_path / "x.yaml")
    assert problem.splitlines() == [
        f"{source}: users[0].options.range_bytes: should be greater than 0 (got -1)",
        f"{source}: users[1].weight: should be a valid integer, unable to parse string as an integer "
        "(got 'abc')",
        f"{source}: load.duration: a duration cannot be negative (got '-5s')",
        f"{source}: abort[0].above: write p95_ms thresholds with a unit, e.g. '800ms' or '10s' (got 800)",
    ]


def test_bad_yaml_gives_the_line(problem_of, tmp_path):
    problem = problem_of("name: x\nusers: [{class: Listener}\nload: {}\n")
    assert problem.startswith(f"{tmp_path / 'x.yaml'}: line 3, column 1: YAML syntax error:")


def test_duplicate_key_is_a_yaml_error_not_a_silent_override(problem_of, minimal):
    problem = problem_of(minimal + "name: other\n")
    assert "x.yaml: line 4, column 1: YAML syntax error: duplicate key 'name'" in problem


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n"])
def test_empty_file(problem_of, tmp_path, text):
    assert problem_of(text) == f"{tmp_path / 'x.yaml'}: the file is empty"


def test_top_level_list_is_rejected(problem_of):
    assert problem_of("- name: x\n").endswith("x.yaml: the file holds a list, not a mapping of fields")


def test_missing_file_names_the_path_and_lists_shipped_scenarios(tmp_path):
    with pytest.raises(UsageError) as caught:
        load_scenario(tmp_path / "nope.yaml")
    assert caught.value.problem == f"{tmp_path / 'nope.yaml'}: no such scenario file"
    assert "smoke.yaml" in (caught.value.fix or "")


def test_users_file_is_resolved_next_to_the_scenario(write, tmp_path, monkeypatch, minimal):
    (tmp_path / "accounts.csv").write_text("username,password\n")
    path = write(minimal + "target: {users_file: accounts.csv}\n")
    monkeypatch.chdir(Path("/"))
    scenario = load_scenario(path)
    assert scenario.target.users_file == (tmp_path / "accounts.csv").resolve()


def test_missing_users_file_is_reported_unless_not_checked(write, tmp_path, minimal):
    path = write(minimal + "target: {users_file: accounts.csv}\n")
    with pytest.raises(UsageError) as caught:
        load_scenario(path)
    assert caught.value.problem.startswith(f"{path}: target.users_file: no such file")
    assert load_scenario(path, check_files=False).target.users_file == tmp_path / "accounts.csv"


def test_a_bad_password_is_reported_without_its_value(problem_of, minimal):
    problem = problem_of(minimal + "target: {password: 31415926}\n")
    assert "target.password: should be a valid string (value hidden)" in problem
    assert "31415926" not in problem


def test_text_source_is_named_in_messages():
    with pytest.raises(UsageError) as caught:
        scenario_from_text("name: x\nusers: [{class: Nobody}]\n", source="web form")
    assert caught.value.problem.startswith("web form: users[0].class: unknown user class 'Nobody'")
