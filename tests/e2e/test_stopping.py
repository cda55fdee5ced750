"""A stopped run stops the load, closes its run directory, and is never reported green.

Real processes and real signals: fwload SIGKILLed mid-run (its Locust child, with and without
``--processes``, and the stand-in it started must not outlive it), SIGTERM without a terminal
(as ``timeout`` or a cancelled CI job sends it), Ctrl-C typed on a pty. Requests are counted
at the target through a recording proxy. "Within 2 s" is a correctness bound, polled.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from fwload.standin.launcher import StandinProcess
from tests.e2e.helpers import FWLOAD, REPO, only_run_dir, run
from tests.e2e.processes import (
    Terminal,
    alive,
    data_dir_of,
    descendants,
    progress_requests,
    wait_until,
)
from tests.e2e.recording_proxy import recording_proxy

GONE_WITHIN_S = 2.0
LOAD_STARTS_S = 120.0


def long_scenario(tmp_path: Path, name: str) -> Path:
    """A run that would go on for 90 s: every test here stops it long before."""
    path = tmp_path / f"{name}.yaml"
    path.write_text(
        f"name: {name}\n"
        "users:\n  - class: Listener\n    options: {wait: [0.1s, 0.3s], max_stream_bytes: 65536}\n"
        "load: {profile: constant, users: 3, spawn_rate: 3, duration: 90s}\n"
        "collector: {backend: auto, interval: 2s}\n",
        encoding="utf-8",
    )
    return path


def start_fwload(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as stderr:
        return subprocess.Popen([*FWLOAD, *args], cwd=REPO, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=stderr, env={**os.environ, "PYTHONUNBUFFERED": "1"})


def wait_for_load(out: Path, process: subprocess.Popen[bytes], log: Path, requests: int = 20) -> None:
    def loading() -> bool:
        assert process.poll() is None, f"fwload ended early ({process.returncode}):\n{log.read_text()[-3000:]}"
        return progress_requests(out) >= requests

    wait_until("the load to start", loading, LOAD_STARTS_S, every_s=0.2)


def locust_processes(tree: list) -> list:
    return [p for p in tree if "locust" in " ".join(p.cmdline())]


def report_code(run_dir: Path) -> tuple[int, str]:
    done = run([*FWLOAD, "report", str(run_dir)], timeout=180)
    return done.code, done.err


@pytest.mark.parametrize("processes", [0, 2], ids=["one-process", "two-workers"])
def test_sigkill_of_fwload_mid_run_stops_every_request_to_the_target_within_2_s(tmp_path, processes):
    out, log = tmp_path / "reports", tmp_path / "fwload.log"
    with StandinProcess() as standin, recording_proxy(standin.url) as proxy:
        fwload = start_fwload(["run", str(long_scenario(tmp_path, "killed")), "--host", proxy.url,
                               "--processes", str(processes), "--out", str(out)], log)
        try:
            wait_for_load(out, fwload, log)
            tree = descendants(fwload.pid)
            assert len(locust_processes(tree)) == 1 + processes, [p.cmdline() for p in tree]
            before = len(proxy.seen)
            killed_at = time.monotonic()
            fwload.send_signal(signal.SIGKILL)
            fwload.wait(10)
        finally:
            if fwload.poll() is None:
                fwload.kill()
        wait_until("every Locust process gone after fwload's SIGKILL", lambda: not alive(tree), GONE_WITHIN_S)
        time.sleep(1.0)  # anything still loading the target would show here
        late = [seen.path for seen in proxy.seen if seen.at > killed_at + GONE_WITHIN_S]
    assert before > 0 and not late, f"{len(late)} requests reached the target after fwload died: {late[:5]}"
    run_dir = only_run_dir(out)
    meta = json.loads((run_dir / "run.json").read_text())
    assert meta["status"] in ("interrupted", "running"), meta["status"]
    code, err = report_code(run_dir)
    assert code == 5, err[-2000:]
    assert "INCOMPLETE" in err


def test_sigkill_of_fwload_stops_the_stand_in_it_started_and_removes_its_folder(tmp_path):
    out, log = tmp_path / "reports", tmp_path / "fwload.log"
    fwload = start_fwload(["run", str(long_scenario(tmp_path, "orphan")), "--out", str(out)], log)
    try:
        wait_for_load(out, fwload, log)
        tree = descendants(fwload.pid)
        data = data_dir_of(tree)
        assert data is not None and data.is_dir(), [p.cmdline() for p in tree]
        assert len(tree) >= 2, "the stand-in and Locust"
        fwload.send_signal(signal.SIGKILL)
        fwload.wait(10)
    finally:
        if fwload.poll() is None:
            fwload.kill()
    wait_until("the stand-in and Locust gone, the stand-in's folder removed",
               lambda: not alive(tree) and not data.exists(), GONE_WITHIN_S)


def test_sigterm_without_a_terminal_closes_the_run_as_interrupted_with_progress_lines_before(tmp_path):
    out, log = tmp_path / "reports", tmp_path / "fwload.log"
    fwload = start_fwload(["run", str(long_scenario(tmp_path, "terminated")), "--out", str(out)], log)
    try:
        wait_until("a progress line in the log", lambda: "progress:" in log.read_text(), LOAD_STARTS_S, every_s=0.2)
        tree = descendants(fwload.pid)
        fwload.send_signal(signal.SIGTERM)
        code = fwload.wait(60)
    finally:
        if fwload.poll() is None:
            fwload.kill()
    text = log.read_text()
    assert code == 143, text[-3000:]
    line = next(line for line in text.splitlines() if line.startswith("progress:"))
    for part in ("s left", "users 3", "requests", "errors", "p95"):
        assert part in line, line
    assert "stopped by SIGTERM" in text and "INCOMPLETE" in text
    assert not alive(tree), "nothing fwload started outlives it"
    run_dir = only_run_dir(out)
    meta = json.loads((run_dir / "run.json").read_text())
    assert (meta["status"], meta["exit_code"]) == ("interrupted", 143)
    assert (run_dir / "locust" / "stats.json").is_file(), "Locust closed the run itself"
    verdict = json.loads((run_dir / "verdict.json").read_text())
    assert (verdict["status"], verdict["exit_code"]) == ("incomplete", 5)
    assert verdict["totals"]["requests"] > 0, "what was measured is still shown"
    reasons = " ".join(verdict["partial_reasons"])
    assert "interrupted" in reasons and "SIGTERM" in reasons
    code, err = report_code(run_dir)
    assert code == 5 and "requests: browse" in err, err[-2000:]


def test_ctrl_c_on_a_terminal_stops_locust_closes_the_run_and_writes_the_partial_report(tmp_path):
    out = tmp_path / "reports"
    terminal = Terminal.start([*FWLOAD, "run", str(long_scenario(tmp_path, "ctrlc")), "--out", str(out)])
    try:
        wait_until("requests recorded", lambda: terminal.read(0) is not None and progress_requests(out) >= 20,
                   LOAD_STARTS_S, every_s=0.2)  # reading keeps the terminal's buffer from filling up
        tree = descendants(terminal.pid)
        terminal.type(b"\x03")
        code = terminal.exit_code(60)
    finally:
        terminal.kill()
    assert code == 130, terminal.text[-3000:]
    assert "stopping Locust" in terminal.text
    assert not alive(tree)
    run_dir = only_run_dir(out)
    meta = json.loads((run_dir / "run.json").read_text())
    assert (meta["status"], meta["exit_code"]) == ("interrupted", 130)
    assert (run_dir / "locust" / "report.html").is_file() and (run_dir / "report.html").is_file()
    verdict = json.loads((run_dir / "verdict.json").read_text())
    assert (verdict["status"], verdict["exit_code"]) == ("incomplete", 5)
    assert verdict["totals"]["requests"] >= 20
