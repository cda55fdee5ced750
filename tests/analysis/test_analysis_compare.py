"""`fwload compare`: latency and resource deltas between two runs, regressions beyond a threshold."""

from __future__ import annotations

import numpy as np
import pytest
from known_runs import standard_run
from typer.testing import CliRunner

import fwload.cli.report  # noqa: F401 - registers the compare command
from analysis.analyse import analyse_run
from analysis.compare import compare_runs, parse_threshold
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
