"""Every Funkwhale 1.4 URL the suite uses (funkwhale-api.md), and nothing else.

Router routes take an optional trailing slash; the hand-written ones are strict: search and
login have none. Names double as Locust request names, so they are path templates.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

NODEINFO = "/api/v1/instance/nodeinfo/2.0/"
WELL_KNOWN_NODEINFO = "/.well-known/nodeinfo"
INSTANCE_SETTINGS = "/api/v1/instance/settings/"
ADMIN_SETTINGS_BULK = "/api/v1/instance/admin/settings/bulk/"
RATE_LIMIT = "/api/v1/rate-limit/"

REGISTRATION = "/api/v1/auth/registration/"
OAUTH_APPS = "/api/v1/oauth/apps/"
LOGIN = "/api/v1/users/login"
LOGOUT = "/api/v1/users/logout"
USERS_ME = "/api/v1/users/me/"

LIBRARIES = "/api/v1/libraries/"
UPLOADS = "/api/v1/uploads/"
TRACKS = "/api/v1/tracks/"
ALBUMS = "/api/v1/albums/"
ARTISTS = "/api/v1/artists/"
SEARCH = "/api/v1/search"

FAVORITES = "/api/v1/favorites/tracks/"
FAVORITES_REMOVE = "/api/v1/favorites/tracks/remove/"
FAVORITES_ALL = "/api/v1/favorites/tracks/all/"
PLAYLISTS = "/api/v1/playlists/"
LISTENINGS = "/api/v1/history/listenings/"

SUBSONIC_TOKEN_TEMPLATE = "/api/v1/users/[username]/subsonic-token/"
"""Request name for the Subsonic password of an account (GET reads it, POST makes a new one)."""

LISTEN_TEMPLATE = "/api/v1/listen/[track]/"
"""Request name for audio: the real path carries the track uuid (from ``listen_url``)."""


def upload(uuid: str) -> str:
    return f"{UPLOADS}{uuid}/"


def track(track_id: int) -> str:
    return f"{TRACKS}{track_id}/"


def playlist_add(playlist_id: int) -> str:
    return f"{PLAYLISTS}{playlist_id}/add/"


def playlist_tracks(playlist_id: int) -> str:
    return f"{PLAYLISTS}{playlist_id}/tracks/"


def subsonic_token(username: str) -> str:
    return f"/api/v1/users/{username}/subsonic-token/"


def path_in_base_url(url: str) -> str | None:
    """The base URL to use instead, when ``url`` carries a path (``https://x/api/v1/`` → ``https://x``).

    A Funkwhale instance is served from the root of its domain (FUNKWHALE_URL): every path
    above is absolute, so a base URL with a path would only ever get 404s.
    """
    parts = urlsplit(url.strip())
    if parts.path.strip("/"):
        return urlunsplit((parts.scheme, parts.netloc, "", "", ""))
    return None
