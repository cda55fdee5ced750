"""What the stack serves, and who serves it: nginx answers audio (Range, 206, 416, 413) after
the API's X-Accel-Redirect, and the Celery worker runs the imports."""

from __future__ import annotations

import http.client
import io
import os
import secrets
import signal
import time
from collections.abc import Iterator
from http.cookiejar import DefaultCookiePolicy
from urllib.parse import urlsplit

import mutagen
import psutil
import pytest
import requests

from fwload.fixtures.audio import render_track
from fwload.limits import COMPONENTS
from fwload.standin.launcher import StandinProcess
from tests.stack.leftovers import assert_nothing_left, component_sessions
from tests.standin.conftest import Account, Target, assert_corrupt_upload_refused

pytestmark = pytest.mark.stack


@pytest.fixture(scope="module")
def stack() -> Iterator[Target]:
    with StandinProcess(mode="stack", stack={"task_memory_mb": 0}) as process, requests.Session() as http:
        http.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
        assert process.stack_description is not None
        sessions = component_sessions(process.pid)
        yield Target(process, http)
    assert_nothing_left(process.stack_description["stack_id"], sessions)


@pytest.fixture(scope="module")
def played(stack: Target) -> tuple[Account, str, bytes]:
    """One account and one imported track: (account, its listen URL, the file's bytes)."""
    account = stack.register("stack")
    library = stack.request(
        "POST", "/api/v1/libraries/", headers=account.bearer, json={"name": "stack", "privacy_level": "me"}
    )
    assert library.status_code == 201, library.text
    word = f"Stack{secrets.token_hex(3)}"
    audio = render_track("mp3", title=f"{word} song", artist=f"{word} band", album=word, seconds=3.0, seed=7)
    reference = f"ref-{word}"
    upload = stack.upload(account, library.json()["uuid"], audio, name="song.mp3", reference=reference)
    assert upload.status_code == 201, upload.text
    final = stack.wait_import(account, reference).json()["results"]
    assert [item["import_status"] for item in final] == ["finished"], final
    return account, final[0]["track"]["listen_url"], audio


def test_components_run_as_their_own_process_groups(stack: Target):
    pids = stack.process.component_pids
    assert set(pids) == set(COMPONENTS)
    for name, pid in pids.items():
        if name != "postgres":
            assert os.getpgid(pid) == pid, name


def test_imports_wait_for_the_celery_worker(stack: Target, played):
    """With the worker's process group stopped, an accepted upload stays pending; it finishes once resumed."""
    account, _, _ = played
    library = stack.request("GET", "/api/v1/libraries/", headers=account.bearer).json()["results"][0]["uuid"]
    worker = stack.process.component_pids["celery-worker"]
    reference = f"paused-{secrets.token_hex(3)}"
    audio = render_track("mp3", title=f"{reference} song", artist=f"{reference} band", seconds=2.0, seed=9)
    os.killpg(worker, signal.SIGSTOP)
    try:
        assert (
            stack.upload(account, library, audio, name="paused.mp3", reference=reference).status_code == 201
        )
        for _ in range(30):
            statuses = {
                u["import_status"] for u in stack.uploads_by_reference(account, reference).json()["results"]
            }
            assert statuses == {"pending"}
            time.sleep(0.1)
    finally:
        os.killpg(worker, signal.SIGCONT)
    final = stack.wait_import(account, reference).json()["results"]
    assert [item["import_status"] for item in final] == ["finished"]


def test_a_range_is_answered_by_nginx_with_206(stack: Target, played):
    account, listen_url, audio = played
    answer = stack.request("GET", listen_url, headers={**account.bearer, "Range": "bytes=100-1123"})
    assert answer.status_code == 206
    assert answer.headers["Server"].startswith("nginx")
    assert answer.headers["Content-Range"] == f"bytes 100-1123/{len(audio)}"
    assert answer.content == audio[100:1124]
    assert "X-Accel-Redirect" not in answer.headers
    whole = stack.request("GET", listen_url, headers=account.bearer)
    assert whole.status_code == 200 and whole.content == audio
    assert whole.headers["Accept-Ranges"] == "bytes" and "Last-Modified" in whole.headers


def test_an_unsatisfiable_range_gets_nginx_416(stack: Target, played):
    account, listen_url, audio = played
    answer = stack.request(
        "GET", listen_url, headers={**account.bearer, "Range": f"bytes={len(audio) + 10}-"}
    )
    assert answer.status_code == 416
    assert answer.headers["Server"].startswith("nginx") and "nginx" in answer.text
    assert answer.headers["Content-Range"] == f"bytes */{len(audio)}"


def test_the_api_itself_answers_with_x_accel_redirect_and_no_body(stack: Target, played):
    account, listen_url, _ = played
    api = stack.process.api_url
    assert api != stack.url
    answer = requests.get(api + listen_url, headers={**account.bearer, "Range": "bytes=0-99"}, timeout=10)
    assert answer.status_code == 200 and answer.content == b""
    assert answer.headers["X-Accel-Redirect"].startswith("/_protected/media/tracks/")
    assert answer.headers["Content-Type"] == "audio/mpeg"


def _reaped_cpu_s(pid: int) -> float:
    """CPU seconds of the processes the tree under `pid` started and reaped (ffmpeg runs)."""
    tree = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    return sum(p.cpu_times().children_user + p.cpu_times().children_system for p in tree)


def test_a_transcoded_listen_costs_the_api_and_is_served_by_nginx(stack: Target, played):
    account, listen_url, audio = played
    api, nginx = stack.process.component_pids["api"], stack.process.component_pids["nginx"]
    before_api, before_nginx = _reaped_cpu_s(api), _reaped_cpu_s(nginx)
    answer = stack.request("GET", listen_url, headers={**account.bearer, "Range": "bytes=0-"}, params={"to": "ogg"})
    assert answer.status_code == 206 and answer.headers["Server"].startswith("nginx")
    assert type(mutagen.File(io.BytesIO(answer.content))).__name__ == "OggVorbis"
    assert _reaped_cpu_s(api) > before_api, "ffmpeg ran as a child of an API worker"
    assert _reaped_cpu_s(nginx) == before_nginx
    redirect = requests.get(stack.process.api_url + listen_url, headers=account.bearer, params={"to": "ogg"},
                            timeout=10)
    assert redirect.headers["X-Accel-Redirect"].startswith("/_protected/media/transcoded/")
    assert redirect.headers["Content-Type"] == "audio/ogg" and redirect.content == b""


def test_subsonic_apps_reach_the_api_through_nginx_s_rest(stack: Target, played):
    account, _, audio = played
    password = stack.request("POST", f"/api/v1/users/{account.username}/subsonic-token/",
                             headers=account.bearer).json()["subsonic_api_token"]
    auth = {"u": account.username, "p": password, "f": "json"}
    ping = stack.request("GET", "/rest/ping.view", params=auth)
    assert ping.json()["subsonic-response"]["status"] == "ok"
    assert requests.get(stack.process.api_url + "/rest/ping.view", params=auth, timeout=10).status_code == 404
    assert requests.get(stack.process.api_url + "/api/subsonic/rest/ping.view", params=auth,
                        timeout=10).json() == ping.json()
    song = stack.request("GET", "/rest/getRandomSongs.view", params={**auth, "size": 1}).json()[
        "subsonic-response"]["randomSongs"]["song"][0]
    ranged = stack.request("GET", "/rest/stream.view", params={**auth, "id": song["id"]},
                           headers={"Range": "bytes=0-511"})
    assert ranged.status_code == 206 and ranged.headers["Server"].startswith("nginx")
    assert ranged.content == audio[:512]


def test_the_internal_location_is_not_reachable_from_outside(stack: Target, played):
    account, listen_url, _ = played
    redirect = requests.get(stack.process.api_url + listen_url, headers=account.bearer, timeout=10)
    protected = stack.request("GET", redirect.headers["X-Accel-Redirect"], headers=account.bearer)
    assert protected.status_code == 404


def test_a_corrupt_mp3_upload_answers_500_through_nginx_and_stores_nothing(stack: Target, played):
    account, _, _ = played
    library = stack.request("GET", "/api/v1/libraries/", headers=account.bearer).json()["results"][0]["uuid"]
    assert_corrupt_upload_refused(stack, account, library)


def test_a_body_above_100m_is_refused_by_nginx(stack: Target, played):
    account, _, _ = played
    front = urlsplit(stack.url)
    connection = http.client.HTTPConnection(front.hostname, front.port, timeout=10)
    try:
        connection.putrequest("POST", "/api/v1/uploads/")
        connection.putheader("Authorization", account.bearer["Authorization"])
        connection.putheader("Content-Type", "multipart/form-data; boundary=x")
        connection.putheader("Content-Length", str(101 * 1024 * 1024))
        connection.endheaders()
        answer = connection.getresponse()
        assert answer.status == 413
        assert answer.getheader("Server", "").startswith("nginx")
    finally:
        connection.close()
