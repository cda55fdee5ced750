"""nginx in front of Prometheus, letting through only ``Authorization: Bearer <token>``.

Prometheus itself checks no bearer token: clusters put it behind a proxy that does
(kube-rbac-proxy, oauth2-proxy, an ingress). This is the smallest such proxy, with the
system's nginx on 127.0.0.1 and a free port; anything else gets nginx's own 401.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Self

from tests.prometheus.server import free_port

_CONFIG = """\
daemon off;
master_process on;
worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {root}/tmp/body;
    proxy_temp_path {root}/tmp/proxy;
    fastcgi_temp_path {root}/tmp/fastcgi;
    uwsgi_temp_path {root}/tmp/uwsgi;
    scgi_temp_path {root}/tmp/scgi;
    server {{
        listen 127.0.0.1:{port};
        location / {{
            if ($http_authorization != "Bearer {token}") {{ return 401; }}
            proxy_pass {upstream};
        }}
    }}
}}
"""


class BearerProxy:
    """``with BearerProxy(prometheus_url, token) as proxy:`` → ``proxy.url``."""

    def __init__(self, upstream: str, token: str):
        binary = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")
        if binary is None:
            raise RuntimeError("nginx is not installed: apt-get install -y nginx-light (.ci/run does)")
        self.binary = binary
        self.upstream, self.token = upstream, token
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._folder = tempfile.TemporaryDirectory(prefix="fwload-test-prom-proxy-")
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Self:
        root = Path(self._folder.name)
        (root / "tmp").mkdir()
        (root / "nginx.conf").write_text(_CONFIG.format(root=root, port=self.port, token=self.token,
                                                        upstream=self.upstream))
        self._process = subprocess.Popen([self.binary, "-p", str(root), "-c", str(root / "nginx.conf"),
                                          "-e", str(root / "error.log")],
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"nginx exited: {(root / 'error.log').read_text()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        self.__exit__(None, None, None)
        raise RuntimeError("nginx did not listen within 10 s")

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._folder.cleanup()
