"""Run directories of both layouts give the same reports: the CSV layout of fwload-run/1 (a
run recorded by the previous version is kept in tests/data/csv-run-v1), the columnar one,
and `fwload export --csv` between them; charts drawn by the helper process are the same."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
from known_runs import standard_run
from typer.testing import CliRunner

import fwload.cli.export  # noqa: F401 - registers the export command
import fwload.cli.report  # noqa: F401 - registers the report command
from analysis.load import load_run
from analysis.outputs import build_outputs
from analysis.analyse import analyse_run
from analysis.writers import chart_process, charts
from fwload.cli.app import app
from fwload.recording import schema

CSV_RUN = Path(__file__).resolve().parents[1] / "data" / "csv-run-v1"
EVERY_COLUMN = {name: table.column_names for name, table in schema.TABLES.items()}


def test_a_csv_run_directory_recorded_by_the_previous_version_is_reported_as_it_was(tmp_path):
    """verdict.json and summary.md in the fixture were written by fwload-run/1's own analysis."""
    run_dir = shutil.copytree(CSV_RUN, tmp_path / "run")
    (run_dir / "verdict.json").unlink()
    (run_dir / "summary.md").unlink()
    result = CliRunner().invoke(app, ["report", str(run_dir)])
    assert result.exit_code == 0, result.output
    assert json.loads((run_dir / "verdict.json").read_text()) == json.loads((CSV_RUN / "verdict.json").read_text())
    assert (run_dir / "summary.md").read_text() == (CSV_RUN / "summary.md").read_text()
    assert not list(run_dir.glob("*.parquet")), "reading never converts the directory"


def test_export_csv_writes_a_csv_run_directory_that_reads_and_reports_the_same(tmp_path):
    truth = standard_run(tmp_path / "run")
    result = CliRunner().invoke(app, ["export", "--csv", str(truth.path), "--out", str(tmp_path / "csv")])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().splitlines()[-1] == str(tmp_path / "csv")
    exported = tmp_path / "csv"
    meta = json.loads((exported / "run.json").read_text())
    assert meta["format"] == "fwload-run/1" and meta["counts"]["requests.csv"] == truth.requests
    assert (exported / "requests.csv").read_text().splitlines()[0] == ",".join(schema.REQUEST_COLUMNS)
    columnar_run, csv_run = load_run(truth.path, EVERY_COLUMN), load_run(exported, EVERY_COLUMN)
    for name in schema.TABLES:
        pd.testing.assert_frame_equal(getattr(columnar_run, name), getattr(csv_run, name), check_categorical=False)
    build_outputs(truth.path, ["json"])
    build_outputs(exported, ["json"])
    assert json.loads((exported / "verdict.json").read_text()) == json.loads((truth.path / "verdict.json").read_text())


def test_export_csv_of_a_killed_run_writes_the_rows_before_the_torn_batch(tmp_path):
    truth = standard_run(tmp_path / "run", status="running")
    truth.builder.write(cut="requests")
    result = CliRunner().invoke(app, ["export", "--csv", str(truth.path)])
    assert result.exit_code == 0, result.output
    assert len(pd.read_csv(truth.path / "requests.csv")) == truth.requests - 1
    assert list(truth.path.glob("requests.*.arrows")), "the segments stay: export only reads"
    assert len(load_run(truth.path).requests) == truth.requests - 1


def test_export_refuses_without_a_format_into_a_used_folder_or_a_csv_run(tmp_path):
    truth = standard_run(tmp_path / "run")
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "notes.txt").write_text("x")
    for args, message in (
        (["export", str(truth.path)], "needs a format"),
        (["export", "--csv", str(truth.path), "--out", str(tmp_path / "used")], "is not empty"),
        (["export", "--csv", str(CSV_RUN)], "CSV files already"),
    ):
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 2 and message in " ".join(result.output.split()), (args, result.output)


def test_charts_drawn_by_the_helper_process_are_those_drawn_here(tmp_path, monkeypatch):
    truth = standard_run(tmp_path / "run")
    build_outputs(truth.path, ["html"])
    here = (truth.path / "report.html").read_text()
    monkeypatch.setattr(chart_process, "PARALLEL_FROM_ROWS", 0)
    assert chart_process.worth_it(truth.path)
    build_outputs(truth.path, ["html"])
    assert (truth.path / "report.html").read_text() == here


def test_the_helper_process_draws_what_this_process_draws(tmp_path):
    analysis = analyse_run(standard_run(tmp_path / "run").path)
    names = charts.applicable(analysis)
    helper = chart_process.ChartProcess()
    try:
        for name in names:
            helper.submit(name, charts.chart_inputs(analysis))
        helper.on_resources(analysis.timeline, analysis.resources, analysis.documented, analysis.live)
        theirs = {name: helper.helper_drew(name, timeout=120) for name in [*names, "component:api"]}
    finally:
        helper.close()
    assert theirs == charts.draw(analysis, [*names, "component:api"]) and len(names) == 5
