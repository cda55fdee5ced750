"""The notebooks run end to end on the committed sample run, on the same functions as the reports."""

from __future__ import annotations

import filecmp
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from analysis.analyse import analyse_run
from analysis.writers import views

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO / "analysis" / "notebooks"
SAMPLE = REPO / "tests" / "data" / "sample-run"

sys.path.insert(0, str(REPO / "tests" / "data"))
from make_sample_run import build  # noqa: E402


def test_explore_run_notebook_executes_and_shows_the_verdict(monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    monkeypatch.setenv("FWLOAD_RUN_DIR", str(SAMPLE))
    notebook = nbformat.read(NOTEBOOKS / "explore_run.ipynb", as_version=4)
    NotebookClient(
        notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}
    ).execute()
    first_output = notebook.cells[1].outputs[0]["text"]
    assert first_output.splitlines()[0] == views.headline(analyse_run(SAMPLE))
    errors = [
        output
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if output.output_type == "error"
    ]
    assert errors == []


def test_every_notebook_is_covered():
    assert sorted(path.name for path in NOTEBOOKS.glob("*.ipynb")) == ["explore_run.ipynb"]


def test_committed_sample_run_is_what_the_generator_makes_and_stays_small(tmp_path):
    rebuilt = build(tmp_path / "sample-run")
    names = sorted(path.name for path in SAMPLE.iterdir())
    assert names == sorted(path.name for path in rebuilt.iterdir())
    _, mismatch, errors = filecmp.cmpfiles(SAMPLE, rebuilt, names, shallow=False)
    assert (mismatch, errors) == ([], [])
    assert sum(path.stat().st_size for path in SAMPLE.iterdir()) < 300_000
