"""The system's nginx on a free 127.0.0.1 port, with its own config in a temp dir.

Every generator in a benchmark hits the same nginx serving the same static files, so the
only thing that differs between two rows is the generator. nginx does the Range
requests (206) of the streaming benchmark exactly as Funkwhale's front nginx does.
"""

from __future__ import annotations

import os
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Self

from bench.errors import BenchError, require_tool
from bench.procs import pinned

STATIC_PATH = "/api/v1/instance/nodeinfo.json"
"""A small JSON file standing for a cheap API answer."""
STATIC_BODY = b'{"version":"2.0","software":{"name":"funkwhale","version":"1.4.0"},"usage":{"users":{"total":1}}}\n'
AUDIO_PATH = "/api/v1/listen/track.mp3"
"""A listen-like URL served from a static audio file, with Range support."""

_CONFIG = """\
daemon off;
master_process on;
worker_processes 1;
worker_rlimit_nofile 40000;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 32768; }}
http {{
    access_log off;
    client_body_temp_path {root}/tmp/body;
    proxy_temp_path {root}/tmp/proxy;
    fastcgi_temp_path {root}/tmp/fastcgi;
    uwsgi_temp_path {root}/tmp/uwsgi;
    scgi_temp_path {root}/tmp/scgi;
    types {{ application/json json; audio/mpeg mp3; }}
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000000;
    keepalive_timeout 120s;
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        root {root}/www;
        location / {{ }}
    }}
}}
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Nginx:
    """``with Nginx(audio_bytes=...) as server:`` → ``server.url(STATIC_PATH)``."""

    def __init__(self, audio_bytes: int = 4 << 20, cpus: set[int] | None = None):
        self.binary = require_tool("nginx")
        self.audio_bytes = audio_bytes
        self.cpus = cpus
        self.port = 0
        self._folder: tempfile.TemporaryDirectory[str] | None = None
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.base + path

    def __enter__(self) -> Self:
        self._folder = tempfile.TemporaryDirectory(prefix="fwload-bench-nginx-")
        root = Path(self._folder.name)
        self._write_files(root)
        for _ in range(5):
            self.port = free_port()
            (root / "nginx.conf").write_text(_CONFIG.format(root=root, port=self.port))
            if self._start(root):
                return self
        raise BenchError(f"nginx would not start; see its log:\n{(root / 'error.log').read_text()[-2000:]}")

    def _write_files(self, root: Path) -> None:
        for sub in ("tmp", "www"):
            (root / sub).mkdir()
        for path, body in ((STATIC_PATH, STATIC_BODY), (AUDIO_PATH, os.urandom(self.audio_bytes))):
            target = root / "www" / path.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(body)
        for folder, _dirs, files in os.walk(root):  # nginx workers may run as nobody
            os.chmod(folder, 0o755)
            for name in files:
                os.chmod(Path(folder, name), 0o644)

    def _start(self, root: Path) -> bool:
        command = [self.binary, "-p", str(root), "-c", str(root / "nginx.conf"), "-e", str(root / "error.log")]
        self._process = subprocess.Popen(pinned(command, self.cpus), stdout=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return True
            except OSError:
                time.sleep(0.05)
        self._stop()
        return False

    def _stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None

    def __exit__(self, *exc: object) -> None:
        self._stop()
        if self._folder is not None:
            self._folder.cleanup()
