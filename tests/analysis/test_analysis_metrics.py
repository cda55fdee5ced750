"""Building blocks with hand-checkable answers: stages and windows, counters, streams, imports."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from run_builders import DEFAULT_SCENARIO, MI, T0, RunDir

from analysis.analyse import analyse_run
from analysis.load import load_run
from analysis.metrics.streams import concurrent_at_starts, open_at
from analysis.timeline import NO_STAGE, build_timeline


def test_stage_index_and_windows_are_relative_to_the_first_stage(tmp_path):
    path = (
        RunDir(tmp_path / "run")
        .stages((T0, 5), (T0 + 30, 10))
        .request(T0 - 5, "auth", 1.0)
        .write(ended_at=T0 + 60)
    )
    timeline = build_timeline(load_run(path))
    assert (timeline.start, timeline.end, timeline.duration) == (T0, T0 + 60, 60)
    assert list(timeline.stage_index(np.array([T0 - 1, T0, T0 + 29.9, T0 + 30, T0 + 59]))) == [
        NO_STAGE,
        0,
        0,
        1,
        1,
    ]
    assert list(timeline.stages["duration"]) == [30, 30]
    assert timeline.window_s == 1
    assert list(timeline.window(np.array([T0 - 0.5, T0 + 2.7]))) == [-1, 2]
    assert timeline.stage_label(1) == "2. step 2" and timeline.stage_label(NO_STAGE) == "before load"


def test_planned_stages_stand_in_when_the_run_recorded_none(tmp_path):
    builder = RunDir(tmp_path / "run")
    builder.event(T0, "run_start", users=30)
    builder.request(T0 + 1, "browse", 1.0)
    analysis = analyse_run(builder.write(ended_at=T0 + 180))
    stages = analysis.timeline.stages
    assert list(stages["stage"]) == ["step-1", "step-2", "step-3"]
    assert list(stages["users"]) == [10, 20, 30]
    assert list(stages["start"] - T0) == [0, 60, 120]


def test_requests_per_window_fill_gaps_with_zero(tmp_path):
    builder = RunDir(tmp_path / "run").stages((T0, 1))
    builder.request(T0 + 0.5, "browse", 10.0).request(T0 + 3.5, "browse", 30.0)
    table = analyse_run(builder.write(ended_at=T0 + 4)).requests.by_window
    assert list(table.index) == [0, 1, 2, 3]
    assert list(table["requests"]) == [1, 0, 0, 1]
    assert list(table["p95"].isna()) == [False, True, True, False]


def test_counters_become_increases_and_resets_count_the_new_value(tmp_path):
    builder = RunDir(tmp_path / "run").stages((T0, 1))
    for ts, restarts in ((T0, 2), (T0 + 15, 3), (T0 + 30, 3), (T0 + 45, 1)):
        builder.resource(ts, "redis", 5.0, 4 * MI, restarts=restarts)
    builder.resource(T0 + 45, "redis", 5.0, 4 * MI, pod="redis-new", restarts=1)
    analysis = analyse_run(builder.write(ended_at=T0 + 60))
    restarts = analysis.resources.incidents.loc[lambda frame: frame["kind"] == "restart"]
    assert list(zip(restarts["pod"], restarts["count"], restarts["ts"] - T0)) == [
        ("redis-0", 1, 15),
        ("redis-0", 1, 45),
        ("redis-new", 1, 45),
    ]
    assert analysis.resources.summary.loc["redis", "restarts"] == 3


def test_concurrent_streams_are_counted_at_each_start():
    start = np.array([0.0, 5.0, 12.0, 12.0, 30.0])
    end = np.array([10.0, 15.0, 20.0, 13.0, 31.0])
    assert list(concurrent_at_starts(start, end)) == [1, 2, 2, 3, 1]
    assert list(open_at(np.array([0.0, 11.0, 14.0, 25.0]), start, end)) == [1, 1, 2, 0]


def test_stream_metrics_per_window_include_streams_still_open(tmp_path):
    builder = RunDir(tmp_path / "run").stages((T0, 1))
    builder.stream(T0, 10.0, 5000.0, 1000).stream(T0 + 1.5, 30.0, 1000.0, 4000)
    streams = analyse_run(builder.write(ended_at=T0 + 6)).streams
    assert streams.max_concurrent == 2
    assert list(streams.by_window["max_concurrent"]) == [1, 2, 2, 1, 1, 0]
    assert list(streams.by_window["streams"]) == [1, 1, 0, 0, 0, 0]
    assert streams.rate["max"] == pytest.approx(4000 / 0.97)
    assert streams.ttfb["p95"] == 30.0


def test_imports_processed_and_backlog_per_stage(tmp_path):
    builder = RunDir(tmp_path / "run").stages((T0, 1), (T0 + 10, 2))
    for index in range(4):
        builder.request(T0 + index, "upload", 10.0, method="POST")
        builder.import_(T0 + index, "finished", 12_000.0, upload=f"u{index}")
    builder.import_(T0 + 5, "failed", None, upload="")
    imports = analyse_run(builder.write(ended_at=T0 + 20)).imports
    assert (imports.uploads_offered, imports.accepted) == (4, 4)
    assert list(imports.by_stage["accepted"]) == [4, 0]
    assert list(imports.by_stage["processed"]) == [0, 4]
    assert list(imports.by_stage["backlog"]) == [4, 0]
    assert imports.wait["count"] == 4 and imports.outcomes["failed"] == 1
    assert imports.offered_per_s == pytest.approx(4 / 20)


def test_scenario_in_the_run_directory_is_validated_with_a_clear_error(tmp_path):
    from fwload.errors import RunDirectoryError

    path = RunDir(
        tmp_path / "run", scenario={**DEFAULT_SCENARIO, "slos": {"groups": {"browse": {"p95": "fast"}}}}
    ).write()
    with pytest.raises(RunDirectoryError, match="scenario.yaml") as error:
        analyse_run(path)
    assert "p95" in error.value.problem


def test_without_a_scenario_only_resources_are_checked_and_a_notice_says_so(tmp_path):
    builder = RunDir(tmp_path / "run", scenario=None).stages((T0, 1))
    builder.request(T0, "browse", 5.0).resource(T0, "api", 10.0, 50 * MI)
    analysis = analyse_run(builder.write())
    assert {check.kind for check in analysis.checks} == {"resource"}
    assert [notice.kind for notice in analysis.notices] == ["no_scenario"]
    assert isinstance(analysis.requests.by_group, pd.DataFrame)
