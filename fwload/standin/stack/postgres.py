"""PostgreSQL for the stack: a throwaway database on a running server, or a throwaway cluster.

A server that was already running is used, never confined: moving a running server into
a cgroup does not move its memory (funkwhale-under-seed-limits.md §2), so its numbers
would mean nothing. ``--own-postgres`` starts a cluster (``initdb`` then ``postgres`` in
the foreground, inside its cgroup) that can be confined from its first instruction.
PostgreSQL refuses to run as root; as root, the cluster runs as the ``postgres`` user.
"""

from __future__ import annotations

import os
import pwd
import signal
import subprocess
from pathlib import Path

import psutil
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from fwload.errors import UsageError
from fwload.standin.stack.process import ComponentCommand

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "", None}
CONNECT_TIMEOUT_S = 5
SERVER_SETTINGS = {"shared_buffers": "256MB", "max_connections": "200"}
"""As in the measured real setup (PostgreSQL 15, funkwhale-under-seed-limits.md)."""


def parse_url(url: str, option: str = "--database-url") -> URL:
    """A PostgreSQL URL for SQLAlchemy's psycopg 3 driver (``postgres://`` and ``postgresql://`` accepted)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise UsageError(
            f"{option} {url!r} is not a URL", "write it like postgresql://postgres@127.0.0.1:5432/"
        ) from None
    if parsed.get_backend_name() not in ("postgresql", "postgres"):
        raise UsageError(
            f"{option} must be a PostgreSQL URL, not {parsed.drivername}",
            "write it like postgresql://postgres@127.0.0.1:5432/",
        )
    return parsed.set(drivername="postgresql+psycopg")


def safe(url: URL) -> str:
    return url.render_as_string(hide_password=True)


class Server:
    """A reachable PostgreSQL server: makes and drops the stack's throwaway database."""

    def __init__(self, url: URL) -> None:
        self.url = url

    def _admin(self) -> Engine:
        """An engine on the maintenance database, outside transactions (CREATE DATABASE needs it)."""
        return create_engine(
            self.url.set(database="postgres"),
            isolation_level="AUTOCOMMIT",
            connect_args={"connect_timeout": CONNECT_TIMEOUT_S},
            poolclass=NullPool,
        )

    def check(self) -> int:
        """The PID of the backend serving us (its parent is the server); UsageError when unreachable."""
        engine = self._admin()
        try:
            with engine.connect() as conn:
                return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())
        except SQLAlchemyError as error:
            raise UsageError(
                f"cannot reach PostgreSQL at {safe(self.url)} ({_reason(error)})",
                "start it, point --database-url at a running server, or use --own-postgres",
            ) from None
        finally:
            engine.dispose()

    def create_database(self, name: str) -> URL:
        self._run(f'CREATE DATABASE "{name}"')
        return self.url.set(database=name)

    def drop_database(self, name: str) -> None:
        self._run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def _run(self, statement: str) -> None:
        engine = self._admin()
        try:
            with engine.connect() as conn:
                conn.execute(text(statement))
        except SQLAlchemyError as error:
            raise UsageError(
                f"PostgreSQL at {safe(self.url)} refused {statement.split(' (')[0]!r} ({_reason(error)})",
                "use a role that may create databases",
            ) from None
        finally:
            engine.dispose()

    def local_pid(self, backend_pid: int) -> int | None:
        """The server's main PID when it runs on this machine, so the collector can sample it."""
        if self.url.host not in LOCAL_HOSTS:
            return None
        try:
            parent = psutil.Process(backend_pid).parent()
        except psutil.Error:
            return None
        return parent.pid if parent is not None and "postgres" in parent.name() else None


def run_as() -> str | None:
    """The user the cluster runs as: ``postgres`` when we are root, else ourselves (None)."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        raise UsageError(
            "--own-postgres as root needs a 'postgres' user (PostgreSQL refuses to run as root)",
            "create it (useradd --system postgres) or run without --own-postgres",
        ) from None
    return "postgres"


def init_cluster(initdb: Path, directory: Path, user: str | None) -> None:
    """``initdb`` a fresh cluster with trust authentication on loopback (a throwaway)."""
    directory.mkdir(mode=0o700)
    if user is not None:
        entry = pwd.getpwnam(user)
        os.chown(directory, entry.pw_uid, entry.pw_gid)
    done = subprocess.run(
        [str(initdb), "-D", str(directory), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C"],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        cwd=directory,
        stdin=subprocess.DEVNULL,
        user=user,
        group=pwd.getpwnam(user).pw_gid if user else None,
        extra_groups=[] if user else None,
    )
    if done.returncode != 0:
        raise UsageError(
            f"initdb failed: {(done.stderr or done.stdout).strip()[-600:]}",
            "check that the stand-in's temporary folder is writable, or use --database-url",
        )


def cluster_command(postgres: Path, directory: Path, port: int, user: str | None) -> ComponentCommand:
    settings = {"listen_addresses": "127.0.0.1", "unix_socket_directories": "", **SERVER_SETTINGS}
    argv = [str(postgres), "-D", str(directory), "-p", str(port)]
    for key, value in settings.items():
        argv += ["-c", f"{key}={value}"]
    return ComponentCommand(name="postgres", argv=argv, cwd=directory, user=user, stop_signal=signal.SIGINT)


def cluster_url(port: int) -> URL:
    return parse_url(f"postgresql://postgres@127.0.0.1:{port}/")


def _reason(error: SQLAlchemyError) -> str:
    original = getattr(error, "orig", None) or error
    return str(original).strip().splitlines()[0] if str(original).strip() else type(original).__name__
