"""Each fault against a live stand-in, one request at a time: what the client sees, how fwload classifies
it, and what the stand-in counts. The admin endpoints arm the faults, as a test or `fwload run` does."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from fwload.funkwhale import api, paths
from fwload.recording.classify import error_kind
from fwload.scenario.faults import Faults
from fwload.standin.faults.client import FaultAdmin
from fwload.standin.faults.imports import FAILED_DETAIL
from fwload.standin.launcher import StandinProcess
from tests.reliability.conftest import REPO, TIMEOUT_S, Client, wait_for

RATE_LIMIT_HEADERS = (
    "X-RateLimit-Limit",
    "X-RateLimit-Scope",
    "X-RateLimit-Remaining",
    "X-RateLimit-Duration",
    "Retry-After",
    "X-RateLimit-Reset",
    "X-RateLimit-ResetSeconds",
)


@pytest.fixture(scope="module")
def standin() -> Iterator[StandinProcess]:
    with StandinProcess(import_rate=50.0) as process:
        yield process


@pytest.fixture
def admin(standin: StandinProcess) -> Iterator[FaultAdmin]:
    faults = standin.fault_admin()
    faults.clear()
    faults.reset_counts()
    yield faults
    faults.clear()


@pytest.fixture(scope="module")
def client(standin: StandinProcess) -> Client:
    return Client(standin.url)


def arm(admin: FaultAdmin, **plan) -> None:
    admin.arm(Faults.model_validate(plan))


def test_the_admin_endpoints_are_for_the_admin_only(
    standin: StandinProcess, client: Client, admin: FaultAdmin
):
    url = standin.url + "/_fwload/faults"
    assert requests.get(url, timeout=TIMEOUT_S).status_code == 401
    assert requests.get(url, auth=(client.username, client.password), timeout=TIMEOUT_S).status_code == 403
    assert client.http.put(url, json={}, timeout=TIMEOUT_S).status_code == 403
    assert admin.state()["described"] == []


def test_the_admin_endpoints_pass_untouched_and_uncounted(client: Client, admin: FaultAdmin):
    arm(admin, requests=[{"reset": 1.0}])
    with pytest.raises(requests.ConnectionError):
        client.get(paths.TRACKS)
    assert admin.state()["described"] == ["every request: 100% connections reset"]
    assert admin.counts() == {"browse": {"received": 1, "reset": 1, "status": {}}}


def test_a_429_storm_answers_like_funkwhale(client: Client, admin: FaultAdmin):
    arm(admin, requests=[{"group": "browse", "throttle": {"storm": 1.0, "retry_after": "3s"}}])
    answer = client.get(paths.TRACKS)
    assert answer.status_code == 429
    assert answer.json() == {"detail": "Request was throttled. Expected available in 3 seconds."}
    assert all(name in answer.headers for name in RATE_LIMIT_HEADERS), answer.headers
    assert (answer.headers["X-RateLimit-Scope"], answer.headers["X-RateLimit-Remaining"]) == (
        "authenticated-list",
        "0",
    )
    assert (answer.headers["X-RateLimit-Limit"], answer.headers["X-RateLimit-Duration"]) == ("10000", "3600")
    assert answer.headers["Retry-After"] == answer.headers["X-RateLimit-ResetSeconds"] == "3"
    assert api.throttle_of(429, answer.headers) == api.Throttle(retry_after_s=3.0, scope="authenticated-list")
    assert error_kind(429, None, answer.headers) == "throttled"
    assert client.get(paths.USERS_ME).status_code == 200, "other groups are not throttled"
    assert admin.counts()["browse"] == {"received": 1, "throttled": 1, "status": {"429": 1}}


def test_a_rate_lets_that_many_requests_through_per_user_then_throttles(
    standin: StandinProcess, client: Client, admin: FaultAdmin
):
    arm(admin, requests=[{"group": "browse", "throttle": "3/minute"}])
    answers = [client.get(paths.TRACKS) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a.headers["X-RateLimit-Remaining"] for a in answers] == ["2", "1", "0", "0"]
    assert all(
        a.headers["X-RateLimit-Limit"] == "3" and a.headers["X-RateLimit-Duration"] == "60" for a in answers
    )
    assert 0 < int(answers[-1].headers["Retry-After"]) <= 60
    assert Client(standin.url).get(paths.TRACKS).status_code == 200, "another user has a history of their own"


def test_a_throttled_login_answers_500_and_still_counts_as_throttling(
    standin: StandinProcess, admin: FaultAdmin
):
    arm(admin, requests=[{"scope": "login", "throttle": "1/hour"}])
    form = api.login_form("nobody", "wrong")
    first = requests.post(standin.url + paths.LOGIN, data=form, timeout=TIMEOUT_S)
    second = requests.post(standin.url + paths.LOGIN, data=form, timeout=TIMEOUT_S)
    assert first.status_code == 403, "the limiter let the first one through (to the CSRF check)"
    assert second.status_code == 500 and "Server Error (500)" in second.text
    assert second.headers["X-RateLimit-Remaining"] == "0" and second.headers["X-RateLimit-Scope"] == "login"
    assert error_kind(500, None, second.headers) == "throttled"


@pytest.mark.parametrize(
    ("status", "page", "kind"),
    [
        (500, "<h1>Server Error (500)</h1>", "http"),
        (502, "<h1>502 Bad Gateway</h1>", "proxy"),
        (503, "<h1>503 Service Temporarily Unavailable</h1>", "proxy"),
    ],
)
def test_injected_errors_look_like_django_and_nginx(
    client: Client, admin: FaultAdmin, status: int, page: str, kind: str
):
    arm(admin, requests=[{"group": "upload", "error": {"ratio": 1.0, "status": status}}])
    answer = client.upload(client.library(), f"error-{status}")
    assert answer.status_code == status and page in answer.text
    assert error_kind(status, None, answer.headers) == kind
    assert client.get(paths.TRACKS).status_code == 200, "the same connection goes on (the body was read)"
    assert admin.counts()["upload"] == {"received": 1, "error": 1, "status": {str(status): 1}}


def test_a_reset_drops_the_connection_with_no_answer(client: Client, admin: FaultAdmin):
    arm(admin, requests=[{"group": "search", "reset": 1.0}])
    with pytest.raises(requests.ConnectionError) as caught:
        client.get(paths.SEARCH, params={"q": "anything"})
    assert "reset" in str(caught.value).lower()
    admin.clear()
    assert client.get(paths.SEARCH, params={"q": "anything"}).status_code == 200
    assert admin.counts()["search"] == {"received": 2, "reset": 1, "status": {"200": 1}}


def test_latency_holds_the_answer_back(client: Client, admin: FaultAdmin):
    """A lower bound only: the answer cannot come before the injected delay is over."""
    arm(admin, requests=[{"group": "browse", "latency": "300ms"}])
    started = time.perf_counter()
    assert client.get(paths.TRACKS).status_code == 200
    assert time.perf_counter() - started >= 0.3
    assert admin.counts()["browse"] == {"received": 1, "delayed": 1, "status": {"200": 1}}


def test_a_fault_outside_its_window_does_nothing(client: Client, admin: FaultAdmin):
    arm(admin, requests=[{"reset": 1.0, "after": "1h"}])
    assert client.get(paths.TRACKS).status_code == 200


def test_failing_imports_end_errored_with_an_import_error(client: Client, admin: FaultAdmin):
    arm(admin, imports={"fail": 1.0})
    assert client.upload(client.library(), "fails").status_code == 201
    status, upload = wait_for(
        lambda: (s := client.import_status("fails"))[0] != "pending" and s, "a final status"
    )
    assert status == "errored"
    assert upload["import_details"] == {"error_code": "unknown_error", "detail": FAILED_DETAIL}


def test_stuck_imports_stay_pending(client: Client, admin: FaultAdmin):
    arm(admin, imports={"stuck": 1.0})
    assert client.upload(client.library(), "stuck").status_code == 201
    wait_for(lambda: admin.counts().get("imports", {}).get("stuck") == 1, "the import task to run")
    assert client.import_status("stuck")[0] == "pending"


def test_a_dead_worker_leaves_uploads_pending_until_it_is_back(client: Client, admin: FaultAdmin):
    arm(admin, worker={"dies_after": 0})
    assert client.upload(client.library(), "dead").status_code == 201
    wait_for(lambda: admin.counts().get("imports", {}).get("deferred", 0) >= 2, "the worker to try twice")
    assert client.import_status("dead")[0] == "pending"
    admin.clear()
    assert (
        wait_for(
            lambda: client.import_status("dead")[0] != "pending" and client.import_status("dead")[0],
            "the import once the worker is back",
        )
        == "finished"
    )


def test_command_line_faults_are_in_force_from_the_start(tmp_path: Path):
    process = subprocess.Popen(
        [sys.executable, "-m", "fwload.standin", "--data", str(tmp_path), "--fault", "browse.error=1:503"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = (
            next(line for line in process.stdout if line.startswith("standin ready: "))
            .split(": ", 1)[1]
            .strip()
        )
        assert requests.get(url + paths.TRACKS, timeout=TIMEOUT_S).status_code == 503
        assert requests.get(url + paths.NODEINFO, timeout=TIMEOUT_S).status_code == 200
    finally:
        process.terminate()
        process.wait(TIMEOUT_S)


def test_faults_counts_and_accounts_survive_a_restart():
    with StandinProcess() as standin:
        client = Client(standin.url)
        admin = standin.fault_admin()
        arm(admin, requests=[{"group": "search", "latency": "1ms"}])
        assert client.get(paths.TRACKS).status_code == 200
        first_pid = standin.pid
        standin.restart(down_s=0.2)
        assert standin.pid != first_pid and standin.restarts == 1
        assert client.get(paths.TRACKS).status_code == 200, "same port, same data, same token"
        assert admin.state()["described"] == ["search: latency 1ms"]
        assert admin.counts()["browse"]["status"] == {"200": 2}
