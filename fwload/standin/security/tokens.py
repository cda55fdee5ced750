"""Every random or signed credential the stand-in hands out, in Funkwhale's formats.

- application token: five random dictionary words joined by '-' (users/models.py::get_token);
- OAuth client id (40 characters) and client secret (128 hex);
- registration ``key``: 40 hex (a DRF authtoken, which Funkwhale does not accept for auth);
- session id and CSRF token: Django's lengths (32 and 64 characters);
- listen token: signed {user_id, user_secret, scopes}, salt ``scoped_tokens``, valid 3 days,
  void once the user's secret key rotates (password change).
"""

from __future__ import annotations

import hashlib
import secrets
import string
from dataclasses import dataclass
from functools import cache

from itsdangerous import BadData, URLSafeTimedSerializer
from xkcdpass import xkcd_password

LISTEN_TOKEN_MAX_AGE_S = 3 * 24 * 3600
_ALNUM = string.ascii_letters + string.digits


@cache
def _words() -> list[str]:
    return xkcd_password.generate_wordlist(
        wordfile=xkcd_password.locate_wordfile(), min_length=3, max_length=9, valid_chars="[a-z]"
    )


def new_app_token() -> str:
    return xkcd_password.generate_xkcdpassword(_words(), numwords=5, delimiter="-")


def new_client_id() -> str:
    return "".join(secrets.choice(_ALNUM) for _ in range(40))


def new_client_secret() -> str:
    return secrets.token_hex(64)


def new_registration_key() -> str:
    return secrets.token_hex(20)


def new_session_id() -> str:
    return "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(32))


def new_csrf_token() -> str:
    return "".join(secrets.choice(_ALNUM) for _ in range(64))


def digest(token: str) -> str:
    """What the database keeps of a random token: enough to look it up, useless to steal."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class ListenGrant:
    user_id: int
    user_secret: str
    scopes: tuple[str, ...]


class ListenTokens:
    """Signs and checks the ``tokens.listen`` value accepted as ``?token=`` on listen URLs."""

    def __init__(self, secret_key: str) -> None:
        self._serializer = URLSafeTimedSerializer(secret_key, salt="scoped_tokens")

    def issue(self, user_id: int, user_secret: str, scopes: list[str]) -> str:
        return self._serializer.dumps(
            {"user_id": user_id, "user_secret": user_secret, "scopes": sorted(scopes)}
        )

    def verify(self, token: str) -> ListenGrant | None:
        try:
            payload = self._serializer.loads(token, max_age=LISTEN_TOKEN_MAX_AGE_S)
            return ListenGrant(int(payload["user_id"]), str(payload["user_secret"]), tuple(payload["scopes"]))
        except (BadData, KeyError, TypeError, ValueError):
            return None
