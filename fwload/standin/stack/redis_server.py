"""Redis for the stack: a throwaway ``redis-server`` in the foreground, or one given by URL.

The throwaway server keeps nothing on disk (no RDB snapshots, no AOF), so it never forks
a background save child and stops at once.
"""

from __future__ import annotations

import signal
from pathlib import Path
from urllib.parse import urlsplit

import psutil
import redis

from fwload.errors import UsageError
from fwload.standin.stack.process import ComponentCommand

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


def server_command(redis_server: Path, port: int, directory: Path) -> ComponentCommand:
    argv = [
        str(redis_server),
        "--bind",
        "127.0.0.1",
        "--port",
        str(port),
        "--daemonize",
        "no",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        str(directory),
        "--protected-mode",
        "yes",
    ]
    return ComponentCommand(name="redis", argv=argv, cwd=directory, stop_signal=signal.SIGTERM)


def ping(url: str) -> bool:
    client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


def check(url: str) -> int | None:
    """The server's PID when it runs here (INFO server), None elsewhere; UsageError if unreachable."""
    safe = _without_password(url)
    try:
        client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
    except ValueError as error:
        raise UsageError(
            f"--redis-url {safe!r} is not a Redis URL ({error})", "write it like redis://127.0.0.1:6379/0"
        ) from None
    try:
        info = client.info("server")
    except redis.RedisError as error:
        raise UsageError(
            f"cannot reach Redis at {safe} ({error})",
            "start it, or leave --redis-url out to get a throwaway redis-server",
        ) from None
    finally:
        client.close()
    pid = info.get("process_id")
    if urlsplit(url).hostname not in LOCAL_HOSTS or not isinstance(pid, int):
        return None
    try:
        return pid if "redis" in psutil.Process(pid).name() else None
    except psutil.Error:
        return None


def delete_prefixed(url: str, prefix: str) -> None:
    """Remove the keys one stand-in wrote on a shared server (sessions, cache, Celery queue)."""
    client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
    try:
        keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        for start in range(0, len(keys), 1000):
            client.delete(*keys[start : start + 1000])
    except redis.RedisError:
        pass
    finally:
        client.close()


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return parts._replace(netloc=user + netloc).geturl()
