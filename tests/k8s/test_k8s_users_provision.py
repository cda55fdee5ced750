"""``fwload users provision``: accounts by open registration (against the real stand-in, and a
tiny throttling server with Funkwhale's answers) and by ``funkwhale-manage`` in the api pod
(the fake API server's exec, running the real shell loop with a stand-in funkwhale-manage).
Passwords end up in the users file (0600) and nowhere else."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
import requests
import yaml
from typer.testing import CliRunner

import fwload.cli.users  # noqa: F401  (registers `fwload users`)
from fwload.cli.app import app
from fwload.funkwhale import paths
from fwload.funkwhale.accounts import load_users_file
from fwload.kube.accounts import CREATE_SCRIPT
from fwload.standin.launcher import StandinProcess
from tests.fakes.kube_api import ExecCall, ExecResult, FakeCluster, FakeKubeAPI, seed_funkwhale

EXEC_TIMEOUT_S = 20


def provision(*args: str):
    result = CliRunner().invoke(app, ["users", "provision", *args], env={"COLUMNS": "200"})
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def users_in(path: Path) -> list[tuple[str, str]]:
    return [(u["username"], u["password"]) for u in yaml.safe_load(path.read_text())["users"]]


def assert_private_and_unechoed(path: Path, result: Any) -> None:
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    for _, password in users_in(path):
        assert password not in result.stdout and password not in result.stderr
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")], "no temporary file left"


# -- registration against the real stand-in ------------------------------------------------

def test_registration_creates_accounts_that_can_log_in(tmp_path: Path) -> None:
    out = tmp_path / "users.yaml"
    with StandinProcess(data_dir=tmp_path / "standin") as standin:
        result = provision("--count", "3", "--out", str(out), "--host", standin.url, "--prefix", "lt")
        assert result.exit_code == 0, result.output
        assert result.stdout.strip() == str(out)
        accounts = users_in(out)
        assert len(accounts) == 3 and len({u for u, _ in accounts}) == 3
        assert all(u.startswith("lt") for u, _ in accounts)
        for username, password in accounts:
            me = requests.get(standin.url + paths.USERS_ME, auth=(username, password), timeout=30)
            assert me.status_code == 200 and me.json()["username"] == username
        loaded = load_users_file(out)
        assert [a.username for a in loaded] == [u for u, _ in accounts]
        for account in loaded:
            assert account.token is not None, "each account keeps an app token"
            bearer = {"Authorization": f"Bearer {account.token.get_secret_value()}"}
            me = requests.get(standin.url + paths.USERS_ME, headers=bearer, timeout=30)
            assert me.status_code == 200 and me.json()["username"] == account.username
            assert account.token.get_secret_value() not in result.stdout + result.stderr
    assert_private_and_unechoed(out, result)


@pytest.mark.parametrize("name", ["users.yaml", "users.csv"])
def test_tokens_complete_a_users_file_once(tmp_path: Path, name: str) -> None:
    out = tmp_path / name
    with StandinProcess(data_dir=tmp_path / "standin") as standin:
        made = [(f"tk{i}", f"pw-{i}-long-enough-9") for i in range(2)]
        for username, password in made:
            body = {"username": username, "email": f"{username}@fwload.invalid",
                    "password1": password, "password2": password}
            assert requests.post(standin.url + paths.REGISTRATION, json=body, timeout=30).status_code == 201
        fwload.cli.users.write_users_file(out, made)
        first = CliRunner().invoke(app, ["users", "tokens", "--users-file", str(out), "--host", standin.url])
        assert first.exit_code == 0, first.output
        tokens = [a.token.get_secret_value() for a in load_users_file(out) if a.token is not None]
        assert len(tokens) == 2 and "2 app token(s) added" in first.stderr
        again = CliRunner().invoke(app, ["users", "tokens", "--users-file", str(out), "--host", standin.url])
        assert again.exit_code == 0 and "0 app token(s) added" in again.stderr
        assert [a.token.get_secret_value() for a in load_users_file(out) if a.token] == tokens
    assert [(a.username, a.password.get_secret_value()) for a in load_users_file(out)] == made
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert not any(token in first.stdout + first.stderr for token in tokens)


def test_closed_registration_stops_before_any_account(tmp_path: Path) -> None:
    out = tmp_path / "users.yaml"
    with StandinProcess(data_dir=tmp_path / "standin", closed_registration=True) as standin:
        result = provision("--count", "2", "--out", str(out), "--host", standin.url)
    assert result.exit_code == 2
    assert "registration is closed" in result.stderr and "--mode manage" in result.stderr
    assert not out.exists()


# -- registration against a throttling server ----------------------------------------------

class Signup(BaseHTTPRequestHandler):
    """Funkwhale 1.4's answers (shared/funkwhale-samples 01, 03, 06, 07, 09) with a signup budget."""

    open = True
    close_after: int | None = None  # an admin closes registration after this many signups
    advertised_remaining = 10
    allowed = 10
    registered: ClassVar[list[dict[str, str]]] = []

    def log_message(self, *args: Any) -> None:
        pass

    def _json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        if self.path == paths.NODEINFO:
            self._json(200, {"version": "2.0", "software": {"name": "funkwhale", "version": "1.4.0"},
                             "openRegistrations": Signup.open, "metadata": {}})
        elif self.path == paths.RATE_LIMIT:
            self._json(
                200,
                {
                    "enabled": True,
                    "ident": {"type": "anonymous", "id": "127.0.0.1"},
                    "scopes": [
                        {
                            "id": "signup",
                            "rate": "10/day",
                            "description": "Account creation",
                            "limit": 10,
                            "duration": 86400,
                            "remaining": Signup.advertised_remaining,
                        }
                    ],
                },
            )
        else:
            self._json(404, {"detail": "Not found."})

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.path != paths.REGISTRATION:
            self._json(404, {"detail": "Not found."})
        elif not Signup.open or (
            Signup.close_after is not None and len(Signup.registered) >= Signup.close_after
        ):
            self._json(403, {"detail": "Registration has been disabled"})
        elif len(Signup.registered) >= Signup.allowed:
            self._json(429, {"detail": "Request was throttled. Expected available in 86400 seconds."},
                       {"Retry-After": "86400", "X-RateLimit-Scope": "signup", "X-RateLimit-Remaining": "0"})
        elif any(r["username"] == body["username"] for r in Signup.registered):
            self._json(400, {"username": ["A user with that username already exists."]})
        else:
            Signup.registered.append(body)
            self._json(201, {"key": "0" * 40})


@pytest.fixture
def signup() -> Iterator[str]:
    Signup.open, Signup.close_after, Signup.advertised_remaining, Signup.allowed = True, None, 10, 10
    Signup.registered = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Signup)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_registration_sends_funkwhale_fields_and_the_file_matches(signup: str, tmp_path: Path) -> None:
    out = tmp_path / "users.yaml"
    result = provision("--count", "4", "--out", str(out), "--host", signup + "/")
    assert result.exit_code == 0, result.output
    assert [(r["username"], r["password1"]) for r in Signup.registered] == users_in(out)
    for body in Signup.registered:
        assert body["password1"] == body["password2"]
        assert body["email"] == f"{body['username']}@fwload.invalid"
    assert_private_and_unechoed(out, result)


def test_a_signup_budget_too_small_stops_before_any_account(signup: str, tmp_path: Path) -> None:
    Signup.advertised_remaining = 2
    out = tmp_path / "users.yaml"
    result = provision("--count", "3", "--out", str(out), "--host", signup)
    assert result.exit_code == 2
    assert "allows 2 more registration(s)" in result.stderr and "THROTTLING_ENABLED=false" in result.stderr
    assert Signup.registered == [] and not out.exists()


def test_throttled_part_way_keeps_the_accounts_already_made(signup: str, tmp_path: Path) -> None:
    Signup.allowed = 2
    out = tmp_path / "users.yaml"
    result = provision("--count", "5", "--out", str(out), "--host", signup)
    assert result.exit_code == 2
    assert "throttled after 2 of 5" in result.stderr and "retry in 86400 s" in result.stderr
    assert f"are in {out}" in result.stderr.replace("\n", "")
    assert users_in(out) == [(r["username"], r["password1"]) for r in Signup.registered]
    assert_private_and_unechoed(out, result)


def test_registration_closed_part_way_is_reported_with_its_fix(signup: str, tmp_path: Path) -> None:
    Signup.close_after = 1
    out = tmp_path / "users.yaml"
    result = provision("--count", "3", "--out", str(out), "--host", signup)
    assert result.exit_code == 2
    assert (
        "Registration has been disabled" in result.stderr and "users__registration_enabled" in result.stderr
    )
    assert users_in(out) == [(r["username"], r["password1"]) for r in Signup.registered]
    assert len(Signup.registered) == 1


def test_existing_file_is_kept_unless_forced(signup: str, tmp_path: Path) -> None:
    out = tmp_path / "users.yaml"
    out.write_text("users: [{username: old, password: kept}]\n")
    refused = provision("--count", "1", "--out", str(out), "--host", signup)
    assert refused.exit_code == 2 and "already exists" in refused.stderr
    assert Signup.registered == [] and "kept" in out.read_text()
    forced = provision("--count", "1", "--out", str(out), "--host", signup, "--force")
    assert forced.exit_code == 0 and len(users_in(out)) == 1


@pytest.mark.parametrize(("args", "message"), [
    (["--count", "1"], "needs --host"),
    (["--count", "1", "--host", "ftp://x"], "not a base URL"),
    (["--count", "1", "--host", "http://u:p@127.0.0.1:9"], "not a base URL"),
    (["--count", "1", "--host", "http://127.0.0.1:9", "--prefix", "a-b"], "--prefix"),
])
def test_bad_options_are_usage_errors(tmp_path: Path, args: list[str], message: str) -> None:
    result = provision(*args, "--out", str(tmp_path / "users.yaml"))
    assert result.exit_code == 2 and message in result.stderr
    assert not (tmp_path / "users.yaml").exists()


def test_unreachable_host_is_a_target_error(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = provision(
        "--count", "1", "--out", str(tmp_path / "u.yaml"), "--host", f"http://127.0.0.1:{port}"
    )
    assert result.exit_code == 2 and "cannot reach" in result.stderr


# -- funkwhale-manage in the api pod, through the fake API server's exec --------------------

FAKE_MANAGE = """#!/bin/sh
# Stands in for Funkwhale's CLI: records its argv and the password it got from the environment;
# the call after FAKE_MANAGE_OOM_AFTER calls dies as an OOM kill would (exit 137).
echo "$*|$FUNKWHALE_CLI_USER_PASSWORD" >> "$FAKE_MANAGE_LOG"
if [ "$(wc -l < "$FAKE_MANAGE_LOG")" -gt "${FAKE_MANAGE_OOM_AFTER:-1000}" ]; then exit 137; fi
echo "User $5 created"
"""


class PodShell:
    """An exec handler that runs the requested command with a real sh and a stand-in CLI."""

    def __init__(self, folder: Path):
        bin_dir = folder / "bin"
        bin_dir.mkdir()
        manage = bin_dir / "funkwhale-manage"
        manage.write_text(FAKE_MANAGE)
        manage.chmod(0o755)
        self.log = folder / "manage.log"
        self.oom_after: int | None = None
        self.path = f"{bin_dir}{os.pathsep}{os.environ['PATH']}"

    def __call__(self, call: ExecCall) -> ExecResult:
        env = {"PATH": self.path, "FAKE_MANAGE_LOG": str(self.log)}
        if self.oom_after is not None:
            env["FAKE_MANAGE_OOM_AFTER"] = str(self.oom_after)
        done = subprocess.run(call.command, input=call.stdin, capture_output=True, timeout=EXEC_TIMEOUT_S,
                              env=env, check=False)
        return ExecResult(stdout=done.stdout, stderr=done.stderr, exit_code=done.returncode)

    def logged(self) -> list[str]:
        return self.log.read_text().splitlines() if self.log.exists() else []


@pytest.fixture
def pod_shell(tmp_path: Path) -> PodShell:
    return PodShell(tmp_path)


@pytest.fixture
def cluster(pod_shell) -> FakeCluster:
    cluster = FakeCluster(exec_handler=pod_shell)
    seed_funkwhale(cluster)
    return cluster


@pytest.fixture
def kubeconfig(cluster: FakeCluster, tmp_path: Path) -> Iterator[Path]:
    with FakeKubeAPI(cluster) as api:
        yield api.write_kubeconfig(tmp_path / "kubeconfig")


def test_manage_mode_runs_funkwhale_manage_with_passwords_on_stdin_only(
        cluster: FakeCluster, kubeconfig: Path, pod_shell: PodShell, tmp_path: Path) -> None:
    out = tmp_path / "users.yaml"
    result = provision("--count", "3", "--out", str(out), "--mode", "manage", "--kubeconfig", str(kubeconfig))
    assert result.exit_code == 0, result.output
    (call,) = cluster.exec_calls
    (api_pod,) = cluster.pods_of("funkwhale-api")
    assert (call.pod, call.container, call.command) == (api_pod.name, "api", ["sh", "-c", CREATE_SCRIPT])
    accounts = users_in(out)
    assert all(password not in " ".join(call.command) for _, password in accounts)
    assert all(f"{u} {p}".encode() in call.stdin for u, p in accounts)
    assert pod_shell.logged() == [
        f"fw users create --username {u} --email {u}@fwload.invalid|{p}" for u, p in accounts
    ]
    assert_private_and_unechoed(out, result)


def test_manage_mode_reports_an_oom_kill_and_keeps_earlier_accounts(
        cluster: FakeCluster, kubeconfig: Path, pod_shell: PodShell, tmp_path: Path) -> None:
    pod_shell.oom_after = 1
    out = tmp_path / "users.yaml"
    result = provision("--count", "3", "--out", str(out), "--mode", "manage", "--kubeconfig", str(kubeconfig))
    assert result.exit_code == 2
    assert "killed (exit 137)" in result.stderr and "after 1 of 3" in result.stderr
    first, _ = pod_shell.logged()
    username, password = users_in(out)[0]
    assert len(users_in(out)) == 1 and first.endswith(f"{username}@fwload.invalid|{password}")
    assert password not in result.stderr


def test_manage_mode_without_exec_rights_exits_2(
    cluster: FakeCluster, kubeconfig: Path, tmp_path: Path
) -> None:
    cluster.forbid("pods/exec")
    out = tmp_path / "users.yaml"
    result = provision("--count", "1", "--out", str(out), "--mode", "manage", "--kubeconfig", str(kubeconfig))
    assert result.exit_code == 2
    assert "RBAC denies running a command in pod" in result.stderr and "pods/exec" in result.stderr
    assert not out.exists() and cluster.exec_calls == []


def test_manage_mode_without_an_api_pod_exits_2(
    cluster: FakeCluster, kubeconfig: Path, tmp_path: Path
) -> None:
    result = provision("--count", "1", "--out", str(tmp_path / "u.yaml"), "--mode", "manage",
                       "--kubeconfig", str(kubeconfig), "--namespace", "elsewhere")
    assert result.exit_code == 2 and "no running api pod in namespace elsewhere" in result.stderr


def test_the_create_script_stops_at_the_end_marker_and_on_the_first_failure(pod_shell: PodShell) -> None:
    """The loop itself, in a real sh: '.' ends it even though v4 exec cannot close stdin."""
    command = ["sh", "-c", CREATE_SCRIPT]
    ok = pod_shell(ExecCall("ns", "pod", "api", command, stdin=b"u1 p1\nu2 p2\n.\nu3 p3\n"))
    assert ok.exit_code == 0
    assert ok.stdout.decode().splitlines() == ["fwload-created u1", "fwload-created u2"]
    pod_shell.oom_after = 3
    failed = pod_shell(ExecCall("ns", "pod", "api", command, stdin=b"u4 p4\nu5 p5\nu6 p6\n.\n"))
    assert failed.exit_code == 137
    assert failed.stdout.decode().splitlines() == ["fwload-created u4"]
    assert [line.split("|")[1] for line in pod_shell.logged()] == ["p1", "p2", "p4", "p5"]
