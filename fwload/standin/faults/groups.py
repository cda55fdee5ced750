"""Which request group and which Funkwhale throttle scope a request falls in, from its method and path.

The one place that maps server paths to `schema.REQUEST_GROUPS`. It mirrors the ``group=``
the user classes give each call (an upload POST is ``upload``, listing uploads is what
``import_poll`` does), so the stand-in's counts line up with requests.csv group by group.
"""

from __future__ import annotations

import re

OTHER = "other"
"""Requests outside every group (unknown URLs, the web UI): counted, never matched by a group rule."""

_GROUPS: tuple[tuple[str | None, str, str], ...] = (
    (None, "/api/v1/instance/", "instance"),
    (None, "/api/v2/instance/", "instance"),
    (None, "/.well-known/", "instance"),
    (None, "/api/v1/rate-limit", "instance"),
    (None, "/api/v1/auth/", "auth"),
    (None, "/api/v1/oauth/", "auth"),
    (None, "/api/v1/users/", "auth"),
    (None, "/api/v1/libraries", "library"),
    ("POST", "/api/v1/uploads", "upload"),
    (None, "/api/v1/uploads", "import_poll"),
    (None, "/api/v1/tracks", "browse"),
    (None, "/api/v1/albums", "browse"),
    (None, "/api/v1/artists", "browse"),
    (None, "/api/v1/search", "search"),
    (None, "/api/v1/listen/", "listen"),
    (None, "/api/v1/favorites/", "favorites"),
    (None, "/api/v1/playlists", "playlists"),
    (None, "/api/v1/history/", "history"),
    (None, "/api/subsonic/", "subsonic"),
    (None, "/rest/", "subsonic"),
)
"""(method or None for any, path prefix, group): the first match wins."""

_DETAIL = re.compile(r"^(\d+|[0-9a-fA-F-]{32,36})$")
_ACTIONS = {"POST": "create", "PUT": "update", "PATCH": "update", "DELETE": "destroy"}


def request_group(method: str, path: str) -> str:
    for wanted, prefix, group in _GROUPS:
        if path.startswith(prefix) and (wanted is None or wanted == method):
            return group
    return OTHER


def throttle_scope(method: str, path: str, authenticated: bool) -> str:
    """Funkwhale's throttle scope (funkwhale-api.md §1.7): named scopes first, else who + action.

    The action follows DRF's viewsets: GET on a collection is ``list``, on one object
    (the last path segment is an id or uuid) ``retrieve``.
    """
    if path.startswith("/api/v1/users/login"):
        return "login"
    if path.startswith("/api/v1/auth/registration"):
        return "signup"
    if path.startswith(("/api/subsonic/", "/rest/")):
        return "subsonic"
    if path.startswith("/api/v1/oauth/token"):
        return "oauth-token"
    who = "authenticated" if authenticated else "anonymous"
    if path.startswith("/api/v1/oauth/apps") and method == "POST":
        return f"{who}-oauth-app"
    if method in ("GET", "HEAD"):
        last = path.rstrip("/").rsplit("/", 1)[-1]
        return f"{who}-{'retrieve' if _DETAIL.match(last) else 'list'}"
    return f"{who}-{_ACTIONS.get(method, 'wildcard')}"
