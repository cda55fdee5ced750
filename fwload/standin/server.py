"""Running the embedded stand-in in this process: bind, start, serve, stop cleanly.

The socket is bound before anything else so ``--port 0`` gets a free port whose number
the public URL (fids, nodeinfo links) can carry. SIGTERM ends the server as Ctrl-C does:
uvicorn drains connections, then the import worker and the database close.
"""

from __future__ import annotations

import errno
import logging
import signal
import socket
from collections.abc import Callable
from pathlib import Path
from types import FrameType

import uvicorn

from fwload.errors import UsageError
from fwload.standin.app import build_app
from fwload.standin.services import Services
from fwload.standin.settings import StandinSettings

GRACEFUL_SHUTDOWN_S = 5


class _Server(uvicorn.Server):
    """uvicorn, plus a callback once it accepts connections."""

    def __init__(self, config: uvicorn.Config, on_ready: Callable[[], None]) -> None:
        super().__init__(config)
        self._on_ready = on_ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            self._on_ready()


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket, or a UsageError saying why not."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as error:
        raise UsageError(
            f"cannot listen on host {host!r} ({error.strerror})", "use --host 127.0.0.1"
        ) from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        sock.listen(1024)
    except OSError as error:
        sock.close()
        fix = (
            "pick another --port, or --port 0 for a free one"
            if error.errno == errno.EADDRINUSE
            else ("use --host 127.0.0.1 and a port above 1023")
        )
        raise UsageError(f"cannot listen on {host}:{port} ({error.strerror})", fix) from None
    return sock


def url_for(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _stop_on_sigterm(_signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(0)


def prepare_data_dir(path: Path) -> None:
    try:
        (path / "media").mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(
            f"--data {path} is not a usable directory ({error.strerror})",
            "point --data to a writable directory",
        ) from None


def serve(settings: StandinSettings, on_ready: Callable[[StandinSettings], None]) -> None:
    """Serve until SIGTERM or Ctrl-C; `on_ready` gets the settings with the bound port and URL."""
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    prepare_data_dir(settings.data_dir)
    sock = bind(settings.host, settings.port)
    services: Services | None = None
    try:
        url = url_for(sock)
        resolved = settings.model_copy(
            update={"port": sock.getsockname()[1], "public_url": settings.public_url or url}
        )
        services = Services.build(resolved)
        services.start()
        for notice in services.notices:
            logging.getLogger("fwload.standin").warning(notice)
        config = uvicorn.Config(
            build_app(services, own_services=False),
            log_level="warning",
            access_log=False,  # listen URLs carry ?token= secrets; logging them is not allowed
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
            server_header=False,
        )
        _Server(config, on_ready=lambda: on_ready(resolved)).run(sockets=[sock])
    finally:
        if services is not None:
            services.stop()
        sock.close()
