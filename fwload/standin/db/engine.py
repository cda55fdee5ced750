"""Opening the database: one SQLAlchemy engine for any URL, tuned for SQLite when local.

SQLite runs in WAL mode so the import thread writes while requests read, with a busy
timeout instead of "database is locked" errors. Python's sqlite3 starts a transaction at
the first write of a `begin()` block, so each request takes the write lock only when it
needs it, which keeps the many read-only requests of a load test concurrent.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError

from fwload.errors import UsageError
from fwload.standin.db.tables import metadata

SQLITE_BUSY_TIMEOUT_S = 30


def now() -> datetime:
    """The current time, timezone-aware UTC (what every timestamp column stores)."""
    return datetime.now(UTC)


class Database:
    """The engine plus the two ways the app uses it: a transaction, or a read."""

    def __init__(self, url: str) -> None:
        try:
            parsed = make_url(url)
        except ArgumentError as error:
            raise UsageError(
                f"database URL {url!r} is not valid ({error})", "use e.g. sqlite:///path/db.sqlite3"
            ) from None
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        options: dict[str, Any] = {"future": True}
        if self.is_sqlite:
            if parsed.database:
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            options["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False}
            options["pool_size"] = 8
            options["max_overflow"] = 32
        self.engine: Engine = create_engine(parsed, **options)
        if self.is_sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas)

    def create_schema(self) -> None:
        """Create missing tables (a fresh data directory, or one from an earlier run)."""
        try:
            metadata.create_all(self.engine)
        except OperationalError as error:
            raise UsageError(
                f"cannot open the stand-in database ({error.orig})",
                "check that --data points to a writable directory",
            ) from None

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A transaction: committed when the block ends, rolled back if it raises."""
        with self.engine.begin() as conn:
            yield conn

    def dispose(self) -> None:
        self.engine.dispose()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes: they were stored as UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)
