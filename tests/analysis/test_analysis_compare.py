"""`fwload compare`: latency and resource deltas between two runs, regressions beyond a threshold."""

from __future__ import annotations

import inspect
import subprocess
import sys

import numpy as np
import pytest
from known_runs import standard_run
from run_builders import T0, RunDir
from typer.testing import CliRunner

import fwload.cli.report  # noqa: F401 - registers the compare command
from analysis.analyse import analyse_run
from analysis.compare import MIN_MS, MIN_SAMPLES, compare_runs, parse_threshold
from fwload.cli.app import app
from fwload.errors import UsageError
from fwload.status import ExitStatus


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("compare")
    fast = standard_run(root / "fast", slow_step3=False, oom_in_step3=False)
    slow = standard_run(root / "slow", slow_step3=True, oom_in_step3=False)
    oom = standard_run(root / "oom", slow_step3=False, oom_in_step3=True)
    return {
        name: (truth, analyse_run(truth.path))
        for name, truth in (("fast", fast), ("slow", slow), ("oom", oom))
    }


def test_slower_group_is_a_latency_regression_exit_1(runs):
    (fast, base), (slow, new) = runs["fast"], runs["slow"]
    comparison = compare_runs(base, new, 0.10)
    row = comparison.deltas.set_index(["area", "subject", "metric"]).loc[("latency", "browse", "p95")]
    before = np.percentile(fast.browse, 95, method="inverted_cdf")
    after = np.percentile(slow.browse, 95, method="inverted_cdf")
    assert (row["base"], row["new"]) == (before, after)
    assert row["change"] == pytest.approx((after - before) / before)
    assert row["regression"]
    assert comparison.status == ExitStatus.SLO_BROKEN


def test_a_run_compared_with_itself_has_no_regression(runs):
    _, analysis = runs["fast"]
    comparison = compare_runs(analysis, analysis, 0.0)
    assert not comparison.deltas["regression"].any()
    assert comparison.status == ExitStatus.SUCCESS


def test_new_oom_kills_alone_are_a_resource_regression_exit_3(runs):
    comparison = compare_runs(runs["fast"][1], runs["oom"][1], 0.10)
    flagged = comparison.regressions.set_index(["area", "subject", "metric"]).index
    assert ("resource", "api", "oom_kills") in flagged
    assert {area for area, _, _ in flagged} == {"resource"}
    assert comparison.status == ExitStatus.RESOURCE_BROKEN


def test_improvements_are_not_regressions(runs):
    comparison = compare_runs(runs["slow"][1], runs["fast"][1], 0.10)
    assert not comparison.regressions.loc[lambda frame: frame["area"] == "latency"].shape[0]


@pytest.mark.parametrize("text, value", [("10%", 0.10), ("2.5%", 0.025), ("0.1", 0.1), (" 0 % ", 0.0)])
def test_threshold_forms(text, value):
    assert parse_threshold(text) == pytest.approx(value)


@pytest.mark.parametrize("text", ["ten", "-5%", "5000%"])
def test_bad_thresholds_are_usage_errors(text):
    with pytest.raises(UsageError):
        parse_threshold(text)


def test_compare_command_prints_a_table_and_exits_on_regression(runs):
    (fast, _), (slow, _) = runs["fast"], runs["slow"]
    result = CliRunner().invoke(app, ["compare", str(fast.path), str(slow.path), "--threshold", "10%"])
    assert result.exit_code == 1, result.output
    assert "REGRESSION" in result.stdout and "browse" in result.stdout
    same = CliRunner().invoke(app, ["compare", str(fast.path), str(fast.path)])
    assert same.exit_code == 0, same.output


def small_run(path, browse_ms, *, users=3, samples=200):
    """A constant run whose browse requests take ``browse_ms`` in turn, ``samples`` of them."""
    scenario = {"name": "small", "users": [{"class": "Listener"}],
                "load": {"profile": "constant", "users": users, "spawn_rate": users, "duration": "60s"},
                "slos": {"groups": {"browse": {"p95": "1s"}}}}
    builder = RunDir(path, scenario=scenario).stages((T0, users))
    for index in range(samples):
        builder.request(T0 + 0.25 * index, "browse", browse_ms[index % len(browse_ms)])
    return builder.write()


@pytest.fixture(scope="module")
def fast_pair(tmp_path_factory):
    """browse p95 2.9 ms, then 4.4 ms (+52 %), the second run with twice the users."""
    root = tmp_path_factory.mktemp("noise")
    return (small_run(root / "base", [1.0, 2.0, 2.9]), small_run(root / "new", [1.5, 3.0, 4.4], users=6))


def test_a_latency_rise_below_the_noise_floor_is_not_a_regression(fast_pair):
    base, new = (analyse_run(path) for path in fast_pair)
    comparison = compare_runs(base, new, 0.10)
    row = comparison.deltas.set_index(["area", "subject", "metric"]).loc[("latency", "browse", "p95")]
    assert (row["base"], row["new"]) == (2.9, 4.4) and row["change"] > 0.5
    assert not row["regression"] and "noise floor" in row["note"]
    assert comparison.status == ExitStatus.SUCCESS
    strict = compare_runs(base, new, 0.10, min_ms=1.0)
    assert strict.regressions.set_index(["area", "subject", "metric"]).index.tolist() == [
        ("latency", "browse", "p50"), ("latency", "browse", "p95"), ("latency", "browse", "p99")]
    assert strict.status == ExitStatus.SLO_BROKEN


def test_latency_of_groups_with_fewer_samples_than_the_minimum_is_not_judged(tmp_path):
    base = analyse_run(small_run(tmp_path / "base", [10.0], samples=30))
    new = analyse_run(small_run(tmp_path / "new", [100.0], samples=30))
    assert compare_runs(base, new, 0.10).status == ExitStatus.SLO_BROKEN
    skipped = compare_runs(base, new, 0.10, min_samples=31)
    assert skipped.status == ExitStatus.SUCCESS
    assert set(skipped.deltas.loc[skipped.deltas["area"] == "latency", "note"]) == {"fewer than 31 samples"}


def test_different_scenarios_are_named_field_by_field(fast_pair):
    base, new = (analyse_run(path) for path in fast_pair)
    assert compare_runs(base, new).scenario_differences == ["load.spawn_rate: 3 → 6", "load.users: 3 → 6"]
    assert compare_runs(base, base).scenario_differences == []


def test_compare_command_warns_about_different_scenarios_and_applies_its_noise_options(fast_pair):
    base, new = fast_pair
    done = subprocess.run([sys.executable, "-m", "fwload", "compare", str(base), str(new)], capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    warning = " ".join(done.stderr.split())
    assert "different scenarios" in warning and "load.users: 3 → 6" in warning
    assert "below the noise floor" in done.stdout
    strict = subprocess.run([sys.executable, "-m", "fwload", "compare", str(base), str(new), "--min-ms", "1"],
                            capture_output=True, text=True, timeout=120, check=False)
    assert strict.returncode == 1 and "REGRESSION" in strict.stdout, strict.stderr


def test_compare_command_defaults_are_the_documented_noise_floor():
    command = next(c for c in app.registered_commands if c.name == "compare" or c.callback.__name__ == "compare")
    defaults = {name: param.default.default for name, param in inspect.signature(command.callback).parameters.items()
                if hasattr(param.default, "default")}
    assert (defaults["min_ms"], defaults["min_samples"]) == (MIN_MS, MIN_SAMPLES)
