"""Sort a failed request into one error kind (`schema.ERROR_KINDS`).

Each kind answers a different question in a report: ``throttled`` is the server's policy,
not slowness; ``proxy`` (502/503/504) is a worker killed or overloaded behind nginx;
``timeout`` is a server that accepted the connection and never answered (the OOM respawn
loop of funkwhale-under-seed-limits.md); ``connection`` is nothing listening at all;
``rejected`` is the server refusing a deliberately bad file, as the user meant it to.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Mapping

from fwload.funkwhale.api import throttle_of

PROXY_STATUSES = frozenset({502, 503, 504})
_QUERY = re.compile(r"\?[^\s\"']*=[^\s\"']*")
_TIMEOUT_WORDS = ("timed out", "timeout")


def error_kind(status: int, exception: BaseException | None, headers: Mapping[str, str] | None = None,
               refusals: tuple[int, ...] = ()) -> str:
    """``""`` for a success, else the kind. Called once per request: keep it cheap.

    ``refusals``: statuses the user provoked on purpose (its request context says so).
    """
    if status and status < 400 and exception is None:
        return ""
    if status == 429 or (status == 500 and throttle_of(status, headers) is not None):
        return "throttled"
    if exception is None and status in refusals:
        return "rejected"
    if status in PROXY_STATUSES:
        return "proxy"
    if status >= 400:
        return "http"
    if exception is not None and is_timeout(exception):
        return "timeout"
    if not status:
        return "connection"
    return "unexpected"


def is_timeout(exception: BaseException) -> bool:
    if isinstance(exception, TimeoutError | socket.timeout):
        return True
    name = type(exception).__name__.lower()
    if "timeout" in name:
        return True
    text = str(exception).lower()
    return any(word in text for word in _TIMEOUT_WORDS)


def short_error(exception: BaseException | None, status: int) -> str:
    """One line, no URL query strings (they may carry a listen token, or a Subsonic password
    as ``p=``, ``t=`` and ``s=``)."""
    if exception is None:
        return f"HTTP {status}" if status >= 400 else ""
    text = str(exception).splitlines()[0] if str(exception) else type(exception).__name__
    return _QUERY.sub("?***", text)[:200]
