"""Starting and stopping the stack: every component up and labelled, and nothing left behind
after Ctrl-C, SIGTERM, a component dying at start, or an unreachable database."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from fwload.common.cgroups import Cgroup
from fwload.limits import COMPONENTS
from fwload.standin.launcher import StandinProcess
from tests.stack.cli import REPO, StackCli
from tests.stack.leftovers import (
    assert_nothing_left,
    component_sessions,
    database_exists,
    labelled_processes,
    processes_in_sessions,
    stack_cgroups,
)

pytestmark = pytest.mark.stack


def flat(text: str) -> str:
    return " ".join(text.split())


def test_ctrl_c_stops_every_component_and_removes_cgroups_and_the_cluster():
    cli = StackCli("--limits", "accounting", "--own-postgres")
    try:
        described = cli.ready()
        stack_id = described["stack_id"]
        components = described["components"]
        assert set(components) == set(COMPONENTS)
        labelled = labelled_processes(stack_id)
        sessions = component_sessions(cli.process.pid)
        assert sessions == {c["pid"] for c in components.values()}
        for name, component in components.items():
            pid = component["pid"]
            assert component["owned"] and component["ready"], (name, component)
            assert os.getpgid(pid) == pid, f"{name} is not the leader of its own process group"
            assert Cgroup.of_pid(pid) == Cgroup.at(component["cgroup"]), f"{name} is not in its cgroup"
        for name in ("api", "celery-worker", "celery-beat", "postgres"):
            assert labelled[components[name]["pid"]] == name
        api_workers = psutil.Process(components["api"]["pid"]).children()
        assert len(api_workers) == 2 and {labelled[p.pid] for p in api_workers} == {"api"}
        assert len(processes_in_sessions(sessions)) > len(sessions)
        assert stack_cgroups(stack_id)
        code = cli.interrupt()
    finally:
        cli.kill()
    assert code == 130, cli.stderr
    assert "interrupted" in cli.stderr
    assert_nothing_left(stack_id, sessions)


def test_ctrl_c_during_start_up_leaves_nothing():
    cli = StackCli("--limits", "accounting")
    try:
        cli.wait_for(lambda: cli.stack_id is not None and labelled_processes(cli.stack_id))
        stack_id = cli.stack_id
        sessions = component_sessions(cli.process.pid)
        code = cli.interrupt()
    finally:
        cli.kill()
    assert code == 130, cli.stderr
    assert sessions
    assert_nothing_left(stack_id, sessions)


def test_stopping_through_the_launcher_drops_the_throwaway_database():
    with StandinProcess(mode="stack") as standin:
        assert standin.stack_description is not None
        stack_id = standin.stack_description["stack_id"]
        assert database_exists(f"fwload_stack_{stack_id}")
        assert set(standin.component_pids) == set(COMPONENTS)
        assert standin.cgroups == {}
        assert not standin.findings
        postgres = standin.component_pids["postgres"]
        sessions = component_sessions(standin.pid)
        assert sessions == {pid for name, pid in standin.component_pids.items() if name != "postgres"}
    assert standin.stop() == 0
    assert psutil.pid_exists(postgres), "the server the stack was pointed at must keep running"
    assert_nothing_left(stack_id, sessions)


def test_a_component_that_dies_at_start_is_named_with_its_last_lines():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        cli = StackCli("--port", str(busy.getsockname()[1]))
        try:
            code = cli.process.wait(120)
            cli.wait_for(lambda: cli.stack_id is not None, 10)
        finally:
            cli.kill()
    assert code == 4, cli.stderr
    message = flat(cli.stderr)
    assert "stack component nginx died during start-up (exit code 1)" in message
    assert "Address already in use" in message
    assert_nothing_left(cli.stack_id, set())


def test_an_unreachable_database_is_one_clear_error_and_nothing_is_left():
    cli = StackCli("--database-url", "postgresql://postgres@127.0.0.1:1/")
    try:
        code = cli.process.wait(120)
        cli.wait_for(lambda: cli.stack_id is not None, 10)
    finally:
        cli.kill()
    assert code == 2, cli.stderr
    message = flat(cli.stderr)
    assert "cannot reach PostgreSQL at postgresql+psycopg://postgres@127.0.0.1:1/" in message
    assert "fix: start it, point --database-url at a running server, or use --own-postgres" in message
    assert cli.out == []
    assert_nothing_left(cli.stack_id, set())


LAUNCHER = """
import json, sys, time
from fwload.standin.launcher import StandinProcess
standin = StandinProcess(mode="stack", stack={"limits": "accounting"}).start()
print(json.dumps({"pid": standin.pid, "data": str(standin.pids_file.parent),
                  "stack_id": standin.stack_description["stack_id"]}), flush=True)
time.sleep(600)
"""


def test_a_stack_whose_launcher_is_killed_stops_and_removes_its_cgroups_database_and_folders():
    """fwload SIGKILLed: nobody stops the stand-in, so the stand-in must notice and clean up itself."""
    launcher = subprocess.Popen([sys.executable, "-c", LAUNCHER], cwd=REPO, stdout=subprocess.PIPE, text=True,
                                stdin=subprocess.DEVNULL)
    try:
        started = json.loads(launcher.stdout.readline())
        stack_id, data = started["stack_id"], Path(started["data"])
        sessions = component_sessions(started["pid"])
        assert data.is_dir() and database_exists(f"fwload_stack_{stack_id}") and stack_cgroups(stack_id)
        assert len(sessions) >= 5
        launcher.send_signal(signal.SIGKILL)
        launcher.wait(10)
    finally:
        if launcher.poll() is None:
            launcher.kill()
    assert_nothing_left(stack_id, sessions, timeout_s=90)
    standin = psutil.Process(started["pid"])
    _, alive = psutil.wait_procs([standin], timeout=60)
    assert not alive or standin.status() == psutil.STATUS_ZOMBIE, "the stand-in itself exits"
    assert not data.exists(), "the launcher's temporary data folder"
