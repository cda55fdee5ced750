"""``fwload run`` against the stack-mode stand-in: the seed's scenario passes, audio comes
from nginx, and every component is sampled."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fwload.cli import demo
from fwload.cli.app import app
from fwload.launch.run import RunResult
from fwload.limits import COMPONENTS
from tests.e2e.helpers import FWLOAD, only_run_dir, rows, run
from tests.stack.leftovers import assert_nothing_left

pytestmark = pytest.mark.stack

DATA = Path(__file__).parent / "data"


def test_upload_and_play_passes_on_the_stack_with_every_component_sampled(tmp_path):
    done = run(
        [*FWLOAD, "run", str(DATA / "stack-play.yaml"), "--out", str(tmp_path)],
        timeout=280,
        env={"FWLOAD_STANDIN_MODE": "stack"},
    )
    run_dir = only_run_dir(tmp_path)
    summary = (run_dir / "summary.md").read_text() if (run_dir / "summary.md").exists() else done.err[-3000:]
    assert done.code == 0, summary
    meta = json.loads((run_dir / "run.json").read_text())
    stack = meta["target"]["stack"]
    assert set(stack["components"]) == set(COMPONENTS)
    assert stack["options"]["api_workers"] == 2 and stack["options"]["worker_concurrency"] == 1

    sampled = {row["component"] for row in rows(run_dir, "resources.csv")}
    assert sampled == set(COMPONENTS)
    for component in COMPONENTS:
        samples = [row for row in rows(run_dir, "resources.csv") if row["component"] == component]
        assert len(samples) >= 5 and all(row["phase"] == "Running" for row in samples), component
        assert any(int(row["memory_bytes"]) > 0 for row in samples), component

    streams = rows(run_dir, "streams.csv")
    assert streams and {row["status"] for row in streams} == {"206"}, streams
    assert all(row["error_kind"] == "" and int(row["bytes"]) > 0 for row in streams), streams
    imports = rows(run_dir, "imports.csv")
    assert imports and {row["outcome"] for row in imports} <= {"finished", "unfinished"}, imports
    assert any(row["outcome"] == "finished" for row in imports)
    assert_nothing_left(stack["stack_id"], {c["pid"] for c in stack["components"].values() if c["owned"]})


def test_demo_with_stack_runs_on_the_stack(tmp_path):
    done = run([*FWLOAD, "demo", "--stack", "--duration", "10", "--out", str(tmp_path)], timeout=280)
    assert done.code == 0, done.err[-3000:]
    run_dir = only_run_dir(tmp_path)
    stack = json.loads((run_dir / "run.json").read_text())["target"]["stack"]
    assert {row["component"] for row in rows(run_dir, "resources.csv")} == set(COMPONENTS)
    assert_nothing_left(stack["stack_id"], {c["pid"] for c in stack["components"].values() if c["owned"]})


def test_the_default_demo_asks_for_the_embedded_stand_in_even_when_the_environment_says_stack(
    monkeypatch, tmp_path
):
    asked = []
    monkeypatch.setenv("FWLOAD_STANDIN_MODE", "stack")
    monkeypatch.setattr(demo, "ensure_fixtures", lambda _folder: None)
    monkeypatch.setattr(demo, "run", lambda request, _console: asked.append(request) or RunResult(0, tmp_path))
    assert CliRunner().invoke(app, ["demo", "--out", str(tmp_path)]).exit_code == 0
    assert CliRunner().invoke(app, ["demo", "--stack", "--out", str(tmp_path)]).exit_code == 0
    assert [request.standin_options for request in asked] == [{"mode": "embedded"}, {"mode": "stack"}]
