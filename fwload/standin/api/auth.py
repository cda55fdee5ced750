"""Who is calling: Funkwhale's authentication classes, in their order, and its permissions.

Order (funkwhale-api.md §1.1): Bearer application token, HTTP Basic, session cookie, and
on listen URLs the signed ``?token=``. An unknown Bearer token fails silently (the next
class gets its chance); a wrong Basic password is a 401 at once. A Bearer request costs
one indexed lookup of the token's SHA-256; Basic costs a PBKDF2 check, as for real.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import Connection, RowMapping, select
from starlette.requests import Request
from starlette.responses import Response

from fwload.standin.api.errors import WWW_AUTHENTICATE, ApiError, not_authenticated, permission_denied
from fwload.standin.db.tables import apps, users
from fwload.standin.domain import preferences
from fwload.standin.domain import users as accounts
from fwload.standin.security.tokens import digest, new_session_id
from fwload.standin.services import Services

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
SESSION_COOKIE = "sessionid"
CSRF_COOKIE = "csrftoken"
SESSION_TTL_S = 3600 * 25 * 60
CSRF_COOKIE_AGE_S = 31_449_600

Access = Literal["none", "public", "user", "authenticated", "listen", "admin"]
"""none: no authentication at all (nodeinfo); public: anyone, credentials checked if sent;
user: anonymous may read only when the API is open (common__api_authentication_required=false);
authenticated: always a user; listen: like user, plus ?token=; admin: a user with the 'settings'
permission."""


@dataclass(frozen=True)
class Identity:
    user: RowMapping | None = None
    via: Literal["anonymous", "app_token", "basic", "session", "listen_token", "subsonic"] = "anonymous"
    scopes: frozenset[str] | None = None
    """The app token's or listen token's scopes; None for a logged-in user (every scope)."""
    challenge: str = WWW_AUTHENTICATE

    def allows(self, required: str) -> bool:
        """'read' grants 'read:libraries'; 'write' grants every 'write:...' scope."""
        if self.scopes is None:
            return True
        return any(required == scope or required.startswith(scope + ":") for scope in self.scopes)


def session_key(session_id: str) -> str:
    return f"session:{digest(session_id)}"


def identify(conn: Connection, services: Services, request: Request, *, listen: bool = False) -> Identity:
    challenge = WWW_AUTHENTICATE
    parts = request.headers.get("authorization", "").split()
    scheme = parts[0].lower() if parts else ""
    if scheme == "bearer" and len(parts) >= 2:
        row = (
            conn.execute(
                select(users, apps.c.scopes.label("app_scopes"))
                .join(apps, apps.c.user_id == users.c.id)
                .where(apps.c.token_hash == digest(parts[-1]))
            )
            .mappings()
            .first()
        )
        if row is not None:
            return Identity(row, "app_token", frozenset(row["app_scopes"].split()))
        challenge = 'Bearer realm="api", error="invalid_token"'
    elif scheme == "basic":
        return Identity(_basic_user(conn, services, parts), "basic")
    session_id = request.cookies.get(SESSION_COOKIE)
    if session_id:
        session = services.cache.get(session_key(session_id))
        user = accounts.by_id(conn, session["user_id"]) if session else None
        if user is not None and hmac.compare_digest(digest(user["secret_key"]), session["secret"]):
            return Identity(user, "session")
    token = request.query_params.get("token")
    if listen and token:
        grant = services.listen_tokens.verify(token)
        user = accounts.by_id(conn, grant.user_id) if grant else None
        if grant is None or user is None or not hmac.compare_digest(user["secret_key"], grant.user_secret):
            raise not_authenticated("Invalid token", challenge)
        return Identity(user, "listen_token", frozenset(grant.scopes))
    return Identity(challenge=challenge)


def _basic_user(conn: Connection, services: Services, parts: list[str]) -> RowMapping:
    """DRF BasicAuthentication, messages included."""
    if len(parts) == 1:
        raise not_authenticated("Invalid basic header. No credentials provided.")
    if len(parts) > 2:
        raise not_authenticated("Invalid basic header. Credentials string should not contain spaces.")
    try:
        decoded = base64.b64decode(parts[1], validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise not_authenticated("Invalid basic header. Credentials not correctly base64 encoded.") from None
    username, _, password = decoded.partition(":")
    user = accounts.by_username(conn, username)
    valid = services.hasher.check(password, user["password"] if user else None)
    if user is None or not valid:
        raise not_authenticated("Invalid username/password.")
    return user


def authorize(
    conn: Connection, identity: Identity, method: str, *, access: Access, scope: str | None
) -> None:
    """Funkwhale's ScopePermission plus the anonymous policy: 401 for nobody, 403 for not allowed."""
    safe = method in SAFE_METHODS
    if access in ("none", "public"):
        return
    if identity.user is None:
        if (
            access in ("user", "listen")
            and safe
            and not preferences.get(conn, "common__api_authentication_required")
        ):
            return
        raise not_authenticated(challenge=identity.challenge)
    if scope is not None and not identity.allows(f"{'read' if safe else 'write'}:{scope}"):
        raise permission_denied()
    if access == "admin" and not identity.user["is_superuser"]:
        raise permission_denied()


def check_session_csrf(identity: Identity, request: Request) -> None:
    """DRF's SessionAuthentication: unsafe requests of a session need the CSRF header."""
    if identity.via != "session" or request.method in SAFE_METHODS:
        return
    cookie = request.cookies.get(CSRF_COOKIE, "")
    if not cookie:
        raise ApiError(403, {"detail": "CSRF Failed: CSRF cookie not set."})
    header = request.headers.get("x-csrftoken", "")
    if not header or not hmac.compare_digest(header, cookie):
        raise ApiError(403, {"detail": "CSRF Failed: CSRF token missing or incorrect."})


def set_csrf_cookie(response: Response, token: str) -> None:
    response.set_cookie(CSRF_COOKIE, token, max_age=CSRF_COOKIE_AGE_S, path="/", samesite="lax")


def set_session_cookie(response: Response, session_id: str) -> None:
    response.set_cookie(
        SESSION_COOKIE, session_id, max_age=SESSION_TTL_S, path="/", httponly=True, samesite="lax"
    )


def open_session(services: Services, user: RowMapping) -> str:
    """Log `user` in (Django's login): a new session id, stored in the cache."""
    session_id = new_session_id()
    services.cache.set(
        session_key(session_id), {"user_id": user["id"], "secret": digest(user["secret_key"])}, SESSION_TTL_S
    )
    return session_id
