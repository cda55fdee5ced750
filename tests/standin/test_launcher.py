"""Starting and stopping the stand-in as a process: readiness, clean SIGTERM, bad options,
a kept data directory, closed registration, X-Accel-Redirect audio, no secret on disk."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import requests

from fwload.fixtures.audio import render_track
from fwload.standin.launcher import StandinProcess

TIMEOUT_S = 10


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fwload.standin", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def test_bad_import_rate_is_one_usage_error():
    result = run_cli("--import-rate", "0")
    assert result.returncode == 2
    assert "fwload: error: --import-rate" in result.stderr and "fix:" in result.stderr
    assert result.stdout == ""


def test_port_in_use_names_the_fix():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        result = run_cli("--port", str(busy.getsockname()[1]))
    assert result.returncode == 2
    assert "cannot listen on 127.0.0.1" in result.stderr and "--port 0" in result.stderr


def test_sigterm_stops_cleanly_and_removes_the_temporary_data():
    process = StandinProcess().start()
    try:
        assert psutil.Process(process.pid).is_running()
        assert (
            requests.get(f"{process.url}/api/v1/instance/nodeinfo/2.0/", timeout=TIMEOUT_S).status_code == 200
        )
        match = re.search(r"data in (\S+);", process.stderr_tail())
        assert match, process.stderr_tail()
        data_dir = Path(match.group(1))
        assert (data_dir / "standin.sqlite3").exists()
    finally:
        code = process.stop()
    assert code == 0
    assert not process.running and not data_dir.exists()


def _register(url: str, username: str, password: str) -> requests.Response:
    return requests.post(
        f"{url}/api/v1/auth/registration/",
        timeout=TIMEOUT_S,
        json={
            "username": username,
            "email": f"{username}@example.org",
            "password1": password,
            "password2": password,
        },
    )


def test_kept_data_directory_survives_a_restart_without_secrets_on_disk(tmp_path: Path):
    first_password, second_password = "first-admin-pass-1", "second-admin-pass-2"
    audio = render_track("flac", title="Kept", artist="Disk", album="Dir", seconds=1.0, seed=4)
    with StandinProcess(data_dir=tmp_path, admin_password=first_password, import_rate=50) as first:
        assert first.admin is not None and first.admin.password.get_secret_value() == first_password
        assert _register(first.url, "keeper", "keeper-pw-9876").status_code == 201
        app = requests.post(
            f"{first.url}/api/v1/oauth/apps/",
            json={"name": "t", "scopes": "read write"},
            auth=("keeper", "keeper-pw-9876"),
            timeout=TIMEOUT_S,
        ).json()
        bearer = {"Authorization": f"Bearer {app['token']}"}
        library = requests.post(
            f"{first.url}/api/v1/libraries/", json={"name": "k"}, headers=bearer, timeout=TIMEOUT_S
        ).json()["uuid"]
        upload = requests.post(
            f"{first.url}/api/v1/uploads/",
            headers=bearer,
            timeout=TIMEOUT_S,
            data={"library": library, "import_reference": "kept"},
            files={"audio_file": ("my song.flac", audio)},
        ).json()
        deadline = time.monotonic() + 20
        while (
            requests.get(
                f"{first.url}/api/v1/uploads/",
                params={"import_reference": "kept"},
                headers=bearer,
                timeout=TIMEOUT_S,
            ).json()["results"][0]["import_status"]
            == "pending"
        ):
            assert time.monotonic() < deadline, "import never finished"
            time.sleep(0.05)

    stored = list((tmp_path / "media" / "tracks").glob("*/*/*/*"))
    assert [p.name for p in stored] == ["my_song.flac"] and stored[0].read_bytes() == audio
    assert re.fullmatch(
        r"[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{2}",
        "/".join(stored[0].relative_to(tmp_path / "media" / "tracks").parts[:3]),
    )
    for path in tmp_path.rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            for secret in (first_password, "keeper-pw-9876", app["token"], app["client_secret"]):
                assert secret.encode() not in content, f"a secret was written to {path}"

    with StandinProcess(
        data_dir=tmp_path,
        admin_password=second_password,
        closed_registration=True,
        audio_serving="x-accel-redirect",
    ) as second:
        url = second.url
        assert (
            requests.get(
                f"{url}/api/v1/users/me/", auth=("admin", first_password), timeout=TIMEOUT_S
            ).status_code
            == 401
        )
        assert (
            requests.get(
                f"{url}/api/v1/users/me/", auth=("admin", second_password), timeout=TIMEOUT_S
            ).status_code
            == 200
        )
        assert _register(url, "latecomer", "late-pw-5432").status_code == 403
        assert (
            requests.get(f"{url}/api/v1/instance/nodeinfo/2.0/", timeout=TIMEOUT_S).json()[
                "openRegistrations"
            ]
            is False
        )
        tracks = requests.get(
            f"{url}/api/v1/tracks/", params={"playable": "true"}, headers=bearer, timeout=TIMEOUT_S
        )
        assert [t["title"] for t in tracks.json()["results"]] == ["Kept"]
        assert upload["uuid"] in {u["uuid"] for u in tracks.json()["results"][0]["uploads"]}
        listen = requests.get(
            url + tracks.json()["results"][0]["listen_url"], headers=bearer, timeout=TIMEOUT_S
        )
        assert listen.status_code == 200 and listen.content == b""
        relative = stored[0].relative_to(tmp_path / "media").as_posix()
        assert listen.headers["x-accel-redirect"] == f"/_protected/media/{relative}"
        assert listen.headers["content-type"] == "audio/flac"


def test_a_process_that_cannot_start_is_reported_with_its_error(tmp_path: Path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the data directory should be")
    with pytest.raises(Exception) as raised:
        StandinProcess(data_dir=blocker, ready_timeout_s=20).start()
    assert "did not start" in str(raised.value) and "fwload: error:" in str(raised.value)
