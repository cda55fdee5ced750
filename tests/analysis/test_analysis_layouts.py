"""Run directories of both layouts give the same reports: the CSV layout of fwload-run/1 (a
run recorded by the previous version is kept in tests/data/csv-run-v1), the columnar one,
and `fwload export --csv` between them; charts drawn by the helper process are the same."""

from __future__ import annotations

import csv
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
from fwload.recording import columnar, schema

CSV_RUN = Path(__file__).resolve().parents[1] / "data" / "csv-run-v1"
EVERY_COLUMN = {name: table.column_names for name, table in schema.TABLES.items()}


def _columnar_twin(csv_dir: Path, folder: Path) -> Path:
    """The same run in this version's layout: each CSV table written as its Parquet file."""
    shutil.copytree(csv_dir, folder, ignore=shutil.ignore_patterns("*.csv"))
    counts = {}
    for table in schema.TABLES.values():
        source = csv_dir / table.csv_name
        if not source.is_file():
            continue
        with source.open(newline="", encoding="utf-8") as handle:
            rows = [tuple(row.get(c) for c in table.column_names) for row in csv.DictReader(handle)]
        counts[table.name] = columnar.write_parquet(folder, table, [columnar.to_batch(table, rows)])
    meta = json.loads((csv_dir / "run.json").read_text())
    (folder / "run.json").write_text(json.dumps({**meta, "format": schema.FORMAT, "counts": counts}))
    return folder


def _numbers_kept(earlier: object, now: object, path: str = "") -> list[str]:
    """Where a figure the earlier analysis wrote differs now (new keys are fine)."""
    if isinstance(earlier, dict):
        return [problem for key, value in earlier.items()
                for problem in (_numbers_kept(value, now.get(key), f"{path}/{key}") if isinstance(now, dict)
                                else [f"{path}/{key}: gone"])]
    if isinstance(earlier, list):
        if not isinstance(now, list) or len(now) != len(earlier):
            return [f"{path}: {len(earlier)} items became {now!r:.60}"]
        return [problem for n, (a, b) in enumerate(zip(earlier, now)) for problem in _numbers_kept(a, b, f"{path}[{n}]")]
    return [] if earlier == now else [f"{path}: {earlier!r} became {now!r}"]


def test_a_csv_run_directory_of_the_previous_version_reports_as_its_columnar_twin_and_as_it_did(tmp_path):
    """tests/data/csv-run-v1 is a run recorded by fwload-run/1, with the verdict.json its own
    analysis wrote: read as CSV it reports exactly as the same run stored as Parquet, and every
    figure of that earlier verdict is still the same (later versions only add figures)."""
    run_dir = shutil.copytree(CSV_RUN, tmp_path / "csv", ignore=shutil.ignore_patterns("verdict.json", "summary.md"))
    twin = _columnar_twin(run_dir, tmp_path / "columnar")
    for folder in (run_dir, twin):
        result = CliRunner().invoke(app, ["report", str(folder)])
        assert result.exit_code == 0, result.output
    now = json.loads((run_dir / "verdict.json").read_text())
    assert now == json.loads((twin / "verdict.json").read_text())
    assert (run_dir / "summary.md").read_text() == (twin / "summary.md").read_text()
    assert not list(run_dir.glob("*.parquet")), "reading never converts the directory"
    earlier = json.loads((CSV_RUN / "verdict.json").read_text())
    for section in ("status", "totals", "groups", "imports", "streams", "components", "incidents", "startup"):
        assert _numbers_kept(earlier[section], now[section], section) == []


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
