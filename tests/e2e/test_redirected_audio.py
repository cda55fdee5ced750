"""Audio redirected to another origin (1.4 with PROXY_MEDIA=false answers a listen with a 302 to
the storage URL, §4.2): the client follows it without handing the app token to that origin."""

from __future__ import annotations

import sys

from tests.e2e.helpers import run

SCRIPT = """
from gevent import monkey; monkey.patch_all()
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from locust.contrib.fasthttp import FastHttpSession
from locust.env import Environment

seen = {}

class Storage(BaseHTTPRequestHandler):
    def do_GET(self):
        seen["authorization"] = self.headers.get("Authorization")
        self.send_response(200); self.send_header("Content-Length", "4"); self.end_headers()
        self.wfile.write(b"fLaC")
    def log_message(self, *args): pass

class Api(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(302)
        self.send_header("Location", f"http://localhost:{storage.server_address[1]}/media/x.flac?X-Amz-Signature=s")
        self.send_header("Content-Length", "0"); self.end_headers()
    def log_message(self, *args): pass

storage = ThreadingHTTPServer(("127.0.0.1", 0), Storage)
api = ThreadingHTTPServer(("127.0.0.1", 0), Api)
for server in (storage, api):
    threading.Thread(target=server.serve_forever, daemon=True).start()
session = FastHttpSession(f"http://127.0.0.1:{api.server_address[1]}", Environment().events.request, user=None)
response = session.get("/api/v1/listen/abc/", headers={"Authorization": "Bearer five-word-app-token"})
print(response.status_code, response.content.decode(), seen.get("authorization"))
"""


def test_a_listen_redirected_to_storage_does_not_carry_the_app_token():
    done = run([sys.executable, "-c", SCRIPT], timeout=60)
    assert done.code == 0, done.err[-2000:]
    assert done.out.split() == ["200", "fLaC", "None"]
