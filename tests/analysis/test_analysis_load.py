"""Loading run directories: typed frames, truncated runs flagged partial, foreign directories refused,
and the CSV layout of fwload-run/1 read as before."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from known_runs import standard_run
from run_builders import T0, RunDir

import analysis.load as load
from analysis.load import load_run
from fwload.errors import RunDirectoryError
from fwload.recording import schema


def test_complete_run_loads_typed_and_whole(tmp_path):
    truth = standard_run(tmp_path / "run")
    run = load_run(truth.path)
    assert not run.partial and run.partial_reasons == []
    assert len(run.requests) == truth.requests
    assert isinstance(run.requests["group"].dtype, pd.CategoricalDtype)
    assert isinstance(run.requests["error_kind"].dtype, pd.CategoricalDtype)
    assert run.requests["ts"].dtype == "float64" and run.requests["response_ms"].dtype == "float64"
    assert run.requests["status"].dtype == "Int64"
    assert run.resources["ready"].dtype == "boolean"
    assert set(run.requests.columns) == set(load.ANALYSIS_COLUMNS["requests"])


@pytest.mark.parametrize("layout, message", [
    ("columnar", "requests: the last batch was cut off mid-write"),
    ("csv", "requests.csv: the last line was cut off mid-write"),
])
def test_truncated_run_still_loads_and_is_partial(tmp_path, layout, message):
    builder = RunDir(tmp_path / "run", status="running")
    for index in range(5):
        builder.request(T0 + index, "browse", 100.0 + index)
    builder.write(cut="requests", layout=layout)
    run = load_run(builder.path)
    assert run.partial
    assert len(run.requests) == 4
    assert list(run.requests["response_ms"]) == [100.0, 101.0, 102.0, 103.0]
    reasons = " ".join(run.partial_reasons)
    assert "running" in reasons and "no row counts" in reasons and message in reasons


def test_rows_missing_against_counts_make_the_run_partial(tmp_path):
    builder = RunDir(tmp_path / "run")
    builder.request(T0, "browse", 5.0)
    builder.meta["counts"] = {"requests": 3, "imports": 0, "streams": 0, "resources": 0}
    builder.write()
    assert load_run(builder.path).partial_reasons == ["requests holds 1 rows but run.json counts 3"]


def test_cut_last_event_line_is_skipped_and_reported(tmp_path):
    path = RunDir(tmp_path / "run").event(T0, "stage", stage="a", users=1, spawn_rate=1).write()
    with (path / "events.jsonl").open("a") as handle:
        handle.write('{"ts": 1700000001.0, "type": "sta')
    run = load_run(path)
    assert [event["type"] for event in run.events] == ["stage"]
    assert run.partial_reasons == ["events.jsonl: the last line was cut off mid-write and was skipped"]


@pytest.mark.parametrize("layout, file", [("columnar", "streams.parquet"), ("csv", "streams.csv")])
def test_missing_tables_read_as_empty(tmp_path, layout, file):
    path = RunDir(tmp_path / "run").write(layout=layout)
    (path / file).unlink()
    run = load_run(path)
    assert run.streams.empty and list(run.streams.columns) == list(load.ANALYSIS_COLUMNS["streams"])


def test_csv_layout_and_columnar_layout_load_the_same_frames(tmp_path):
    truth = standard_run(tmp_path / "run")
    columnar_run = load_run(truth.path, columns={name: table.column_names for name, table in schema.TABLES.items()})
    truth.builder.write(layout="csv")
    csv_run = load_run(truth.path, columns={name: table.column_names for name, table in schema.TABLES.items()})
    assert json.loads((truth.path / "run.json").read_text())["format"] == "fwload-run/1"
    for name in schema.TABLES:
        pd.testing.assert_frame_equal(getattr(columnar_run, name), getattr(csv_run, name), check_categorical=False)
    assert columnar_run.partial_reasons == csv_run.partial_reasons == []


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda path: None, "is not a directory"),
        (lambda path: path.mkdir(), "is empty"),
        (lambda path: (path.mkdir(), (path / "notes.txt").write_text("x")), "not an fwload run directory"),
        (
            lambda path: (path.mkdir(), (path / "run.json").write_text('{"format": "other/2"}')),
            "not in a format this fwload reads",
        ),
        (lambda path: (path.mkdir(), (path / "run.json").write_text("{oops")), "cannot be read"),
    ],
)
def test_missing_empty_or_foreign_directories_are_refused_with_a_fix(tmp_path, make, message):
    path = tmp_path / "dir"
    make(path)
    with pytest.raises(RunDirectoryError) as error:
        load_run(path)
    assert message in error.value.problem
    assert error.value.fix


def test_a_csv_without_the_schema_columns_is_refused(tmp_path):
    path = RunDir(tmp_path / "run").write(layout="csv")
    (path / "requests.csv").write_text("Type,Name,Request Count\nGET,/,3\n")
    with pytest.raises(RunDirectoryError, match="has no column ts"):
        load_run(path)


def test_unparseable_values_are_refused(tmp_path):
    path = RunDir(tmp_path / "run").request(T0, "browse", 1.0).write(layout="csv")
    text = (path / "requests.csv").read_text().replace("1.0,", "fast,", 1)
    (path / "requests.csv").write_text(text)
    with pytest.raises(RunDirectoryError, match="cannot be parsed"):
        load_run(path)


def test_run_json_keeps_its_metadata(tmp_path):
    path = RunDir(tmp_path / "run", run_id="abc").write()
    assert load_run(path).run_id == "abc"
    assert json.loads((path / "run.json").read_text())["format"] == "fwload-run/2"
