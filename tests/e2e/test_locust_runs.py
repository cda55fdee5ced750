"""Real Locust runs of the Funkwhale user classes against the stand-in, as subprocesses."""

from __future__ import annotations

import json
from collections import Counter

import pytest
import yaml

from fwload.standin.launcher import StandinProcess
from tests.e2e.helpers import all_text, locust, locust_total, only_run_dir, rows
from tests.e2e.recording_proxy import recording_proxy

MEASURED_GROUPS = {"auth", "library", "upload", "import_poll", "browse", "listen"}
"""What 25 s of the default mix always makes; search, history and favorites are drawn at random
between real-time plays, so the stand-in's own counts say whether they happened."""


@pytest.fixture(scope="module")
def standin():
    with StandinProcess() as process:
        yield process


def test_plain_locust_records_every_measurement(standin, tmp_path):
    """`locust -f locustfiles/funkwhale.py --host URL --headless -u -r -t` works with no wrapper."""
    admin = standin.fault_admin()
    admin.reset_counts()
    done = locust("--host", standin.url, "-u", "6", "-r", "6", "-t", "25s", "--reports-dir", str(tmp_path))
    assert done.code == 0, done.err[-3000:]
    run_dir = only_run_dir(tmp_path)
    requests = rows(run_dir, "requests.csv")
    recorded = {r["group"] for r in requests}
    assert MEASURED_GROUPS <= recorded
    received = {group for group, counts in admin.counts().items() if counts.get("received")}
    assert received - {"instance", "imports", "other"} <= recorded, "every kind of request the stand-in saw"
    assert not [r for r in requests if r["error_kind"]], "the stand-in answered everything well"
    assert len(requests) == locust_total(run_dir), "one row per request Locust counted"
    listens = [r for r in requests if r["group"] == "listen"]
    assert listens and all(r["status"] == "206" and int(r["bytes"]) > 0 for r in listens)
    streams = rows(run_dir, "streams.csv")
    assert streams and all(float(s["ttfb_ms"]) <= float(s["total_ms"]) for s in streams)
    assert all(int(s["bytes"]) > 0 and s["range"].startswith("bytes=0-") for s in streams)
    imports = rows(run_dir, "imports.csv")
    assert imports and Counter(i["outcome"] for i in imports)["finished"] >= 1
    assert all(float(i["wait_ms"]) > 0 for i in imports if i["outcome"] == "finished")
    meta = json.loads((run_dir / "run.json").read_text())
    assert meta["status"] == "complete" and meta["counts"]["requests"] == len(requests)
    assert (run_dir / "report.html").exists() and (run_dir / "verdict.json").exists()


def test_distributed_run_loses_and_doubles_nothing(standin, tmp_path):
    """With --processes 2 every request the stand-in received is in requests.csv exactly once
    (without the pre-flight, whose registration, track list and listen are not Locust's)."""
    admin = standin.fault_admin()
    admin.reset_counts()
    done = locust("--host", standin.url, "--scenario", "scenarios/smoke.yaml", "--processes", "2",
                  "--stop-timeout", "20", "--skip-preflight", "--reports-dir", str(tmp_path))
    assert done.code == 0, done.err[-3000:]
    received = Counter({group: counts.get("received", 0) for group, counts in admin.counts().items()})
    run_dir = only_run_dir(tmp_path)
    requests = rows(run_dir, "requests.csv")
    assert {r["worker"] for r in requests} == {"0", "1"}
    recorded = Counter(r["group"] for r in requests)
    preflight_probes = {"instance"}  # the plugin's own readiness checks are not Locust requests
    assert {g: n for g, n in recorded.items() if g not in preflight_probes} == \
        {g: n for g, n in received.items() if g not in preflight_probes and n}
    assert received["instance"] >= recorded["instance"] > 0
    assert len({(r["ts"], r["name"], r["response_ms"], r["worker"]) for r in requests}) == len(requests)
    events = [json.loads(line) for line in (run_dir / "events.jsonl").read_text().splitlines()]
    assert not [e for e in events if e["type"] == "worker_missing"]
    meta = json.loads((run_dir / "run.json").read_text())
    assert meta["locust"]["workers"] == 2 and meta["counts"]["requests"] == len(requests)
    plays, streams = rows(run_dir, "plays"), rows(run_dir, "streams")
    assert plays and meta["counts"]["plays"] == len(plays) == len(streams), "one play row per play, each once"
    assert {p["worker"] for p in plays} == {"0", "1"}
    assert sum(int(p["requests"]) for p in plays) == recorded["listen"], "every audio request belongs to a play"


def test_users_file_accounts_log_in_and_no_password_lands_on_disk(standin, tmp_path):
    from fwload.funkwhale import paths

    users_file, entry = _registered_users_file(standin.url, tmp_path)
    password = entry["password"]
    reports = tmp_path / "reports"
    done = locust("--host", standin.url, "-u", "2", "-r", "2", "-t", "12s", "--users-file", str(users_file),
                  "--reports-dir", str(reports))
    assert done.code == 0, done.err[-3000:]
    run_dir = only_run_dir(reports)
    auth = [r for r in rows(run_dir, "requests.csv") if r["group"] == "auth"]
    assert auth and not [r for r in auth if r["name"] == paths.REGISTRATION], "no account was registered"
    text = all_text(run_dir) + done.out + done.err
    assert password not in text
    assert "Bearer" not in text and "token=" not in text


def test_run_with_wrong_credentials_stops_before_the_load(standin, tmp_path):
    users_file = tmp_path / "users.csv"
    users_file.write_text("username,password\nnobody_here,not-the-password\n")
    done = locust("--host", standin.url, "-u", "1", "-r", "1", "-t", "10s", "--users-file", str(users_file),
                  "--reports-dir", str(tmp_path / "reports"))
    assert done.code == 2
    assert "wrong credentials" in done.err and "nobody_here" in done.err
    assert "not-the-password" not in done.err


def test_unreachable_host_is_reported_not_ready(tmp_path):
    done = locust("--host", "http://127.0.0.1:9", "--scenario", "tests/e2e/data/quick-fail.yaml",
                  "--reports-dir", str(tmp_path))
    assert done.code == 4, done.err[-2000:]
    assert "never became ready" in done.err and "cannot connect" in done.err
    run_dir = only_run_dir(tmp_path)
    assert json.loads((run_dir / "run.json").read_text())["status"] == "not_ready"


def test_bad_fixtures_end_as_import_outcomes_and_a_refused_corrupt_file_is_expected(tmp_path):
    """As on real 1.4: untagged files stay pending, no-artist files error, duplicates skip, and
    the corrupt mp3's upload answers HTTP 500, recorded as ``rejected`` (expected), never an error."""
    with StandinProcess(import_rate=5.0) as standin:
        done = locust("--host", standin.url, "--scenario", "tests/e2e/data/bad-files.yaml",
                      "--reports-dir", str(tmp_path))
    assert done.code in (0, 1), done.err[-3000:]
    run_dir = only_run_dir(tmp_path)
    requests = rows(run_dir, "requests.csv")
    refused = [r for r in requests if r["error_kind"]]
    assert refused and all((r["group"], r["status"], r["error_kind"]) == ("upload", "500", "rejected")
                           for r in refused)
    imports = rows(run_dir, "imports.csv")
    outcomes = {(i["fixture"], i["outcome"]) for i in imports}
    assert {o for f, o in outcomes if f == "corrupt"} == {"rejected"}
    assert sum(i["outcome"] == "rejected" for i in imports) == len(refused)
    assert ("untagged", "timeout") in outcomes and ("no_artist", "errored") in outcomes
    assert not {o for f, o in outcomes if f == "valid"} - {"finished", "unfinished"}
    error_ratio = next(c for c in json.loads((run_dir / "verdict.json").read_text())["checks"]
                       if c["name"] == "error ratio")
    assert error_ratio["passed"] is True and "rejected excluded" in error_ratio["detail"]


def test_a_500_on_a_valid_upload_stays_a_server_error(tmp_path):
    from fwload.standin.faults.syntax import parse_faults

    scenario = tmp_path / "valid.yaml"
    scenario.write_text(yaml.safe_dump({
        "name": "valid", "users": [{"class": "Uploader", "options": {
            "bad_files": 0, "wait": [0.1, 0.2], "import_timeout": 5, "stream_after_import": False}}],
        "load": {"profile": "constant", "users": 2, "spawn_rate": 2, "duration": "8s"},
        "slos": {"error_ratio": 0.01}}))
    with StandinProcess(import_rate=20.0) as standin:
        standin.fault_admin().arm(parse_faults(["upload.error=50%", "seed=3"]))
        done = locust("--host", standin.url, "--scenario", str(scenario), "--reports-dir", str(tmp_path / "runs"))
    assert done.code == 1, done.err[-3000:]
    run_dir = only_run_dir(tmp_path / "runs")
    failed = [r for r in rows(run_dir, "requests.csv") if r["group"] == "upload" and r["status"] == "500"]
    assert failed and all(r["error_kind"] == "http" for r in failed)
    imports = rows(run_dir, "imports.csv")
    assert sum(i["outcome"] == "failed" for i in imports) == len(failed)
    assert not [i for i in imports if i["outcome"] == "rejected"]


def _registered_users_file(url: str, folder, with_token: bool = False) -> tuple:
    import requests as http

    from fwload.funkwhale import api, paths

    username, password = api.new_username(), api.new_password()
    answer = http.post(url + paths.REGISTRATION, json=api.registration_body(username, password), timeout=30)
    assert answer.status_code == 201
    entry = {"username": username, "password": password}
    if with_token:
        app = http.post(url + paths.OAUTH_APPS, json=api.app_body(), auth=(username, password), timeout=30)
        assert app.status_code == 201
        entry["token"] = app.json()["token"]
    users_file = folder / "users.yaml"
    users_file.write_text(yaml.safe_dump({"users": [entry]}))
    return users_file, entry


def test_a_token_kept_in_the_users_file_spares_creating_apps(standin, tmp_path):
    """Real 1.4 lets an account create 10 apps an hour: with its token in the file, no run creates one."""
    users_file, entry = _registered_users_file(standin.url, tmp_path, with_token=True)
    done = locust("--host", standin.url, "-u", "2", "-r", "2", "-t", "10s", "--users-file", str(users_file),
                  "--processes", "2", "--reports-dir", str(tmp_path / "reports"))
    assert done.code == 0, done.err[-3000:]
    run_dir = only_run_dir(tmp_path / "reports")
    requests = rows(run_dir, "requests.csv")
    assert requests and not [r for r in requests if r["error_kind"]]
    assert "/api/v1/oauth/apps/" not in {r["name"] for r in requests}
    assert entry["token"] not in all_text(run_dir) + done.out + done.err


@pytest.mark.parametrize(("mode", "accounts"), [("session", "file"), ("session", "registered"), ("basic", "file")])
def test_session_and_basic_authentication_work_too(standin, tmp_path, mode, accounts):
    """Session login (form + CSRF, rotated token) and HTTP Basic on every request, as real 1.4
    takes them; a session-mode user that registered keeps the session registration opened."""
    users = ["--users-file", str(_registered_users_file(standin.url, tmp_path)[0])] if accounts == "file" else []
    done = locust("--host", standin.url, "--scenario", "tests/e2e/data/quick-mix.yaml", "--auth-mode", mode,
                  *users, "--reports-dir", str(tmp_path / "reports"))
    assert done.code == 0, done.err[-3000:]
    requests = rows(only_run_dir(tmp_path / "reports"), "requests.csv")
    assert not [r for r in requests if r["error_kind"]]
    names = {r["name"] for r in requests}
    assert ("/api/v1/users/login" in names) == (mode == "session" and accounts == "file")
    assert ("/api/v1/auth/registration/" in names) == (accounts == "registered")
    assert "/api/v1/oauth/apps/" not in names
    assert {"browse", "listen", "history", "upload"} <= {r["group"] for r in requests}


def test_audio_with_the_listen_token_like_the_web_player(standin, tmp_path):
    """`?token=<tokens.listen>` and no Authorization header, as an <audio> element does."""
    with recording_proxy(standin.url) as proxy:
        done = locust("--host", proxy.url, "--scenario", "tests/e2e/data/listen-token.yaml",
                      "--reports-dir", str(tmp_path))
    assert done.code == 0, done.err[-3000:]
    run_dir = only_run_dir(tmp_path)
    listens = [r for r in rows(run_dir, "requests.csv") if r["group"] == "listen"]
    assert listens and all(r["status"] == "206" and not r["error_kind"] for r in listens)
    from fwload.preflight import USER_AGENT

    load = [seen for seen in proxy.seen if seen.headers.get("User-Agent") != USER_AGENT]  # not the pre-flight's
    assert len(load) < len(proxy.seen), "the pre-flight listened once, as itself"
    audio = [seen for seen in load if seen.path.startswith("/api/v1/listen/")]
    assert len(audio) == len(listens)
    assert all("token=" in seen.path and "Authorization" not in seen.headers for seen in audio)
    assert all(seen.headers.get("Authorization", "").startswith("Bearer ") for seen in load
               if seen.path.startswith("/api/v1/tracks/"))
    assert "token=" not in all_text(run_dir)


def test_listens_answered_by_the_api_behind_nginx_s_back_are_failures_that_say_so(tmp_path):
    """Pointed at the API instead of nginx, real 1.4 answers every listen 200/206 with an empty
    body and X-Accel-Redirect: those plays must fail, not count as instant streams."""
    with StandinProcess(data_dir=tmp_path / "standin", audio_serving="x-accel-redirect") as bypassed:
        done = locust("--host", bypassed.url, "--scenario", "tests/e2e/data/listen-token.yaml",
                      "--reports-dir", str(tmp_path / "runs"))
    assert done.code != 0, "a run whose every play failed must not pass"
    run_dir = only_run_dir(tmp_path / "runs")
    listens = [r for r in rows(run_dir, "requests.csv") if r["group"] == "listen"]
    assert listens and all(r["error_kind"] == "unexpected" for r in listens)
    assert all("nginx is bypassed" in r["error"] for r in listens)
    streams = rows(run_dir, "streams.csv")
    assert streams and all(s["error_kind"] == "unexpected" and s["bytes"] == "0" for s in streams)
    browsing = [r for r in rows(run_dir, "requests.csv") if r["group"] == "browse"]
    assert browsing and not [r for r in browsing if r["error_kind"]]


def test_an_exhausted_upload_quota_is_named_before_and_during_the_run(tmp_path):
    """Real 1.4 counts every upload toward a 1000 MB quota and refuses the rest with 400
    upload_quota_reached: preflight warns, and the failures say why."""
    import requests as http

    from fwload.funkwhale import paths

    with StandinProcess(data_dir=tmp_path / "standin") as small:
        admin = (small.admin.username, small.admin.password.get_secret_value())
        answer = http.post(small.url + paths.ADMIN_SETTINGS_BULK, json={"users__upload_quota": 1}, auth=admin,
                           timeout=30)
        assert answer.status_code == 200, answer.text
        users_file, _ = _registered_users_file(small.url, tmp_path)
        scenario = tmp_path / "uploads.yaml"
        scenario.write_text(yaml.safe_dump({
            "name": "quota", "users": [{"class": "Uploader", "options": {"wait": [0.2, 0.4], "stream_after_import": False}}],
            "load": {"profile": "constant", "users": 1, "spawn_rate": 1, "duration": "12s"}}))
        done = locust("--host", small.url, "--scenario", str(scenario), "--users-file", str(users_file),
                      "--reports-dir", str(tmp_path / "runs"))
    run_dir = only_run_dir(tmp_path / "runs")
    events = [json.loads(line) for line in (run_dir / "events.jsonl").read_text().splitlines()]
    assert any("MB of upload quota left" in e.get("detail", "") for e in events if e["type"] == "notice")
    uploads = [r for r in rows(run_dir, "requests.csv") if r["group"] == "upload"]
    refused = [r for r in uploads if r["error"] == "HTTP 400: upload_quota_reached"]
    assert refused and all(r["status"] == "400" and r["error_kind"] == "http" for r in refused)
    assert done.code == 1, "refused uploads break the error-ratio SLO"


def test_plain_locust_says_it_does_not_inject_a_scenario_s_faults(standin, tmp_path):
    scenario = tmp_path / "faulty.yaml"
    scenario.write_text(yaml.safe_dump({
        "name": "faulty", "users": [{"class": "Listener", "options": {"wait": [0.2, 0.4]}}],
        "load": {"profile": "constant", "users": 1, "spawn_rate": 1, "duration": "5s"},
        "faults": {"requests": [{"reset": 0.5}]}}))
    done = locust("--host", standin.url, "--scenario", str(scenario), "--reports-dir", str(tmp_path / "runs"))
    assert "faults: are not injected" in done.err
    events = (only_run_dir(tmp_path / "runs") / "events.jsonl").read_text()
    assert "faults: are not injected" in events
    assert not [r for r in rows(only_run_dir(tmp_path / "runs"), "requests.csv") if r["error_kind"]]


def test_a_refused_listen_token_is_renewed_and_later_plays_work(standin, tmp_path):
    """Listen tokens expire after 3 days (and with a password change): the first token used is
    refused here once, as 1.4 refuses an expired one; the user fetches a new one and plays on."""
    refused: list[str] = []

    def first_play(path: str) -> bool:
        if refused or not path.startswith("/api/v1/listen/") or "token=" not in path:
            return False
        refused.append(path)
        return True

    with recording_proxy(standin.url, refuse=first_play) as proxy:
        done = locust("--host", proxy.url, "--scenario", "tests/e2e/data/listen-token.yaml",
                      "--reports-dir", str(tmp_path))
    run_dir = only_run_dir(tmp_path)
    listens = [r for r in rows(run_dir, "requests.csv") if r["group"] == "listen"]
    assert [r["status"] for r in listens].count("401") == 1 and listens[0]["status"] == "401"
    assert [r for r in listens[1:] if r["status"] == "206" and not r["error_kind"]], "plays went on"
    users = 2  # listen-token.yaml: one Listener, one Uploader, each reads users/me once to start
    assert len([s for s in proxy.seen if s.path == "/api/v1/users/me/"]) == users + 1
    assert "token=" not in all_text(run_dir) and done.code in (0, 1)


def test_with_skip_preflight_a_throttled_login_stops_the_users_cleanly_with_the_reason_recorded(tmp_path):
    """Real 1.4 answers a throttled login with HTTP 500 + X-RateLimit headers: each user stops
    before its first task, once logged and counted in the run directory, with no traceback."""
    from fwload.standin.faults.syntax import parse_faults

    scenario = tmp_path / "login.yaml"
    scenario.write_text(yaml.safe_dump({
        "name": "login", "target": {"auth": "session"}, "users": [{"class": "Listener"}],
        "load": {"profile": "constant", "users": 2, "spawn_rate": 2, "duration": "4s"}}))
    with StandinProcess(data_dir=tmp_path / "standin") as throttling:
        users_file, _ = _registered_users_file(throttling.url, tmp_path)
        throttling.fault_admin().arm(parse_faults(["login.throttle=storm:100%:3600s"]))
        done = locust("--host", throttling.url, "--scenario", str(scenario), "--users-file", str(users_file),
                      "--skip-preflight", "--reports-dir", str(tmp_path / "runs"))
    assert "Traceback" not in done.err and "StopUser" not in done.err, done.err[-3000:]
    reason = "session login throttled (HTTP 500, scope login, Retry-After 3600 s)"
    assert done.err.count(f"Listener user stopped before its first task: {reason}") == 1
    run_dir = only_run_dir(tmp_path / "runs")
    events = [json.loads(line) for line in (run_dir / "events.jsonl").read_text().splitlines()]
    stopped = [e for e in events if e["type"] == "user_stopped"]
    assert sum(e["count"] for e in stopped) == 2 and {e["reason"] for e in stopped} == {reason}
    logins = [r for r in rows(run_dir, "requests.csv") if r["name"] == "/api/v1/users/login"]
    assert len(logins) == 2 and all(r["status"] == "500" and r["error_kind"] == "throttled" for r in logins)
