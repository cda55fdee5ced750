"""Accounts and credentials: registration, session login/logout, the current user, OAuth
apps (with the personal application token) and the OAuth token endpoint.

Login and logout are plain Django views on the real server: Django's CSRF middleware
guards them (an HTML 403 without the token) and they read form bodies only.
"""

from __future__ import annotations

import hmac
import re
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from fwload.standin.api import shapes
from fwload.standin.api.auth import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    open_session,
    session_key,
    set_csrf_cookie,
    set_session_cookie,
)
from fwload.standin.api.errors import REQUIRED, ApiError, csrf_failure, invalid
from fwload.standin.api.views import Call, api_view, created
from fwload.standin.db.engine import now
from fwload.standin.db.tables import apps
from fwload.standin.domain import preferences
from fwload.standin.domain import users as accounts
from fwload.standin.security import tokens
from fwload.standin.security.passwords import password_problems, similarity_problems
from fwload.standin.services import Services

USERNAME = re.compile(r"^\w+$", re.ASCII)
EMAIL = re.compile(
    r"^[-!#$%&'*+/=?^_`{}|~0-9a-z]+(\.[-!#$%&'*+/=?^_`{}|~0-9a-z]+)*"
    r"@((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}(?<!-)|localhost)$",
    re.IGNORECASE,
)
RESERVED_USERNAMES = frozenset(
    {
        "funkwhale", "library", "instance", "test", "status", "root", "admin", "owner", "superuser", "staff",
        "service", "me", "ghost", "_", "-", "hello", "contact", "inbox", "outbox", "shared-inbox",
        "shared_inbox", "actor",
    }
)  # fmt: skip
SUPPORT_MESSAGE_DELAY = timedelta(days=15)
EMPTY_HTML = "text/html; charset=utf-8"


def _text(
    call: Call, name: str, errors: dict[str, list[str]], *, max_length: int | None = None
) -> str | None:
    """A DRF CharField: required, trimmed, not blank, maybe bounded."""
    value = call.payload.get(name)
    if value is None:
        errors[name] = [REQUIRED]
        return None
    value = str(value).strip()
    if not value:
        errors[name] = ["This field may not be blank."]
        return None
    if max_length is not None and len(value) > max_length:
        errors[name] = [f"Ensure this field has no more than {max_length} characters."]
        return None
    return value


@api_view(access="public")
def register(call: Call) -> Response:
    """dj-rest-auth registration with Funkwhale's rules; logs the new user in (sample 06)."""
    if not call.payload.get("invitation") and not preferences.get(call.conn, "users__registration_enabled"):
        raise ApiError(403, {"detail": "Registration has been disabled"})
    errors: dict[str, list[str]] = {}
    username = _text(call, "username", errors, max_length=150)
    if username is not None:
        if not USERNAME.match(username):
            errors["username"] = [
                (
                    "Enter a valid username. "
                    "This value may contain only English letters, numbers, and _ characters."
                )
            ]
        elif username.lower() in RESERVED_USERNAMES:
            errors["username"] = ["Username can not be used. Please use other username."]
        elif accounts.username_taken(call.conn, username):
            errors["username"] = ["A user with that username already exists."]
    email = _text(call, "email", errors)
    if email is not None:
        if not EMAIL.match(email):
            errors["email"] = ["Enter a valid email address."]
        elif accounts.email_taken(call.conn, email):
            errors["email"] = ["A user is already registered with this e-mail address."]
    password1 = _text(call, "password1", errors)
    if password1 is not None and (problems := password_problems(password1)):
        errors["password1"] = problems
    password2 = _text(call, "password2", errors)
    if errors:
        raise invalid(errors)
    assert username and email and password1 and password2
    if password1 != password2:
        raise invalid({"non_field_errors": ["The two password fields didn't match."]})
    if problems := similarity_problems(password1, username=username, email=email):
        raise invalid({"non_field_errors": problems})
    user_id = accounts.create(
        call.conn, call.services.hasher, username=username, email=email, password=password1
    )
    user = accounts.by_id(call.conn, user_id)
    assert user is not None
    response = created({"key": tokens.new_registration_key()})
    set_csrf_cookie(response, tokens.new_csrf_token())
    set_session_cookie(response, open_session(call.services, user))
    return response


@api_view(access="authenticated", scope="profile")
def me(call: Call) -> dict[str, Any]:
    """MeSerializer (sample 16): tokens.listen is a signed token for ?token= on listen URLs."""
    user = call.user
    superuser = bool(user["is_superuser"])
    support_date = shapes.iso(user["date_joined"] + SUPPORT_MESSAGE_DELAY)
    domain = call.services.instance.domain
    return {
        "id": user["id"],
        "username": user["username"],
        "full_username": f"{user['username']}@{domain}",
        "name": "",
        "email": user["email"],
        "is_staff": superuser,
        "is_superuser": superuser,
        "permissions": {"library": superuser, "moderation": superuser, "settings": superuser},
        "date_joined": shapes.iso(user["date_joined"]),
        "privacy_level": user["privacy_level"],
        "avatar": None,
        "quota_status": accounts.quota_status(call.conn, user),
        "instance_support_message_display_date": support_date,
        "funkwhale_support_message_display_date": support_date,
        "summary": None,
        "tokens": {
            "listen": call.services.listen_tokens.issue(user["id"], user["secret_key"], ["read:libraries"])
        },
        "settings": None,
    }


@api_view(access="public")
def create_app(call: Call) -> Response:
    """An OAuth app; when the caller is authenticated it also carries the application token."""
    errors: dict[str, list[str]] = {}
    name = _text(call, "name", errors, max_length=255)
    if errors:
        raise invalid(errors)
    scopes = str(call.payload.get("scopes") or "read").strip()
    redirect_uris = str(call.payload.get("redirect_uris") or "")
    client_secret = tokens.new_client_secret()
    token = tokens.new_app_token() if call.identity.user is not None else None
    moment = now()
    values = {
        "client_id": tokens.new_client_id(),
        "name": name,
        "scopes": scopes,
        "redirect_uris": redirect_uris,
        "client_secret_hash": tokens.digest(client_secret),
        "token_hash": tokens.digest(token) if token else None,
        "user_id": call.viewer_id,
        "created": moment,
        "updated": moment,
    }
    call.conn.execute(apps.insert().values(**values))
    body: dict[str, Any] = {
        "client_id": values["client_id"],
        "name": name,
        "scopes": scopes,
        "client_secret": client_secret,
        "created": shapes.iso(moment),
        "updated": shapes.iso(moment),
        "redirect_uris": redirect_uris,
    }
    if token:
        body["token"] = token
    return created(body)


@api_view(access="none")
def oauth_token(call: Call) -> JSONResponse:
    """Only authorization-code apps exist, so the password grant is refused (sample 15)."""
    client_id = call.payload.get("client_id")
    secret = call.payload.get("client_secret")
    app = None
    if client_id and secret:
        app = call.conn.execute(select(apps).where(apps.c.client_id == str(client_id))).mappings().first()
    if app is None or app["client_secret_hash"] != tokens.digest(str(secret)):
        return JSONResponse({"error": "invalid_client"}, status_code=401)
    grant = call.payload.get("grant_type")
    if grant in ("password", "client_credentials"):
        return JSONResponse({"error": "unauthorized_client"}, status_code=400)
    if grant in ("authorization_code", "refresh_token"):
        return JSONResponse({"error": "invalid_grant"}, status_code=400)
    return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)


def _csrf_checked(request: Request, form_token: str | None) -> None:
    """Django's CsrfViewMiddleware for the two non-DRF views."""
    cookie = request.cookies.get(CSRF_COOKIE, "")
    if not cookie:
        raise csrf_failure("CSRF cookie not set.")
    sent = request.headers.get("x-csrftoken") or form_token or ""
    if not sent or not hmac.compare_digest(sent, cookie):
        raise csrf_failure("CSRF token missing or incorrect.")


async def _form(request: Request) -> dict[str, str]:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return {}
    form = await request.form(max_files=0, max_fields=100)
    return {key: value for key, value in form.items() if isinstance(value, str)}


async def login(request: Request) -> Response:
    """Form login; 200 empty, a session and a rotated csrftoken (sample 11)."""
    services: Services = request.app.state.services
    fields = await _form(request)
    _csrf_checked(request, fields.get("csrfmiddlewaretoken"))
    errors = {name: [REQUIRED] for name in ("username", "password") if not fields.get(name)}
    if errors:
        raise invalid(errors)

    def check() -> Any:
        with services.db.begin() as conn:
            user = accounts.by_username(conn, fields["username"])
            valid = services.hasher.check(fields["password"], user["password"] if user else None)
            return user if valid else None

    user = await run_in_threadpool(check)
    if user is None:
        raise invalid({"non_field_errors": ["Unable to log in with provided credentials"]})
    response = Response(b"", media_type=EMPTY_HTML)
    set_session_cookie(response, open_session(services, user))
    set_csrf_cookie(response, tokens.new_csrf_token())
    return response


async def logout(request: Request) -> Response:
    services: Services = request.app.state.services
    fields = await _form(request)
    _csrf_checked(request, fields.get("csrfmiddlewaretoken"))
    session_id = request.cookies.get(SESSION_COOKIE)
    response = Response(b"", media_type=EMPTY_HTML)
    if session_id:
        services.cache.delete(session_key(session_id))
        response.delete_cookie(SESSION_COOKIE, path="/")
    set_csrf_cookie(response, request.cookies[CSRF_COOKIE])
    return response
