"""Readiness and pre-flight checks against small servers on loopback."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from fwload import preflight
from fwload.errors import NotReadyError, TargetError, UsageError
from fwload.funkwhale.accounts import Account
from pydantic import SecretStr

NODEINFO = {"version": "2.0", "software": {"name": "funkwhale", "version": "1.4.0"}, "openRegistrations": False,
            "metadata": {"supportedUploadExtensions": ["mp3"]}}


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()


class Quiet(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def server(answers: list[tuple[int, dict]]) -> Iterator[str]:
    """Answers nodeinfo with the given (status, body) in turn, then the last one forever."""
    calls = {"n": 0}

    class Handler(Quiet):
        def do_GET(self) -> None:  # noqa: N802
            status, body = answers[min(calls["n"], len(answers) - 1)]
            calls["n"] += 1
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    with serving(Handler) as url:
        yield url


def test_ready_after_a_few_502s():
    with server([(502, {}), (502, {}), (200, NODEINFO)]) as url:
        readiness = preflight.wait_until_ready(url, 10, sleep=lambda s: None)
    assert readiness.ready and readiness.attempts == 3 and readiness.nodeinfo["version"] == "1.4.0"


def test_never_ready_says_what_it_saw():
    with server([(503, {})]) as url:
        readiness = preflight.wait_until_ready(url, 0.3)
    assert not readiness.ready and readiness.detail == "nodeinfo answered HTTP 503"
    with pytest.raises(NotReadyError, match="never became ready within 0.3 s: nodeinfo answered HTTP 503"):
        preflight.require_ready(readiness, url, 0.3)


def test_a_200_that_is_not_funkwhale_is_not_ready():
    with server([(200, {"hello": "world"})]) as url:
        readiness = preflight.wait_until_ready(url, 0.3)
    assert not readiness.ready and "Funkwhale" in readiness.detail


def test_refused_connection_is_named():
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    readiness = preflight.wait_until_ready(f"http://127.0.0.1:{port}", 0.3)
    assert not readiness.ready and readiness.detail.startswith("cannot connect")


def test_closed_registration_without_accounts_is_refused():
    with pytest.raises(TargetError, match="registration is closed"):
        preflight.check_credentials("http://127.0.0.1:1", {"open_registrations": False}, None)


def test_wrong_credentials_are_refused_without_the_password():
    with server([(401, {"detail": "Invalid username/password."})]) as url:
        with pytest.raises(TargetError) as caught:
            preflight.check_credentials(url, {}, [Account("alice", SecretStr("s3cr3t-pass"))])
    assert "wrong credentials" in str(caught.value) and "s3cr3t-pass" not in str(caught.value)


def test_throttling_advice_when_enabled():
    body = {"enabled": True, "ident": {"type": "anonymous", "id": "127.0.0.1"},
            "scopes": [{"id": "login", "rate": "30/hour"}, {"id": "signup", "rate": "10/day"}]}
    with server([(200, body)]) as url:
        notices = preflight.throttling_notices(url)
    assert len(notices) == 1 and "THROTTLING_ENABLED=false" in notices[0] and "login 30/hour" in notices[0]


@pytest.mark.parametrize("host", [None, "", "ftp://x", "not a url"])
def test_bad_hosts_are_usage_errors(host):
    with pytest.raises(UsageError):
        preflight.check_host(host)


def test_safe_url_drops_credentials_and_query():
    assert preflight.safe_url("https://u:p@fw.example:8443/path?token=x") == "https://fw.example:8443/path"


def test_a_host_name_that_does_not_resolve_is_bad_input_at_once():
    with pytest.raises(TargetError, match="does not resolve"):
        preflight.wait_until_ready("http://no-such-host.invalid", 30)


@contextmanager
def redirecting_to(target: str) -> Iterator[str]:
    """nginx's HTTP→HTTPS server in miniature: every path moved permanently to ``target``."""

    class Handler(Quiet):
        def do_GET(self) -> None:  # noqa: N802
            self.send_response(301)
            self.send_header("Location", target + self.path)
            self.send_header("Content-Length", "0")
            self.end_headers()

    with serving(Handler) as url:
        yield url


def test_a_redirected_host_is_refused_with_the_url_to_use():
    with server([(200, NODEINFO)]) as final, redirecting_to(final) as moved:
        with pytest.raises(UsageError) as raised:
            preflight.wait_until_ready(moved, 5, sleep=lambda s: None)
    assert f"redirects to {final} (HTTP 301)" in raised.value.problem
    assert raised.value.fix == f"use --host {final}"


def test_a_400_from_nodeinfo_points_at_the_allowed_host_names():
    with server([(400, {})]) as url:
        readiness = preflight.wait_until_ready(url, 0.3)
    assert not readiness.ready and "DJANGO_ALLOWED_HOSTS" in readiness.detail


@contextmanager
def throttling(anonymous: dict[str, int], per_account: dict[str, int]) -> Iterator[tuple[str, list[bool]]]:
    """``GET /api/v1/rate-limit/`` with throttling on: the address's budget anonymously, the
    account's own with HTTP Basic (as 1.4 answers it, sample 64's shape). Records who asked."""
    asked: list[bool] = []

    class Handler(Quiet):
        def do_GET(self) -> None:  # noqa: N802
            signed_in = "Authorization" in self.headers
            asked.append(signed_in)
            budget, ident = (per_account, {"type": "authenticated", "id": "6"}) if signed_in else \
                (anonymous, {"type": "anonymous", "id": "127.0.0.1"})
            scopes = [{"id": name, "rate": rate, "remaining": budget.get(name, int(rate.split("/")[0]))}
                      for name, rate in (("signup", "10/day"), ("login", "30/hour"),
                                         ("authenticated-oauth-app", "10/hour"))]
            data = json.dumps({"enabled": True, "ident": ident, "scopes": scopes}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    with serving(Handler) as url:
        yield url, asked


ACCOUNTS = [Account("fwl_a", SecretStr("pw-a")), Account("fwl_b", SecretStr("pw-b"))]
WITH_TOKENS = [Account(a.username, a.password, SecretStr("five-word-token-here-x")) for a in ACCOUNTS]


@pytest.mark.parametrize(("plan", "budget", "says"), [
    (preflight.AuthPlan("token", None, peak_users=5), {"signup": 3}, ("allows 3 more registration(s)",
                                                                    "fwload users provision")),
    (preflight.AuthPlan("session", ACCOUNTS, peak_users=4), {"login": 2}, ("allows 2 more login(s)",
                                                                         "auth: token")),
])
def test_a_run_the_address_throttles_would_starve_is_refused(plan, budget, says):
    with throttling(budget, {}) as (url, _), pytest.raises(TargetError) as raised:
        preflight.throttling_notices(url, plan)
    text = f"{raised.value.problem} {raised.value.fix}"
    assert all(part in text for part in says) and "THROTTLING_ENABLED=false" in text


def test_token_mode_checks_the_account_s_own_app_budget_only_when_tokens_are_missing():
    short = {"authenticated-oauth-app": 1}
    with throttling({}, short) as (url, asked), pytest.raises(TargetError) as raised:
        preflight.throttling_notices(url, preflight.AuthPlan("token", ACCOUNTS, peak_users=4, processes=2))
    assert "account 'fwl_a' can create 1 more app token(s)" in raised.value.problem
    assert "fwload users tokens" in raised.value.fix and asked == [False, True]
    with throttling({}, short) as (url, asked):
        notices = preflight.throttling_notices(url, preflight.AuthPlan("token", WITH_TOKENS, 4, processes=2))
    assert len(notices) == 1 and "throttling is ON" in notices[0] and asked == [False]


def test_enough_budget_only_advises():
    with throttling({}, {}) as (url, _):
        notices = preflight.throttling_notices(url, preflight.AuthPlan("session", ACCOUNTS, peak_users=30))
    assert len(notices) == 1 and "login 30/hour" in notices[0]


# -- the pre-flight listen (issue 15): real stand-ins over loopback ------------------------

@pytest.fixture(scope="module")
def bypassed():
    """A stand-in answering listens like the api behind nginx's back, and a user with one finished track."""
    import requests

    from fwload.standin.launcher import StandinProcess
    from tests.standin.conftest import Target, seed_playable_track

    with StandinProcess(import_rate=50.0, audio_serving="x-accel-redirect") as process, \
            requests.Session() as http:
        target = Target(process, http)
        account = target.register("probe")
        empty = Account(account.username, SecretStr(account.password))
        assert preflight.check_audio_serving(target.url, [empty]) == [
            f"no playable track yet on {target.url}: that nginx serves the audio (and not the api's bare "
            "X-Accel-Redirect) is checked at each listen of the run instead"]
        seed_playable_track(target, account, "Probe")
        yield target, account


def test_a_listen_answered_with_x_accel_redirect_and_no_body_stops_the_run_before_the_load(bypassed):
    target, account = bypassed
    for accounts in ([Account(account.username, SecretStr(account.password))],
                     [Account(account.username, SecretStr(account.password), SecretStr(account.token))],
                     None):
        with pytest.raises(TargetError) as raised:
            preflight.check_audio_serving(target.url, accounts)
        assert "with no audio, only X-Accel-Redirect: nginx is bypassed" in raised.value.problem
        assert raised.value.status == 2 and "--host at the nginx Service" in raised.value.fix


def test_a_stand_in_that_serves_audio_passes_the_pre_flight_listen():
    import requests

    from fwload.standin.launcher import StandinProcess
    from tests.standin.conftest import Target, seed_playable_track

    with StandinProcess(import_rate=50.0) as process, requests.Session() as http:
        target = Target(process, http)
        seed_playable_track(target, target.register("plays"), "Plays")
        assert preflight.check_audio_serving(process.url, None) == []


def test_no_signup_warning_once_the_server_said_throttling_is_off():
    off = {"enabled": False, "ident": {"type": "anonymous", "id": "127.0.0.1"}, "scopes": []}
    registering = preflight.AuthPlan("token", None, peak_users=3)
    with server([(200, off)]) as url:
        assert preflight.throttling_notices(url, registering) == []
    assert preflight.check_credentials("http://127.0.0.1:1", {"open_registrations": True}, None) == []
    with server([(404, {})]) as url:
        unknown = preflight.throttling_notices(url, registering)
    assert unknown[-1] == preflight.SIGNUP_UNKNOWN and "10 a day" in unknown[-1]


@contextmanager
def hanging() -> Iterator[str]:
    """Accepts connections and never answers: the API's OOM respawn loop under a live master."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        listener.close()
        for connection in held:
            connection.close()


def test_a_hanging_api_still_names_the_dead_worker_and_beat():
    import subprocess
    import sys

    from fwload.collectors import make_collector

    def process() -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])

    api, worker, beat = process(), process(), process()
    for dead in (worker, beat):
        dead.kill()
        dead.wait()
    collector = make_collector("processes", pids={"api": api.pid, "celery-worker": worker.pid,
                                                  "celery-beat": beat.pid}, limits={})
    try:
        with hanging() as url:
            readiness = preflight.check_readiness(url, 1.0, collector, sleep=lambda s: None)
    finally:
        api.kill()
        api.wait()
    assert not readiness.ready
    assert "did not answer" in readiness.detail
    assert f"celery-worker dead: root process {worker.pid} is gone" in readiness.detail
    assert f"celery-beat dead: root process {beat.pid} is gone" in readiness.detail
    failures = preflight.startup_failures(readiness)
    assert [f["component"] for f in failures] == ["api", "celery-beat", "celery-worker"]
    assert "did not answer" in failures[0]["detail"]
    with pytest.raises(NotReadyError) as raised:
        preflight.require_ready(readiness, url, 1.0, collector)
    assert "k8s" not in raised.value.fix and "Celery worker and beat" in raised.value.fix


def test_the_not_ready_advice_names_fwload_k8s_check_only_for_a_kubernetes_target(tmp_path):
    from fwload.collectors.kubernetes.collector import KubernetesCollector
    from tests.fakes.kube_api import FakeKubeAPI

    never = preflight.Readiness(False, 1.0, 2, "nodeinfo answered HTTP 503")
    with FakeKubeAPI() as fake:
        in_cluster = KubernetesCollector(kubeconfig=str(fake.write_kubeconfig(tmp_path / "kubeconfig")))
        for collector, says in ((in_cluster, True), (None, False)):
            with pytest.raises(NotReadyError) as raised:
                preflight.require_ready(never, "http://127.0.0.1:1", 1.0, collector)
            assert ("fwload k8s check" in raised.value.fix) is says


@pytest.mark.parametrize(("host", "standin", "says"), [
    ("http://127.0.0.1:8000", False, "http://127.0.0.1:8000 is this machine"),
    ("http://[::1]:8000", False, "http://[::1]:8000 is this machine"),
    ("http://localhost:8000", False, "http://localhost:8000 is this machine"),
    ("http://127.0.0.1:8000", True, "the local stand-in runs on this machine"),
    ("http://192.0.2.7", False, None),
])
def test_a_load_generator_sharing_the_target_s_cpu_is_said(host, standin, says):
    notice = preflight.shared_cpu_notice(host, local_standin=standin)
    if says is None:
        assert notice is None
    else:
        assert says in notice and "shares the target's CPU" in notice and "another machine" in notice
