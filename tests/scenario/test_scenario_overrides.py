"""Command-line overrides apply to the loaded scenario and are validated like the file."""

from __future__ import annotations

import pytest

from fwload.errors import UsageError
from fwload.units import parse_duration
from fwload.scenario.loader import OVERRIDES, load_scenario, override_help, with_changes, with_overrides


def test_overrides_replace_fields_and_none_means_not_given(write, minimal):
    scenario = load_scenario(write(minimal))
    changed = with_overrides(scenario, host="http://127.0.0.1:8000/", users=3, duration="1m", namespace=None)
    assert changed.target.host == "http://127.0.0.1:8000"
    assert (changed.load.users, changed.load.duration) == (3, 60.0)
    assert changed.collector.namespace == scenario.collector.namespace
    assert scenario.load.users == 2


def test_override_beyond_caps_is_a_usage_error_naming_the_override(write, minimal):
    scenario = load_scenario(write(minimal))
    with pytest.raises(UsageError) as caught:
        with_overrides(scenario, users=500, spawn_rate=100)
    assert caught.value.problem == (
        "overrides (users=500, spawn_rate=100): load.users: 500 users exceed caps.max_users (200); "
        "lower it or raise caps.max_users"
    )


def test_bad_host_override_is_rejected(write, minimal):
    scenario = load_scenario(write(minimal))
    with pytest.raises(UsageError) as caught:
        with_overrides(scenario, host="ftp://example.org")
    assert "target.host: 'ftp://example.org' is not a base URL" in caught.value.problem


def test_duration_override_on_steps_re_divides_the_steps(shipped):
    scenario = load_scenario(shipped / "step-capacity.yaml")
    changed = with_overrides(scenario, duration="6m")
    assert changed.load.steps is not None
    assert (changed.load.steps.count, changed.load.steps.duration) == (6, 60.0)
    assert [stage.end for stage in changed.stages()][-1] == 360.0


def test_users_file_override_is_relative_to_the_current_directory(write, tmp_path, monkeypatch, minimal):
    scenario = load_scenario(write(minimal))
    (tmp_path / "people.csv").write_text("username,password\n")
    monkeypatch.chdir(tmp_path)
    assert with_overrides(scenario, users_file="people.csv").target.users_file == tmp_path / "people.csv"
    with pytest.raises(UsageError, match=r"target\.users_file: no such file"):
        with_overrides(scenario, users_file="nobody.csv")


def test_unknown_override_is_a_programming_error(write, minimal):
    with pytest.raises(TypeError, match="unknown override"):
        with_overrides(load_scenario(write(minimal)), hots="x")


def test_every_override_has_help_from_the_model():
    assert all(override_help(name) for name in OVERRIDES)
    assert "null = the local stand-in" in override_help("host")


def test_nested_changes_merge_keep_secrets_and_name_their_source(write, minimal):
    scenario = load_scenario(write(minimal + "target: {password: pw-1234}\n"))
    changed = with_changes(
        scenario, {"load": {"duration": 45}, "slos": {"groups": {"browse": {"p95": "1s"}}}}
    )
    assert changed.load.duration == 45.0 and changed.load.users == 2
    assert changed.slos.groups["browse"].p95 == 1.0
    assert changed.target.password is not None and changed.target.password.get_secret_value() == "pw-1234"
    with pytest.raises(UsageError) as caught:
        with_changes(scenario, {"load": {"profile": "wave"}}, source="demo")
    assert caught.value.problem.startswith("demo: load.profile: got 'wave'; allowed:")


def _run_command():
    import importlib

    import typer

    from fwload.cli import main

    for module in main.SUBCOMMAND_MODULES:
        importlib.import_module(module)
    return typer.main.get_command(main.app).commands["run"]


def test_the_fwload_run_lines_in_the_shipped_scenarios_comments_are_valid_runs(shipped):
    """`fwload run scenarios/soak.yaml --duration 1h` and the like: options that exist, values the
    scenario accepts, caps included (what the comments advertise must work)."""
    import re
    import shlex

    from fwload.launch.scenario_file import with_command_line

    command = _run_command()
    advertised = [
        (path, line) for path in sorted(shipped.glob("*.yaml"))
        for line in re.findall(r"#.*?(fwload run .*?)(?:\s{2,}|\(|$)", path.read_text(), flags=re.M)
    ]
    assert any("--duration 10m --users 12" in line for _, line in advertised)
    for path, line in advertised:
        context = command.make_context("run", shlex.split(line)[2:])
        given = {name: context.params[name] for name in ("users", "spawn_rate", "duration")}
        scenario = with_command_line(load_scenario(shipped.parent / context.params["scenario"]), path, **given)
        if given["duration"]:
            assert scenario.load.duration == parse_duration(given["duration"]), line
        if given["users"]:
            assert scenario.load.users == given["users"], line


def test_load_options_beyond_the_caps_name_the_file_and_the_options(shipped):
    from fwload.launch.scenario_file import with_command_line

    path = shipped / "upload-and-play.yaml"
    with pytest.raises(UsageError) as caught:
        with_command_line(load_scenario(path), path, users=500, spawn_rate=None, duration="20m")
    assert caught.value.problem.startswith(f"{path} with --users 500 --duration 20m: load.users: 500 users exceed")
    assert "caps.max_duration (15m)" in caught.value.problem and "option(s) named" in caught.value.fix
