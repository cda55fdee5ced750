"""The same faults in stack mode: nginx in front, two API workers, a Celery worker to kill.

Request faults live in the app, so they pass nginx as Funkwhale's own answers would (a 429
keeps its headers); a reset becomes nginx's 502, as when a real API worker drops a
connection. Each API worker counts in its own file; the admin endpoint adds them up. A
restart is the api component's alone: nginx answers 502 while it is down.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import psutil
import pytest
import requests

from fwload.errors import FwloadError
from fwload.funkwhale import paths
from fwload.recording.classify import error_kind
from fwload.scenario.faults import Faults
from fwload.standin.launcher import StandinProcess
from fwload.standin.stack.restart import ask_api_restart
from tests.reliability.conftest import TIMEOUT_S, Client, wait_for

pytestmark = pytest.mark.stack


def test_request_faults_pass_nginx_and_the_worker_fault_kills_celery():
    with StandinProcess(mode="stack", stack={"task_memory_mb": 0}) as standin:
        client = Client(standin.url)
        admin = standin.fault_admin()
        admin.reset_counts()
        admin.arm(
            Faults.model_validate(
                {
                    "requests": [
                        {"group": "browse", "throttle": {"storm": 1.0, "retry_after": "2s"}},
                        {"group": "search", "reset": 1.0},
                    ]
                }
            )
        )
        throttled = [client.get(paths.TRACKS) for _ in range(4)]
        assert {answer.status_code for answer in throttled} == {429}
        assert {answer.headers["Retry-After"] for answer in throttled} == {"2"}
        dropped = client.get(paths.SEARCH, params={"q": "x"})
        assert dropped.status_code == 502 and "502 Bad Gateway" in dropped.text
        assert error_kind(502, None, dropped.headers) == "proxy"
        counts = wait_for(
            lambda: (c := admin.counts()).get("browse", {}).get("throttled") == 4 and "search" in c and c,
            "every API worker's counts",
        )
        assert counts["search"] == {"received": 1, "reset": 1, "status": {}}

        worker = standin.component_pids["celery-worker"]
        schedule = standin.arm_faults(Faults.model_validate({"worker": {"dies_after": 0}}))
        (happened,) = wait_for(lambda: schedule.happened, "the worker kill")
        assert happened.kind == "worker_killed" and not happened.error
        wait_for(lambda: _gone(worker), f"celery-worker {worker} to die")


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_a_restart_stops_the_api_alone_lets_its_requests_finish_and_keeps_the_data():
    with StandinProcess(mode="stack", stack={"task_memory_mb": 0}) as standin:
        client = Client(standin.url)
        admin = standin.fault_admin()
        admin.arm(Faults.model_validate({"requests": [{"group": "browse", "latency": "2s"}]}))
        admin.reset_counts()
        before = dict(standin.component_pids)
        slow: list[requests.Response] = []
        in_flight = threading.Thread(target=lambda: slow.append(client.get(paths.TRACKS)))
        in_flight.start()
        wait_for(lambda: admin.counts().get("browse", {}).get("received") == 1, "the slow request to arrive")
        restart = threading.Thread(target=standin.restart, args=(3.0,))
        restart.start()
        (down,) = wait_for(lambda: (a := _instance(standin.url)).status_code == 502 and (a,), "nginx's 502")
        assert error_kind(down.status_code, None, down.headers) == "proxy"
        restart.join(120)
        in_flight.join(TIMEOUT_S)
        assert not restart.is_alive() and standin.restarts == 1
        assert [answer.status_code for answer in slow] == [200], "the request in flight finished"

        after = standin.component_pids
        assert after["api"] != before["api"] and _gone(before["api"])
        assert {name: pid for name, pid in after.items() if name != "api"} == {
            name: pid for name, pid in before.items() if name != "api"
        }, "nginx, PostgreSQL, Redis and Celery kept running"
        assert json.loads(standin.pids_file.read_text()) == after
        assert client.get(paths.TRACKS).status_code == 200, "the account and its token survived"
        counts = wait_for(lambda: (c := admin.counts()).get("browse", {}).get("status") == {"200": 2} and c,
                          "both answers counted, the one given during the graceful stop too")
        assert counts["browse"]["received"] == 2


def test_a_stack_that_does_not_answer_a_restart_is_an_error_not_a_hang(tmp_path: Path):
    deaf = _fake_stack("signal.signal(signal.SIGUSR1, lambda *_: None)")
    try:
        with pytest.raises(FwloadError, match="did not restart its API within 1 s"):
            ask_api_restart(deaf.pid, tmp_path, 1.0, timeout_s=1.0, alive=lambda: deaf.poll() is None)
    finally:
        deaf.kill()
        deaf.wait()
    gone = _fake_stack("pass")  # SIGUSR1 ends it, as it ends a stack that is not serving
    with pytest.raises(FwloadError, match="stopped while its API was restarting"):
        ask_api_restart(gone.pid, tmp_path, 1.0, timeout_s=60.0, alive=lambda: gone.poll() is None)


def _fake_stack(setup: str) -> subprocess.Popen[str]:
    code = f"import signal, sys, time\n{setup}\nprint('ready', flush=True)\ntime.sleep(60)\n"
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None and process.stdout.readline() == "ready\n"
    return process


def _instance(url: str) -> requests.Response:
    return requests.get(url + "/api/v1/instance/nodeinfo/2.0/", timeout=TIMEOUT_S)
