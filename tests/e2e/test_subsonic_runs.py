"""Real Locust runs of Subsonic apps and transcoded plays against the stand-in, as subprocesses."""

from __future__ import annotations

import secrets
import threading
import time
from collections import Counter
from urllib.parse import parse_qs, urlsplit

import pytest
import requests as http
import yaml

from fwload.fixtures.audio import render_track
from fwload.funkwhale import api, paths
from fwload.standin.launcher import StandinProcess
from tests.e2e.helpers import all_text, locust, only_run_dir, rows
from tests.e2e.recording_proxy import recording_proxy
from tests.standin.conftest import with_cover

METHODS = ("ping", "getLicense", "getMusicFolders", "getArtists", "getArtist", "getAlbum", "search3",
           "getRandomSongs", "getCoverArt", "stream", "scrobble")


@pytest.fixture(scope="module")
def standin():
    """A stand-in with a small catalogue every account may play: two artists, two albums, one
    of them with a cover embedded in its files."""
    with StandinProcess(import_rate=50.0) as process:
        username, password = api.new_username(), api.new_password()
        assert http.post(process.url + paths.REGISTRATION, json=api.registration_body(username, password),
                         timeout=30).status_code == 201
        bearer = {"Authorization": "Bearer " + http.post(process.url + paths.OAUTH_APPS, json=api.app_body(),
                                                          auth=(username, password), timeout=30).json()["token"]}
        library = http.post(process.url + paths.LIBRARIES, headers=bearer, timeout=30,
                            json=api.library_body("catalogue", "instance")).json()["uuid"]
        for n in range(4):
            audio = render_track("mp3", title=f"Wombat tune{n}", artist=f"Wombat band{n % 2}",
                                 album=f"Wombat record{n % 2}", seconds=2.0, seed=n + 1)
            audio = with_cover(audio) if n % 2 == 0 else audio
            answer = http.post(process.url + paths.UPLOADS, headers=bearer, timeout=30,
                               data=api.upload_fields(library, "catalogue", f"t{n}.mp3"),
                               files={"audio_file": (f"t{n}.mp3", audio)})
            assert answer.status_code == 201
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            page = http.get(process.url + paths.UPLOADS, headers=bearer, timeout=30,
                            params={"import_reference": "catalogue"}).json()
            if {u["import_status"] for u in page["results"]} == {"finished"}:
                break
            time.sleep(0.1)
        yield process


def users_file(url: str, folder, **extra: str) -> tuple:
    username, password = api.new_username(), api.new_password()
    assert http.post(url + paths.REGISTRATION, json=api.registration_body(username, password),
                     timeout=30).status_code == 201
    entry = {"username": username, "password": password, **extra}
    path = folder / "users.yaml"
    path.write_text(yaml.safe_dump({"users": [entry]}))
    return path, entry


def scenario(folder, users: list[dict], seconds: int, count: int) -> str:
    path = folder / "scenario.yaml"
    path.write_text(yaml.safe_dump({"name": "subsonic", "users": users, "slos": {"error_ratio": 0.0},
                                    "load": {"profile": "constant", "users": count, "spawn_rate": count,
                                             "duration": f"{seconds}s"}}))
    return str(path)


def test_subsonic_apps_call_every_method_and_web_players_ask_transcoded_audio(standin, tmp_path):
    """Two Subsonic apps and one web listener for 15 s: every Subsonic method through /rest/ with the
    salted token, no failure, no secret anywhere; transcoded plays are named and tagged as such."""
    users, entry = users_file(standin.url, tmp_path)
    mix = [
        {"class": "SubsonicListener", "weight": 2,
         "options": {"wait": [0.1, 0.3], "search_ratio": 0.3, "random_ratio": 0.3, "covers": 2, "songs": 1,
                     "range_bytes": 16384, "transcode": {"ratio": 0.5, "to": "ogg", "max_bitrate": 96}}},
        {"class": "Listener", "weight": 1,
         "options": {"wait": [0.2, 0.4], "favorite_ratio": 0, "search_ratio": 0, "range_bytes": 16384,
                     "transcode": {"to": "opus"}}},
    ]
    with recording_proxy(standin.url) as proxy:
        done = locust("--host", proxy.url, "--scenario", scenario(tmp_path, mix, 15, 3), "--users-file", str(users),
                      "--reports-dir", str(tmp_path / "runs"))
    assert done.code == 0, done.err[-3000:]
    run_dir = only_run_dir(tmp_path / "runs")
    requests = rows(run_dir, "requests.csv")
    assert not [r for r in requests if r["error_kind"]], [r for r in requests if r["error_kind"]][:3]
    subsonic = [r for r in requests if r["user_class"] == "SubsonicListener"]
    named = Counter(r["name"].split("?")[0] for r in subsonic if r["group"] == "subsonic")
    assert set(named) == {f"/rest/{method}.view" for method in METHODS}
    assert {r["name"] for r in subsonic if r["group"] == "auth"} == {paths.SUBSONIC_TOKEN_TEMPLATE}
    assert "/rest/stream.view?format=ogg&maxBitRate=96" in {r["name"] for r in subsonic}
    listens = {r["name"] for r in requests if r["group"] == "listen"}
    assert listens == {"/api/v1/listen/[track]/?to=opus"}
    streams = rows(run_dir, "streams.csv")
    assert {(s["user_class"], s["transcode"]) for s in streams} == {
        ("SubsonicListener", ""), ("SubsonicListener", "ogg@96"), ("Listener", "opus")}

    wire = [urlsplit(seen.path) for seen in proxy.seen if seen.path.startswith("/rest/")]
    assert wire and all({"u", "t", "s"} <= set(parse_qs(q.query)) and "p" not in parse_qs(q.query) for q in wire)
    assert len({parse_qs(q.query)["s"][0] for q in wire}) > len(wire) / 2, "apps salt their calls afresh"
    password = http.get(standin.url + paths.subsonic_token(entry["username"]), timeout=30,
                        auth=(entry["username"], entry["password"])).json()["subsonic_api_token"]
    text = all_text(run_dir) + done.out + done.err
    assert password and password not in text and entry["password"] not in text
    assert "&t=" not in text and "?u=" not in text


def test_a_wrong_subsonic_password_is_recorded_as_code_40(standin, tmp_path):
    users, entry = users_file(standin.url, tmp_path, subsonic_token=f"wrong-{secrets.token_hex(4)}")
    mix = [{"class": "SubsonicListener", "options": {"wait": [0.1, 0.2], "auth": "enc"}}]
    done = locust("--host", standin.url, "--scenario", scenario(tmp_path, mix, 6, 2), "--users-file", str(users),
                  "--reports-dir", str(tmp_path / "runs"))
    assert done.code == 1, done.err[-3000:]
    run_dir = only_run_dir(tmp_path / "runs")
    refused = [r for r in rows(run_dir, "requests.csv") if r["group"] == "subsonic"]
    assert refused and all(r["error"] == "subsonic 40: Wrong username or password." for r in refused)
    assert {r["name"] for r in refused} == {"/rest/ping.view"}, "an app that cannot log in goes no further"
    assert all(r["status"] == "200" and r["error_kind"] == "unexpected" for r in refused)
    assert entry["subsonic_token"] not in all_text(run_dir) + done.out + done.err


def test_a_subsonic_password_made_anew_elsewhere_is_read_again(standin, tmp_path):
    """Mid-run, the account gets a new Subsonic password (another load process sharing it, or its
    owner in the web UI): each app fails a call or two with code 40, reads the new one once per
    process, and plays on."""
    users, entry = users_file(standin.url, tmp_path)
    mix = [{"class": "SubsonicListener", "options": {"wait": [0.2, 0.4], "songs": 1, "range_bytes": 16384}}]
    rotate = threading.Timer(6.0, lambda: http.post(standin.url + paths.subsonic_token(entry["username"]),
                                                     auth=(entry["username"], entry["password"]), timeout=30))
    rotate.start()
    try:
        done = locust("--host", standin.url, "--scenario", scenario(tmp_path, mix, 12, 2), "--users-file",
                      str(users), "--reports-dir", str(tmp_path / "runs"))
    finally:
        rotate.join()
    assert done.code in (0, 1), done.err[-3000:]
    requests = rows(only_run_dir(tmp_path / "runs"), "requests.csv")
    refused = [r for r in requests if r["error"].startswith("subsonic 40")]
    assert 1 <= len(refused) <= 4, [r["name"] for r in refused]
    tokens = Counter(r["method"] for r in requests if r["name"] == paths.SUBSONIC_TOKEN_TEMPLATE)
    assert tokens == {"GET": 2, "POST": 1}, "made once at start (none yet), read again once after the 40s"
    last_refusal = max(float(r["ts"]) for r in refused)
    assert [r for r in requests if r["group"] == "subsonic" and float(r["ts"]) > last_refusal and not r["error"]]
    assert [r for r in requests if r["error"] and not r["error"].startswith("subsonic 40")] == []
