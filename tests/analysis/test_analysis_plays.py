"""The listener experience from plays.csv: whole-run figures, where each silence falls in time,
the listener SLOs with their minimum samples, and the report sections."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from run_builders import DEFAULT_SCENARIO, T0, RunDir

from analysis.analyse import analyse_run
from analysis.metrics.plays import _time_in
from analysis.outputs import build_outputs
from analysis.verdict.playback import plays_needed


def scenario(**slos):
    data = copy.deepcopy(DEFAULT_SCENARIO)
    data["load"] = {"profile": "constant", "users": 4, "spawn_rate": 4, "duration": "2m"}
    data["slos"] = {"error_ratio": None, **slos}
    return data


def constant(run: RunDir) -> RunDir:
    return run.event(T0, "stage", stage="constant", users=4, spawn_rate=4).event(T0 + 120, "run_end",
                                                                                  status="complete")


def by_name(analysis):
    return {check.name: check for check in analysis.checks}


@pytest.fixture
def listened(tmp_path):
    """Four real-time plays and one download: one stall of 2 s, one play that never started."""
    run = constant(RunDir(tmp_path / "run", scenario=scenario(stall_ratio=0.01, plays_with_stall=0.5,
                                                             startup_p95="300ms", window="10s")))
    run.play(T0 + 1, 100.0, 30.0)
    run.play(T0 + 5, 200.0, 30.0, stalls=((20.2, 2.0),))
    run.play(T0 + 40, 50.0, 20.0, outcome="skipped", duration_s=30.0)
    run.play(T0 + 50, None, 0.0, outcome="failed", error_kind="http")
    run.play(T0 + 60, 400.0, 0.0, playback="download")
    run.request(T0 + 1, "listen", 100.0)
    return analyse_run(run.write())


def test_whole_run_figures_cover_real_time_plays_that_started(listened):
    plays = listened.plays
    assert (plays.plays, plays.realtime, plays.never_started) == (5, 3, 1)
    assert plays.played_s == 80.0 and plays.stall_s == 2.0 and plays.stalls == 1
    assert plays.stall_ratio == pytest.approx(2.0 / 80.0)
    assert plays.plays_with_stall == pytest.approx(1 / 3)
    assert plays.startup["count"] == 4 and plays.startup["p50"] == 100.0 and plays.startup["max"] == 400.0
    assert plays.outcomes["ended"] == 3 and plays.outcomes["failed"] == 1


def test_each_play_s_seconds_fall_in_the_windows_they_happened_in(listened):
    table = listened.plays.by_window
    width = listened.timeline.window_s
    assert width == 2.0
    # play 2 was asked for at +5 s and stalls from +25.2 s to +27.2 s (offsets count from the request)
    stalled = table.loc[table["stall_s"] > 0, "stall_s"]
    assert stalled.to_dict() == {24.0: pytest.approx(0.8), 26.0: pytest.approx(1.2)}
    assert table["stall_s"].sum() == pytest.approx(2.0)
    assert table["played_s"].sum() == pytest.approx(80.0)
    assert table.loc[26.0, "stalled"] == 1 and table.loc[26.0, "playing"] == 2
    assert table.loc[26.0, "plays_with_stall"] == pytest.approx(0.5)
    assert table["at_once"].max() == 2 and listened.plays.max_at_once == 2


def test_listener_slos_are_judged_on_the_run_and_on_windows_with_enough_plays(listened):
    checks = by_name(listened)
    assert checks["stall ratio"].passed is False and checks["stall ratio"].samples == 3
    assert checks["plays with a stall"].passed is True
    assert checks["start-up delay p95"].observed == 400.0 and checks["start-up delay p95"].passed is False
    ratio = checks["stall ratio per 10s window"]
    assert ratio.passed is None and "100 plays playing" in ratio.detail, "2 plays cannot judge a 1 % share"
    share = checks["plays with a stall per 10s window"]
    assert share.observed == pytest.approx(0.5) and share.samples == 2 and share.passed is True, \
        "two plays judge a 50 % share: one of them stalled, which is not more than half"
    assert "+20s" in share.detail
    assert checks["start-up delay p95 per 10s window"].passed is None


@pytest.mark.parametrize("share, needed", [(0.5, 2), (0.05, 20), (0.01, 100), (0.003, 334), (0.0, 1)])
def test_a_window_needs_enough_plays_that_one_cannot_decide_it(share, needed):
    assert plays_needed(share) == needed


def test_time_in_windows_is_the_overlap_of_every_interval():
    edges = np.array([0.0, 10.0, 20.0, 30.0])
    spent = _time_in(np.array([5.0, 12.0, 0.0]), np.array([15.0, 14.0, 30.0]), edges)
    assert spent.tolist() == [15.0, 17.0, 10.0]


def test_a_run_without_plays_fails_the_listener_slos_it_sets(tmp_path):
    run = constant(RunDir(tmp_path / "run", scenario=scenario(stall_ratio=0.01)))
    run.request(T0 + 1, "browse", 100.0)
    analysis = analyse_run(run.write())
    check = by_name(analysis)["stall ratio"]
    assert check.passed is False and "no real-time play" in check.detail
    assert analysis.plays.empty and len(analysis.plays.by_window) == 0


def test_reports_show_the_listener_experience(listened, tmp_path):
    outputs = build_outputs(listened.run.path, recommendations=False)
    html, markdown = outputs.texts["report.html"], outputs.texts["summary.md"]
    assert 'id="listeners"' in html and "Listener experience" in html and "stall ratio" in html
    assert "### Listener experience" in markdown and "**plays with a stall** 33.33% (1 of 3)" in markdown
    import json

    listeners = json.loads(outputs.texts["verdict.json"])["listeners"]
    assert listeners["stall_ratio"] == pytest.approx(0.025) and listeners["max_at_once"] == 2


def test_an_older_run_directory_without_plays_still_loads(tmp_path):
    run = constant(RunDir(tmp_path / "run", scenario=scenario()))
    run.request(T0 + 1, "browse", 100.0)
    path = run.write()
    (path / "plays.parquet").unlink()
    analysis = analyse_run(path)
    assert analysis.plays.empty and not analysis.run.partial
    html = build_outputs(path, recommendations=False).texts["report.html"]
    assert "No play was recorded." in html
