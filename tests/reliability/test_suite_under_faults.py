"""The real suite (Locust with the fwload plugin, or ``fwload run``, as subprocesses) against a sick stand-in.

Each run is short (15–20 s, 3 users). Every test checks that the run completes, that nothing
is lost or counted twice (the stand-in's own counts against requests.csv, Locust's totals
against requests.csv) and that the report says what happened.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest
from rich.console import Console

from fwload.launch.run import RunRequest
from fwload.launch.run import run as fwload_run
from fwload.scenario.faults import Faults
from fwload.standin.faults.counts import nested, read_totals
from fwload.standin.faults.runtime import FOLDER as FAULTS_FOLDER
from fwload.standin.launcher import StandinProcess
from tests.tables import table_frame
from tests.reliability.conftest import (
    REPO,
    RUN_TIMEOUT_S,
    RunFiles,
    environment,
    locust_command,
    only_run_dir,
    rows_per_group,
    run_fwload,
    run_locust,
    scenario_file,
    server_per_group,
)

THROTTLING_ADVICE = ("THROTTLING_ENABLED=false", "THROTTLING_RATES")
PREFLIGHT_REQUESTS = {("auth", "201"): 1, ("browse", "200"): 1}
"""What ``fwload run``'s pre-flight asks a fresh stand-in before the load (`preflight.check_audio_serving`)."""


def assert_nothing_lost_or_doubled(
    run: RunFiles, counts: dict | None = None, *, on_stack: bool = False, unseen: frozenset[str] = frozenset()
) -> None:
    """requests.csv against Locust's own statistics and, given its counts, against the stand-in.

    Every request the stand-in received was answered or reset; every answer is one row with
    that status, and nothing else is a row, except connection errors, which no server sees.
    `on_stack` (``fwload run`` on the stack): nginx's own 502s never reached the API, nginx
    answers 206 where the API's 200 pointed it to audio, the readiness probes of fwload
    and of the stack ask for nodeinfo too (group ``instance``, left out), and the pre-flight's
    nginx check registers a probe account and lists the tracks of the still empty library
    (`PREFLIGHT_REQUESTS`): requests of fwload, not of the load, and an API that dies between
    starting its 200 and nginx receiving it leaves nginx answering 502: in a group with proxy
    errors the API may count up to that many 200s more than the users saw. In `unseen` groups
    the server may have answered one more 200 than the users saw (see the resets test).
    """
    rows = run.requests
    failed = rows.loc[rows["error_kind"] != ""]
    assert run.locust_totals == (len(rows), len(failed))
    assert run.meta["counts"]["requests"] == len(rows), "run.json counts what the file holds"
    if counts is not None:
        answered = {
            (group, status): n
            for group, entry in counts.items()
            if group not in ("imports", "other", *(["instance"] if on_stack else []))
            for status, n in entry["status"].items()
        }
        if on_stack:
            answered = {key: n - PREFLIGHT_REQUESTS.get(key, 0) for key, n in answered.items()}
            answered = {key: n for key, n in answered.items() if n}
        by_api = rows.loc[rows["status"] != 0]
        if on_stack:
            by_api = by_api.loc[(by_api["error_kind"] != "proxy") & (by_api["group"] != "instance")]
            audio = (by_api["group"] == "listen") & (by_api["status"] == 206)
            by_api = by_api.assign(status=by_api["status"].mask(audio, 200))
        recorded = {(str(g), str(s)): int(n) for (g, s), n in by_api.groupby(["group", "status"]).size().items()}
        for key in [key for key in answered if key[0] in unseen and key[1] == "200"]:
            assert 0 <= answered[key] - recorded.get(key, 0) <= 1, key
            answered[key] = recorded.get(key, 0)
        if on_stack:
            proxied = rows.loc[rows["error_kind"] == "proxy"].groupby("group").size()
            for key in [key for key in answered if key[1] == "200" and key[0] in proxied.index]:
                assert 0 <= answered[key] - recorded.get(key, 0) <= proxied[key[0]], key
                answered[key] = recorded.get(key, 0)
        assert answered == recorded
        for group, entry in counts.items():
            assert entry.get("received", 0) == sum(entry["status"].values()) + entry.get("reset", 0), group


def test_a_429_storm_is_reported_as_throttling_not_slowness(
    tmp_path: Path, standin: StandinProcess, fixtures_dir: Path
):
    standin.fault_admin().arm(
        Faults.model_validate(
            {
                "requests": [
                    {"group": group, "throttle": {"storm": share, "retry_after": "1s"}}
                    for group, share in (("browse", 0.5), ("listen", 0.3), ("history", 0.3))
                ]
            }
        )
    )
    scenario = scenario_file(tmp_path, "storm", slos={"error_ratio": 0.01})
    result, path = run_locust(scenario, standin.url, tmp_path / "reports", fixtures_dir, "--skip-preflight")
    run = RunFiles(path)
    assert run.meta["status"] == "complete", result.stderr[-3000:]
    rows = run.requests
    throttled = rows.loc[rows["error_kind"] == "throttled"]
    assert len(throttled) > 10 and set(throttled["status"]) == {429}
    counts = standin.fault_admin().counts()
    assert server_per_group(counts, "throttled") == rows_per_group(throttled)
    assert server_per_group(counts, "received") == rows_per_group(rows)
    assert_nothing_lost_or_doubled(run, counts)
    verdict = run.verdict
    error_check = next(check for check in verdict["checks"] if check["name"] == "error ratio")
    assert error_check["passed"] is True, error_check
    for group, figures in verdict["groups"].items():
        assert (
            figures["samples"] == figures["requests"] - figures["throttled"] - figures["errors_connection"]
        ), group
    notice = next(n for n in verdict["notices"] if n["kind"] == "throttling")
    assert f"{len(throttled)} of {len(rows)} requests were throttled" in notice["message"]
    assert all(word in notice["advice"] and word in run.summary for word in THROTTLING_ADVICE)
    assert {event["scope"] for event in run.events_of("throttled")} >= {"authenticated-list"}


def test_connection_resets_are_connection_errors_and_the_run_goes_on(
    tmp_path: Path, standin: StandinProcess, fixtures_dir: Path
):
    """A POST whose connection is reset is a ``connection`` error. A GET is not: the HTTP client
    (geventhttpclient, under FastHttpUser) retries an idempotent request whose connection closed
    before any answer, as browsers do, so the user sees the retry's answer and the stand-in
    counts one more request than requests.csv has rows."""
    standin.fault_admin().arm(
        Faults.model_validate(
            {
                "requests": [
                    {"group": "browse", "reset": 0.3},
                    {"group": "search", "reset": 0.3},
                    {"group": "history", "reset": 0.2},
                ]
            }
        )
    )
    scenario = scenario_file(tmp_path, "resets", slos={"error_ratio": 0.5})
    result, path = run_locust(scenario, standin.url, tmp_path / "reports", fixtures_dir, "--skip-preflight")
    run = RunFiles(path)
    assert run.meta["status"] == "complete", result.stderr[-3000:]
    rows = run.requests
    resets = rows.loc[rows["error_kind"] == "connection"]
    counts = standin.fault_admin().counts()
    # About one run in ten, a reset GET's retry is answered 200 by the stand-in and never seen
    # by its user (not yet explained); at most one per group is tolerated, never fewer answers.
    assert_nothing_lost_or_doubled(run, counts, unseen=frozenset({"browse", "search"}))
    assert rows_per_group(resets) == {"history": counts["history"]["reset"]} and len(resets) > 3
    assert set(resets["status"]) == {0} and set(resets["method"]) == {"POST"}
    assert counts["browse"]["reset"] > 3, "GET resets happened; the client retried them"
    assert run.verdict["totals"]["errors_connection"] == len(resets)
    assert f"connection {len(resets)}" in run.summary
    late = rows.loc[rows["ts"] > rows["ts"].max() - 5]
    assert (late["error_kind"] == "").any(), "users still get answers at the end"


def test_a_restart_mid_run_shows_as_connection_errors_in_its_window(tmp_path: Path, fixtures_dir: Path):
    scenario = scenario_file(
        tmp_path,
        "restart",
        duration="20s",
        slos={"error_ratio": 0.5},
        faults={"restarts": [{"after": "6s", "down": "3s"}]},
        collector="processes",
    )
    result = run_fwload("run", str(scenario), "--out", str(tmp_path / "reports"), fixtures=fixtures_dir)
    run = RunFiles(only_run_dir(tmp_path / "reports", result))
    assert run.meta["status"] == "complete", result.stdout[-3000:]
    (fault,) = [e for e in run.events_of("fault") if e["detail"].startswith("restart")]
    (restart,) = run.events_of("restart")
    assert restart["component"] == "standin", "the collector followed the stand-in to its new process"
    assert fault["ts"] <= restart["ts"] <= fault["back_at"] + 3.0
    rows = run.requests
    refused = rows.loc[rows["error_kind"] == "connection"]
    assert len(refused) > 0
    assert refused["ts"].between(fault["ts"] - 0.5, fault["back_at"] + 1.0).all(), refused[
        ["ts", "error"]
    ]
    assert run.verdict["exit_code"] != 4, "a restart during the load is not a start-up failure"
    after = rows.loc[rows["ts"] > fault["back_at"] + 1.0]
    assert (after["error_kind"] == "").sum() > 10, "the users carry on once the API is back"
    assert_nothing_lost_or_doubled(run)
    verdict = run.verdict
    assert verdict["totals"]["errors_connection"] == len(refused)
    assert any(i["component"] == "standin" and i["kind"] == "restart" for i in verdict["incidents"])
    assert f"connection {len(refused)}" in run.summary


@pytest.mark.stack
def test_a_stack_api_restart_mid_run_shows_as_nginx_502s_and_a_restart_of_the_api_alone(
    tmp_path: Path, fixtures_dir: Path, monkeypatch: pytest.MonkeyPatch
):
    """``fwload run`` itself (not a subprocess, so the stand-in's data directory, with its
    server-side counts, outlives the run); Locust is still a subprocess."""
    monkeypatch.setenv("FWLOAD_FIXTURES_DIR", str(fixtures_dir))
    scenario = scenario_file(
        tmp_path,
        "stack-restart",
        duration="20s",
        slos={"error_ratio": 0.5},
        faults={"restarts": [{"after": "6s", "down": "3s"}]},
        collector="processes",
    )
    data = tmp_path / "standin"
    data.mkdir()
    output = io.StringIO()
    fwload_run(
        RunRequest(scenario, out=tmp_path / "reports",
                   standin_options={"mode": "stack", "data_dir": data, "stack": {"task_memory_mb": 0}}),
        Console(file=output, width=200),
    )
    run = RunFiles(only_run_dir(tmp_path / "reports"))
    assert run.meta["status"] == "complete", output.getvalue()[-3000:]
    (fault,) = [e for e in run.events_of("fault") if e["detail"].startswith("restart")]
    assert fault["detail"] == "restart: down 3 s", "the stack restarted its API without an error"
    (restart,) = run.events_of("restart")
    first_api = run.meta["target"]["stack"]["components"]["api"]["pid"]
    assert restart["component"] == "api" and str(first_api) not in restart["detail"], restart
    assert fault["ts"] <= restart["ts"]
    resources = table_frame(run.path, "resources")
    assert resources.groupby("component")["restarts"].max().to_dict() == {
        component: int(component == "api") for component in set(resources["component"])
    }, "the API alone restarted, once"

    rows = run.requests
    proxied = rows.loc[rows["error_kind"] == "proxy"]
    assert len(proxied) > 0 and set(proxied["status"]) == {502}
    assert proxied["ts"].between(fault["ts"] - 0.5, fault["back_at"] + 1.0).all(), proxied[["ts", "error"]]
    assert (rows["error_kind"].isin(["", "proxy"])).all(), rows.loc[rows["error_kind"] != "", "error"]
    after = rows.loc[rows["ts"] > fault["back_at"] + 1.0]
    assert (after["error_kind"] == "").sum() > 10, "the users carry on once the API is back"
    assert_nothing_lost_or_doubled(run, nested(read_totals(data / FAULTS_FOLDER)), on_stack=True)

    verdict = run.verdict
    assert verdict["exit_code"] != 4, "a restart during the load is not a start-up failure"
    assert any(i["component"] == "api" and i["kind"] == "restart" for i in verdict["incidents"])
    (api_line,) = [line for line in run.summary.splitlines() if line.startswith("| api |")]
    assert "| 1 / 0 / 0 |" in api_line, api_line


def test_a_dead_import_worker_gives_timeouts_and_no_user_hangs(tmp_path: Path, fixtures_dir: Path):
    scenario = scenario_file(
        tmp_path,
        "dead-worker",
        uploader={"import_timeout": "3s"},
        slos={"error_ratio": 0.01, "import_wait_p95": "2s"},
        faults={"worker": {"dies_after": 0}},
    )
    result = run_fwload("run", str(scenario), "--out", str(tmp_path / "reports"), fixtures=fixtures_dir)
    run = RunFiles(only_run_dir(tmp_path / "reports", result))
    assert run.meta["status"] == "complete", result.stdout[-3000:]
    imports = run.imports
    outcomes = imports["outcome"].value_counts().to_dict()
    assert outcomes.get("timeout", 0) >= 2, outcomes
    armed = min(e["ts"] for e in run.events_of("fault") if e["detail"].startswith("injected on purpose"))
    finished = imports.loc[imports["outcome"] == "finished"]
    assert (finished["ts"] < armed).all(), "faults are armed once run_start is written (polled every 0.1 s): " \
        "only an upload accepted before that may still finish"
    assert (imports.loc[imports["outcome"] == "timeout", "wait_ms"] >= 3000).all()
    accepted = run.requests.query("group == 'upload' and status == 201")
    assert len(imports.loc[imports["upload"] != ""]) == len(accepted), (
        "every accepted upload is accounted for"
    )
    verdict = run.verdict
    assert verdict["imports"]["outcomes"]["timeout"] == outcomes["timeout"]
    wait_check = next(check for check in verdict["checks"] if "import" in check["name"])
    assert wait_check["passed"] is False and result.returncode == 1
    assert_nothing_lost_or_doubled(run)
    assert "timeout" in run.summary, (
        "summary.md must say the imports timed out (not yet written by analysis/)"
    )


def test_a_runner_killed_outright_still_gets_a_partial_report(
    tmp_path: Path, standin: StandinProcess, fixtures_dir: Path
):
    scenario = scenario_file(tmp_path, "killed", duration="60s")
    reports = tmp_path / "reports"
    process = subprocess.Popen(
        locust_command(scenario, standin.url, reports),
        cwd=REPO,
        env=environment(fixtures_dir),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + RUN_TIMEOUT_S
        while time.monotonic() < deadline and len(_flushed(reports)) < 60:
            time.sleep(0.5)
        before = _flushed(reports)
        killed_at = time.time()
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(30)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    run = RunFiles(only_run_dir(reports))
    assert run.meta["status"] == "running", "the runner never got to close it"
    assert not list(run.path.glob("*.parquet")) and list(run.path.glob("requests.*.arrows")), \
        "a killed run leaves its stream segments, never compacted"
    rows = run.requests
    assert len(rows) >= len(before) >= 60 and rows["ts"].max() > killed_at - 5, "rows up to the last seconds are on disk"
    assert rows.iloc[: len(before)].to_dict("records") == before.to_dict("records"), \
        "every row flushed before the kill reads back unchanged"
    assert len(rows) <= sum(server_per_group(standin.fault_admin().counts(), "received").values())
    report = run_fwload("report", str(run.path), fixtures=fixtures_dir)
    assert report.returncode == 5, report.stderr
    assert run.verdict["partial"] is True and run.verdict["run_status"] == "running"
    assert run.verdict["status"] == "incomplete"
    assert "Partial run" in run.summary and (run.path / "report.html").is_file()
    assert run.verdict["totals"]["requests"] == len(rows)
    exported = run_fwload("export", "--csv", str(run.path), "--out", str(tmp_path / "csv"), fixtures=fixtures_dir)
    assert exported.returncode == 0, exported.stderr
    assert len(pd.read_csv(tmp_path / "csv" / "requests.csv")) == len(rows)


def _flushed(reports: Path) -> pd.DataFrame:
    """The request rows readable now in the (only) run directory under ``reports``."""
    runs = [path for path in reports.iterdir() if path.is_dir()] if reports.is_dir() else []
    return table_frame(runs[0], "requests") if runs else pd.DataFrame()
