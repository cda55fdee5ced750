"""Accounts: creating users, the admin at start, and the upload quota in MB."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Connection, RowMapping, func, select

from fwload.standin.db.engine import now
from fwload.standin.db.tables import libraries, uploads, users
from fwload.standin.domain import preferences
from fwload.standin.security.passwords import PasswordHasher

QUOTA_STATUSES = ("draft", "skipped", "pending", "finished", "errored")


def by_id(conn: Connection, user_id: int) -> RowMapping | None:
    return conn.execute(select(users).where(users.c.id == user_id)).mappings().first()


def by_username(conn: Connection, username: str) -> RowMapping | None:
    return conn.execute(select(users).where(users.c.username == username)).mappings().first()


def username_taken(conn: Connection, username: str) -> bool:
    query = select(users.c.id).where(func.lower(users.c.username) == username.lower())
    return conn.execute(query).first() is not None


def email_taken(conn: Connection, email: str) -> bool:
    return (
        conn.execute(select(users.c.id).where(func.lower(users.c.email) == email.lower())).first() is not None
    )


def create(
    conn: Connection,
    hasher: PasswordHasher,
    *,
    username: str,
    email: str,
    password: str,
    superuser: bool = False,
) -> int:
    result = conn.execute(
        users.insert().values(
            username=username,
            email=email,
            password=hasher.hash(password),
            secret_key=str(uuid.uuid4()),
            is_superuser=superuser,
            privacy_level="instance",
            date_joined=now(),
        )
    )
    return int(result.inserted_primary_key[0])


def ensure_admin(conn: Connection, hasher: PasswordHasher, username: str, password: str) -> None:
    """Create the superuser, or give an existing one (kept data directory) this run's password."""
    existing = by_username(conn, username)
    if existing is None:
        create(
            conn,
            hasher,
            username=username,
            email=f"{username}@example.invalid",
            password=password,
            superuser=True,
        )
        return
    conn.execute(
        users.update()
        .where(users.c.id == existing["id"])
        .values(password=hasher.hash(password), secret_key=str(uuid.uuid4()), is_superuser=True)
    )


def quota_status(conn: Connection, user: RowMapping) -> dict[str, Any]:
    """Funkwhale's quota_status: every figure in MB of 10^6 bytes, all upload statuses counted."""
    sizes = dict(
        conn.execute(
            select(uploads.c.import_status, func.coalesce(func.sum(uploads.c.size), 0))
            .join(libraries, libraries.c.id == uploads.c.library_id)
            .where(libraries.c.user_id == user["id"])
            .group_by(uploads.c.import_status)
        ).all()
    )
    maximum = user["upload_quota"]
    if maximum is None:
        maximum = preferences.get(conn, "users__upload_quota")
    current = sum(sizes.values()) / 1e6
    status: dict[str, Any] = {"max": maximum, "remaining": max(maximum - current, 0), "current": current}
    status.update({name: sizes.get(name, 0) / 1e6 for name in QUOTA_STATUSES})
    return status
