"""`fwload run`: the CI path, from scenario to exit code, against the embedded stand-in."""

from __future__ import annotations

import json
import socket
import threading

import pytest

from fwload.standin.launcher import StandinProcess
from tests.e2e.helpers import FWLOAD, only_run_dir, rows, run


def test_smoke_scenario_passes_against_the_stand_in(tmp_path):
    done = run([*FWLOAD, "run", "scenarios/smoke.yaml", "--out", str(tmp_path)])
    assert done.code == 0, done.err[-3000:]
    run_dir = only_run_dir(tmp_path)
    assert done.out.strip().splitlines()[-1] == str(run_dir)
    verdict = json.loads((run_dir / "verdict.json").read_text())
    assert verdict["exit_code"] == 0
    assert {"junit.xml", "summary.md", "report.html"} <= {p.name for p in run_dir.iterdir()}
    samples = rows(run_dir, "resources.csv")
    assert samples and {s["component"] for s in samples} == {"standin"}
    assert all(float(s["memory_bytes"]) > 0 for s in samples)


def test_a_tight_slo_fails_with_exit_1_and_names_it(tmp_path):
    scenario = tmp_path / "tight.yaml"
    scenario.write_text(
        "name: tight\nusers:\n  - class: Listener\n    options: {wait: [0.1, 0.3]}\n"
        "load: {profile: constant, users: 2, spawn_rate: 2, duration: 15s}\n"
        "slos:\n  groups:\n    browse: {p95: 1ms}\n"
    )
    done = run([*FWLOAD, "run", str(scenario), "--out", str(tmp_path / "reports")])
    assert done.code == 1, done.err[-3000:]
    run_dir = only_run_dir(tmp_path / "reports")
    failed = [c for c in json.loads((run_dir / "verdict.json").read_text())["checks"] if c["passed"] is False]
    assert failed and all("browse" in json.dumps(c) for c in failed)
    assert "browse" in (run_dir / "summary.md").read_text()


def test_a_server_that_accepts_and_never_answers_is_not_ready(tmp_path):
    """The API's OOM respawn loop: the master holds the socket, no worker ever answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    threading.Thread(target=accept, daemon=True).start()
    scenario = tmp_path / "hang.yaml"
    scenario.write_text("name: hang\nusers:\n  - class: Listener\nload: {users: 1, duration: 10s}\n"
                        "target: {ready_timeout: 6s}\n")
    try:
        port = listener.getsockname()[1]
        done = run([*FWLOAD, "run", str(scenario), "--host", f"http://127.0.0.1:{port}", "--out", str(tmp_path / "r")])
    finally:
        stop.set()
        listener.close()
    assert done.code == 4, done.err[-3000:]
    assert "never became ready within 6 s" in done.err and "did not answer" in done.err
    assert accepted, "the probe did connect"
    run_dir = only_run_dir(tmp_path / "r")
    assert json.loads((run_dir / "run.json").read_text())["status"] == "not_ready"
    verdict = json.loads((run_dir / "verdict.json").read_text())
    assert verdict["exit_code"] == 4


def test_closed_registration_without_users_file_is_a_usage_error(tmp_path):
    with StandinProcess(closed_registration=True) as standin:
        done = run([*FWLOAD, "run", "scenarios/smoke.yaml", "--host", standin.url, "--out", str(tmp_path)])
    assert done.code == 2
    assert "registration is closed" in done.err and "fwload users provision" in done.err


@pytest.mark.parametrize("text, message", [
    ("name: x\nusers: [{class: Lister}]\n", "unknown user class 'Lister'"),
    ("name: x\nusers: [{class: Listener}]\nload: {duration: -5s}\n", "cannot be negative"),
])
def test_a_broken_scenario_is_one_clear_error_and_writes_nothing(tmp_path, text, message):
    scenario = tmp_path / "broken.yaml"
    scenario.write_text(text)
    done = run([*FWLOAD, "run", str(scenario), "--out", str(tmp_path / "reports")])
    assert done.code == 2
    assert message in done.err and "broken.yaml" in done.err
    assert "Traceback" not in done.err
    assert not (tmp_path / "reports").exists()
