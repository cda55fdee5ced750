"""A loopback HTTP proxy that forwards to a target and remembers what each request carried.

It can also hold the bodies of some answers to a fixed bandwidth (``bandwidth(path)`` gives
bytes per second, None for full speed): the body goes out in pieces of `PIECE_BYTES`, piece
``k`` at ``(k + 1) * PIECE_BYTES / bandwidth`` seconds after the answer's headers, on an
absolute schedule (a late piece does not push the next ones back), so the bytes a client has
at any moment lag the steady line ``bandwidth × elapsed`` by less than one piece.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding"}
PIECE_BYTES = 400


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    at: float = field(default_factory=time.monotonic)
    """When the request arrived (monotonic clock)."""


@dataclass
class Proxy:
    url: str
    seen: list[Seen] = field(default_factory=list)


@contextmanager
def recording_proxy(target: str, refuse: Callable[[str], bool] = lambda path: False,
                    bandwidth: Callable[[str], float | None] = lambda path: None) -> Iterator[Proxy]:
    """``refuse(path)`` True: answer 401 as Funkwhale does to a token it no longer accepts;
    ``bandwidth(path)``: bytes per second for that answer's body (None: full speed)."""
    proxy = Proxy(url="")
    upstream = requests.Session()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _forward(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
            proxy.seen.append(Seen(self.command, self.path, dict(self.headers.items())))
            if refuse(self.path):
                refused = b'{"detail":"Invalid token."}'
                self.send_response(401)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(refused)))
                self.end_headers()
                self.wfile.write(refused)
                return
            rate = bandwidth(self.path)
            if rate is not None:
                self._paced(headers, body, rate)
                return
            answer = upstream.request(self.command, target + self.path, headers=headers, data=body,
                                      allow_redirects=False, timeout=30)
            self.send_response(answer.status_code)
            for key, value in answer.headers.items():
                if key.lower() not in HOP_BY_HOP:
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(answer.content)))
            self.end_headers()
            self.wfile.write(answer.content)

        def _paced(self, headers: dict[str, str], body: bytes, rate: float) -> None:
            with requests.request(self.command, target + self.path, headers=headers, data=body,
                                  allow_redirects=False, timeout=30, stream=True) as answer:
                self.send_response(answer.status_code)
                for key, value in answer.headers.items():
                    if key.lower() not in HOP_BY_HOP:
                        self.send_header(key, value)
                content = answer.raw.read()
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.flush()
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                began = time.monotonic()
                try:
                    for number, offset in enumerate(range(0, len(content), PIECE_BYTES), start=1):
                        time.sleep(max(began + number * PIECE_BYTES / rate - time.monotonic(), 0.0))
                        self.wfile.write(content[offset:offset + PIECE_BYTES])
                        self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True

        do_GET = do_POST = do_HEAD = do_PUT = do_DELETE = do_PATCH = _forward

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    proxy.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield proxy
    finally:
        server.shutdown()
