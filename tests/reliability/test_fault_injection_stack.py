"""The same faults in stack mode: nginx in front, two API workers, a Celery worker to kill.

Request faults live in the app, so they pass nginx as Funkwhale's own answers would (a 429
keeps its headers); a reset becomes nginx's 502, as when a real API worker drops a
connection. Each API worker counts in its own file; the admin endpoint adds them up.
"""

from __future__ import annotations

import psutil
import pytest

from fwload.funkwhale import paths
from fwload.recording.classify import error_kind
from fwload.scenario.faults import Faults
from fwload.standin.launcher import StandinProcess
from tests.reliability.conftest import Client, wait_for

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
            lambda: (c := admin.counts()).get("browse", {}).get("throttled") == 4 and c,
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
