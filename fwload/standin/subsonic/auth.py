"""Who calls a Subsonic method: ``u`` with ``p`` (clear or ``enc:<hex>``) or with ``t`` + ``s``.

From ``api/funkwhale_api/subsonic/authentication.py`` and the view's ``handle_exception``
(``subsonic/views.py``):

- no ``u``: nobody; a method needing a user answers code 10 "Required parameter is missing."
  (sample 58), ``ping`` and ``getLicense`` answer normally (sample 57);
- ``u`` without ``p`` and without both ``t`` and ``s``, an unknown user, a wrong password or
  token, a bad ``enc:`` hex: code 40 "Wrong username or password." (sample 60), for every
  method, ``ping`` included (authentication runs before permissions);
- ``p`` matches the Subsonic token of the user whose name equals ``u`` case-insensitively;
  ``t`` must be ``md5(token + s)`` for the user named exactly ``u``.

The Subsonic token is not the account password: it is the ``subsonic_api_token`` the
user generates (`fwload.standin.api.subsonic_token`).
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
from collections.abc import Mapping

from sqlalchemy import Connection, RowMapping, func, select

from fwload.standin.db.tables import subsonic_tokens, users


class WrongCredentials(Exception):
    """DRF's AuthenticationFailed: the view turns it into code 40."""


def salted(token: str, salt: str) -> str:
    return hashlib.md5((token + salt).encode("utf-8")).hexdigest()  # noqa: S324 - the Subsonic protocol's hash


def identify(conn: Connection, params: Mapping[str, str]) -> RowMapping | None:
    """The calling user, None without ``u``; `WrongCredentials` for anything else that fails."""
    username = params.get("u")
    if not username:
        return None
    password, salt, token = params.get("p"), params.get("s"), params.get("t")
    if not password and (not salt or not token):
        raise WrongCredentials()
    if password:
        if password.startswith("enc:"):
            try:
                password = binascii.unhexlify(password.removeprefix("enc:")).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                raise WrongCredentials() from None
        row = _user(conn, func.lower(users.c.username) == username.lower())
        if row is None or not hmac.compare_digest(row["token"], password):
            raise WrongCredentials()
        return row
    row = _user(conn, users.c.username == username)
    if row is None or not hmac.compare_digest(salted(row["token"], salt or ""), token or ""):
        raise WrongCredentials()
    return row


def _user(conn: Connection, condition: object) -> RowMapping | None:
    query = (
        select(users, subsonic_tokens.c.token)
        .join(subsonic_tokens, subsonic_tokens.c.user_id == users.c.id)
        .where(condition)  # type: ignore[arg-type]
    )
    return conn.execute(query).mappings().first()
