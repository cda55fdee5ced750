"""Keep-alive connections that survive past 1,024 open files in one Locust process.

geventhttpclient (since 2.3.9, geventhttpclient/geventhttpclient PR #240) checks a pooled
connection before reusing it with ``select.select``, which cannot take a file descriptor of
1,024 or more: past about a thousand users in one process every check raises, the
connection is taken for dead, and every request opens a new TCP connection. A thousand
real-time listeners then reconnect for every track — TIME_WAIT sockets pile up, the server's
accept queue overflows, SYN retries add whole seconds to start-up delays. ``poll`` has no
such limit; the check is otherwise the same (an idle keep-alive socket must not be readable).
"""

from __future__ import annotations

import select
from typing import Any

from gevent import monkey
from geventhttpclient import connectionpool

_poll = monkey.get_original("select", "poll")
_READY = select.POLLIN | select.POLLPRI | select.POLLERR | select.POLLHUP | select.POLLNVAL


def is_socket_alive(_pool: Any, sock: Any) -> bool:
    """True when an idle pooled socket may be reused: open, and nothing to read (no FIN, no stray bytes)."""
    if sock is None:
        return False
    try:
        if sock.fileno() < 0:
            return False
        poller = _poll()
        poller.register(sock.fileno(), _READY)
        return not poller.poll(0)
    except (OSError, ValueError):
        return False


def install() -> None:
    """Replace the pool's check (once per process; a geventhttpclient without it is left alone)."""
    pool = connectionpool.ConnectionPool
    if hasattr(pool, "_is_socket_alive") and pool._is_socket_alive is not is_socket_alive:
        pool._is_socket_alive = is_socket_alive
