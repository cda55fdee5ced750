"""The answers a fault gives instead of the real one, dressed as the real stack dresses them.

- throttled: DRF's 429 ``{"detail": "Request was throttled. Expected available in N
  seconds."}`` with the headers of Funkwhale's ``ThrottleStatusMiddleware``; a throttled
  login is Django's HTML 500 page carrying the same headers (funkwhale-api.md §1.7, §12);
- 500: Django's error page; 502/503: nginx's pages, as when the upstream worker died;
- reset: the TCP connection is aborted (RST) before any byte of an answer.
"""

from __future__ import annotations

import asyncio
import logging
import math
import socket
import struct
import time
from collections.abc import Sequence

from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.types import Receive

from fwload.standin.api.errors import DJANGO_500

log = logging.getLogger("fwload.standin.faults")

_NGINX_TITLES = {502: "502 Bad Gateway", 503: "503 Service Temporarily Unavailable"}


def rate_limit_headers(limit: int, duration_s: int, scope: str, history: Sequence[float]) -> dict[str, str]:
    """Funkwhale's ThrottleStatusMiddleware, from the scope's history of accepted requests (newest first)."""
    headers = {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Scope": scope,
        "X-RateLimit-Remaining": str(max(limit - len(history), 0)),
        "X-RateLimit-Duration": str(duration_s),
    }
    if history:
        now = int(time.time())
        available = duration_s - (now - int(history[-1]))
        reset = duration_s - (now - int(history[0]))
        headers |= {
            "Retry-After": str(available),
            "X-RateLimit-Reset": str(now + reset),
            "X-RateLimit-ResetSeconds": str(reset),
        }
    return headers


def storm_headers(limit: int, duration_s: int, scope: str, retry_after_s: float) -> dict[str, str]:
    """The same headers for a storm, which throttles whatever the history: none left for ``retry_after_s``."""
    wait = math.ceil(retry_after_s)
    now = int(time.time())
    return {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Scope": scope,
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Duration": str(duration_s),
        "Retry-After": str(wait),
        "X-RateLimit-Reset": str(now + wait),
        "X-RateLimit-ResetSeconds": str(wait),
    }


def throttled(scope: str, headers: dict[str, str]) -> Response:
    if scope == "login":
        return HTMLResponse(DJANGO_500, status_code=500, headers=headers)
    wait = max(int(headers.get("Retry-After", "1")), 0)
    unit = "second" if wait == 1 else "seconds"
    body = {"detail": f"Request was throttled. Expected available in {wait} {unit}."}
    return JSONResponse(body, status_code=429, headers=headers)


def server_error(status: int) -> Response:
    if status == 500:
        return HTMLResponse(DJANGO_500, status_code=500)
    title = _NGINX_TITLES[status]
    page = f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n"
    return HTMLResponse(page + "<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n", status_code=status)


async def drain(receive: Receive) -> None:
    """Read the request body before answering without the app, so the connection stays usable."""
    while True:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            return


async def reset_connection(receive: Receive) -> bool:
    """Abort the connection with a TCP RST and no answer; False when the server hides its transport.

    uvicorn (alone, or as gunicorn's worker in stack mode) hands the app a bound ``receive``
    of its per-request cycle, which holds the transport: the only way to drop a connection
    from inside an ASGI app. A FIN would let HTTP clients silently retry idempotent requests;
    an RST makes the failure visible, once.
    """
    cycle = getattr(receive, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None:
        return False
    sock = transport.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            log.debug("SO_LINGER refused: the reset will be a plain close")
    transport.abort()
    for _ in range(20):
        if getattr(cycle, "disconnected", True):
            break
        await asyncio.sleep(0)
    return True
