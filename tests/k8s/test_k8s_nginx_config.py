"""The nginx ConfigMap, rendered the way the front image renders it (envsubst over the
defined variables) and run by a real nginx on 127.0.0.1 in front of a tiny stand-in API.

Only what is deployment-specific is changed for the test: the listen address, the upstream
address, the folders, and a small body limit so a 413 needs no 100 MB upload.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
import requests

from tests.k8s.conftest import container, find_generated

START_TIMEOUT_S = 10.0
AUDIO = bytes(range(256)) * 64  # 16 KiB that is easy to slice-check
http = requests.Session()
http.trust_env = False  # loopback only, whatever proxy the environment names


class StandInAPI(BaseHTTPRequestHandler):
    """Answers like Funkwhale's api: X-Accel-Redirect for audio, JSON elsewhere; records headers."""

    seen: ClassVar[list[tuple[str, str, dict[str, str]]]] = []

    def log_message(self, *args: Any) -> None:
        pass

    def _answer(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for key, value in (headers or {"Content-Type": "application/json"}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        StandInAPI.seen.append(("GET", self.path, {k.lower(): v for k, v in self.headers.items()}))
        if self.path.startswith("/api/v1/listen/"):
            self._answer(200, b"", {"Content-Type": "audio/mpeg",
                                    "X-Accel-Redirect": "/_protected/media/tracks/ab/two%20words.mp3"})
        else:
            self._answer(200, json.dumps({"path": self.path}).encode())

    def do_POST(self) -> None:
        size = int(self.headers.get("Content-Length", "0"))
        self.rfile.read(size)
        StandInAPI.seen.append(("POST", self.path, {k.lower(): v for k, v in self.headers.items()}))
        self._answer(201, json.dumps({"received": size}).encode())


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def envsubst(template: str, env: dict[str, str]) -> str:
    """What the nginx image's 20-envsubst-on-templates.sh does: only defined names are replaced."""
    binary = shutil.which("envsubst")
    if not binary:
        pytest.fail("envsubst not found: install gettext-base")
    names = " ".join(f"${{{name}}}" for name in env)
    done = subprocess.run([binary, names], input=template, capture_output=True, text=True, timeout=10,
                          env={**os.environ, **env}, check=True)
    return done.stdout


@pytest.fixture
def stand_in_api() -> Iterator[int]:
    StandInAPI.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), StandInAPI)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture
def nginx(base, stand_in_api: int, tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    binary = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")
    if not binary:
        pytest.fail("nginx not found: `apt-get install nginx-light` (.ci/run installs it)")
    deployment = next(o for o in base if o["kind"] == "Deployment" and o["metadata"]["name"] == "nginx")
    box = container(deployment)
    env = dict(find_generated(base, "ConfigMap", "funkwhale-env")["data"])
    env.update({e["name"]: e["value"] for e in box["env"]})
    env.update({"FUNKWHALE_API_HOST": "127.0.0.1", "FUNKWHALE_API_PORT": str(stand_in_api),
                "MEDIA_ROOT": str(tmp_path / "media"), "STATIC_ROOT": str(tmp_path / "static"),
                "MUSIC_DIRECTORY_PATH": str(tmp_path / "music"), "NGINX_MAX_BODY_SIZE": "1k"})
    template = find_generated(base, "ConfigMap", "nginx-templates")["data"]["default.conf.template"]
    port = free_port()
    site = envsubst(template, env)
    assert "listen 80;" in site and "root /usr/share/nginx/html;" in site
    site = (site.replace("listen 80;", f"listen 127.0.0.1:{port};").replace("listen [::]:80;", "")
            .replace("root /usr/share/nginx/html;", f"root {tmp_path / 'html'};"))
    (tmp_path / "site.conf").write_text(site)
    for folder in ("media/tracks/ab", "media/attachments", "static", "music", "html", "temp"):
        (tmp_path / folder).mkdir(parents=True)
    (tmp_path / "media/tracks/ab/two words.mp3").write_bytes(AUDIO)
    (tmp_path / "media/attachments/cover.txt").write_text("cover")
    (tmp_path / "html/index.html").write_text("<html>spa</html>")
    temp = tmp_path / "temp"
    (tmp_path / "nginx.conf").write_text(
        ("user root;\n" if os.geteuid() == 0 else "")
        + f"daemon off;\nworker_processes 1;\npid {tmp_path / 'nginx.pid'};\n"
        + f"error_log {tmp_path / 'error.log'};\n"
        "events {}\nhttp {\n  include /etc/nginx/mime.types;\n  access_log off;\n"
        + "".join(
            f"  {kind}_temp_path {temp / kind};\n"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        + f"  include {tmp_path / 'site.conf'};\n}}\n"
    )
    command = [binary, "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")]
    checked = subprocess.run([*command, "-t"], capture_output=True, text=True, timeout=10, check=False)
    assert checked.returncode == 0, checked.stderr
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
                time.sleep(0.05)
        else:
            pytest.fail("nginx did not listen within 10 s")
        yield f"http://127.0.0.1:{port}", env
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_api_requests_reach_django_with_the_instance_hostname(nginx) -> None:
    url, env = nginx
    answer = http.get(url + "/api/v1/instance/nodeinfo/2.0/", headers={"Host": "10.0.0.7:8080"}, timeout=5)
    assert answer.status_code == 200 and answer.json() == {"path": "/api/v1/instance/nodeinfo/2.0/"}
    _, _, headers = StandInAPI.seen[-1]
    assert headers["host"] == env["FUNKWHALE_HOSTNAME"]
    assert headers["x-forwarded-host"] == env["FUNKWHALE_HOSTNAME"]
    assert headers["x-forwarded-proto"] == env["FUNKWHALE_PROTOCOL"]
    assert headers["x-forwarded-for"] == "127.0.0.1"


def test_audio_is_served_by_nginx_from_the_protected_location_with_ranges(nginx) -> None:
    url, _ = nginx
    whole = http.get(url + "/api/v1/listen/some-track/", timeout=5)
    assert whole.status_code == 200 and whole.content == AUDIO
    assert whole.headers["Accept-Ranges"] == "bytes"
    part = http.get(url + "/api/v1/listen/some-track/", headers={"Range": "bytes=100-355"}, timeout=5)
    assert part.status_code == 206
    assert part.headers["Content-Range"] == f"bytes 100-355/{len(AUDIO)}"
    assert part.content == AUDIO[100:356]


def test_the_protected_location_is_internal_only(nginx) -> None:
    url, _ = nginx
    direct = http.get(url + "/_protected/media/tracks/ab/two%20words.mp3", timeout=5)
    assert direct.status_code == 404
    public = http.get(url + "/media/tracks/ab/two%20words.mp3", timeout=5)
    assert public.content != AUDIO


def test_uploads_above_the_body_size_limit_are_refused_by_nginx(nginx) -> None:
    url, _ = nginx
    small = http.post(url + "/api/v1/uploads/", data=b"x" * 512, timeout=5)
    assert small.status_code == 201 and small.json() == {"received": 512}
    posted = len([s for s in StandInAPI.seen if s[0] == "POST"])
    big = http.post(url + "/api/v1/uploads/", data=b"x" * 4096, timeout=5)
    assert big.status_code == 413
    assert len([s for s in StandInAPI.seen if s[0] == "POST"]) == posted


def test_subsonic_short_path_and_public_media(nginx) -> None:
    url, _ = nginx
    assert http.get(url + "/rest/ping.view?f=json", timeout=5).json() == {
        "path": "/api/subsonic/rest/ping.view?f=json"
    }
    cover = http.get(url + "/media/attachments/cover.txt", timeout=5)
    assert cover.status_code == 200 and cover.text == "cover"
    assert cover.headers["Access-Control-Allow-Origin"] == "*"
    assert http.get(url + "/library/albums/12/", timeout=5).json() == {"path": "/library/albums/12/"}
    assert http.get(url + "/some/spa/page", timeout=5).text == "<html>spa</html>"
