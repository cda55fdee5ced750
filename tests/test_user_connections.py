"""Pooled keep-alive connections are reused in a Locust process holding more than 1,024 files.

In a subprocess (importing Locust here would patch the test's network): past fd 1,024 the
stock geventhttpclient check (``select.select``) raises, so it opens a connection per
request; with fwload's users imported, one connection serves them all.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

CLIENT = """
import resource, socket, sys
import gevent.monkey
gevent.monkey.patch_all()
resource.setrlimit(resource.RLIMIT_NOFILE, (4096, 4096))
filler = [socket.socket() for _ in range(1100)]
from locust.env import Environment
from locust.contrib.fasthttp import FastHttpSession
if sys.argv[2] == "fwload":
    import fwload.users.base  # noqa: F401 - installs the check
session = FastHttpSession(sys.argv[1], Environment().events.request, None)
for _ in range(3):
    response = session.get("/")
    assert response.status_code == 200, response.status_code
"""


class _Counting(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    connections = 0

    def setup(self) -> None:
        type(self).connections += 1
        super().setup()

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


def connections_for(flavour: str) -> int:
    _Counting.connections = 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Counting)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        done = subprocess.run([sys.executable, "-c", CLIENT, f"http://127.0.0.1:{server.server_address[1]}", flavour],
                              cwd=REPO, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr[-2000:]
    finally:
        server.shutdown()
    return _Counting.connections


def test_a_crowded_process_reuses_its_connection_once_fwload_users_are_imported():
    assert connections_for("plain") == 3, "stock geventhttpclient reuses again: remove fwload.users.connections"
    assert connections_for("fwload") == 1
