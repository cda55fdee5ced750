"""The URL map. Router-registered Funkwhale routes take the trailing slash optionally
(OptionalSlashRouter); hand-written ones are strict: ``/api/v1/search`` has none,
``/.well-known/nodeinfo`` has none, registration needs its slash."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.routing import BaseRoute, Route

from fwload.standin.api import (
    accounts,
    browse,
    favorites,
    history,
    instance,
    libraries,
    listen,
    playlists,
    search,
    subsonic_token,
    uploads,
)
from fwload.standin.subsonic import views as subsonic


def optional_slash(path: str, endpoint: Callable[..., Any], methods: list[str]) -> list[BaseRoute]:
    """`path` (written with its trailing slash) and the same without it."""
    return [Route(path, endpoint, methods=methods), Route(path.rstrip("/"), endpoint, methods=methods)]


def strict(path: str, endpoint: Callable[..., Any], methods: list[str]) -> list[BaseRoute]:
    return [Route(path, endpoint, methods=methods)]


V1 = "/api/v1"
GET, POST, DELETE = ["GET"], ["POST"], ["DELETE"]

_TABLE: list[tuple[Callable[..., list[BaseRoute]], str, Callable[..., Any], list[str]]] = [
    (optional_slash, f"{V1}/instance/nodeinfo/2.0/", instance.nodeinfo, GET),
    (strict, "/.well-known/nodeinfo", instance.well_known_nodeinfo, GET),
    (optional_slash, f"{V1}/instance/settings/", instance.instance_settings, GET),
    (optional_slash, f"{V1}/instance/admin/settings/", instance.admin_settings, GET),
    (optional_slash, f"{V1}/instance/admin/settings/bulk/", instance.admin_settings_bulk, POST),
    (optional_slash, f"{V1}/rate-limit/", instance.rate_limit, GET),
    (strict, f"{V1}/auth/registration/", accounts.register, POST),
    (optional_slash, f"{V1}/users/login/", accounts.login, POST),
    (optional_slash, f"{V1}/users/logout/", accounts.logout, POST),
    (optional_slash, f"{V1}/users/me/", accounts.me, GET),
    (optional_slash, f"{V1}/users/users/me/", accounts.me, GET),
    (optional_slash, f"{V1}/users/{{username}}/subsonic-token/", subsonic_token.subsonic_token,
     ["GET", "POST", "DELETE"]),
    (optional_slash, f"{V1}/oauth/apps/", accounts.create_app, POST),
    (optional_slash, f"{V1}/oauth/token/", accounts.oauth_token, POST),
    (optional_slash, f"{V1}/libraries/", libraries.list_libraries, GET),
    (optional_slash, f"{V1}/libraries/", libraries.create_library, POST),
    (optional_slash, f"{V1}/libraries/{{uuid}}/", libraries.get_library, GET),
    (optional_slash, f"{V1}/libraries/{{uuid}}/", libraries.delete_library, DELETE),
    (optional_slash, f"{V1}/uploads/", uploads.list_uploads, GET),
    (optional_slash, f"{V1}/uploads/", uploads.create_upload, POST),
    (optional_slash, f"{V1}/uploads/{{uuid}}/", uploads.get_upload, GET),
    (optional_slash, f"{V1}/uploads/{{uuid}}/", uploads.delete_upload, DELETE),
    (optional_slash, f"{V1}/tracks/", browse.list_tracks, GET),
    (optional_slash, f"{V1}/tracks/{{id}}/", browse.get_track, GET),
    (optional_slash, f"{V1}/albums/", browse.list_albums, GET),
    (optional_slash, f"{V1}/albums/{{id}}/", browse.get_album, GET),
    (optional_slash, f"{V1}/artists/", browse.list_artists, GET),
    (optional_slash, f"{V1}/artists/{{id}}/", browse.get_artist, GET),
    (strict, f"{V1}/search", search.search, GET),
    (optional_slash, f"{V1}/favorites/tracks/", favorites.list_favorites, GET),
    (optional_slash, f"{V1}/favorites/tracks/", favorites.add_favorite, POST),
    (optional_slash, f"{V1}/favorites/tracks/remove/", favorites.remove_favorite, ["POST", "DELETE"]),
    (optional_slash, f"{V1}/favorites/tracks/all/", favorites.all_favorites, GET),
    (optional_slash, f"{V1}/playlists/", playlists.list_playlists, GET),
    (optional_slash, f"{V1}/playlists/", playlists.create_playlist, POST),
    (optional_slash, f"{V1}/playlists/{{id}}/", playlists.get_playlist, GET),
    (optional_slash, f"{V1}/playlists/{{id}}/", playlists.delete_playlist, DELETE),
    (optional_slash, f"{V1}/playlists/{{id}}/add/", playlists.add_tracks, POST),
    (optional_slash, f"{V1}/playlists/{{id}}/tracks/", playlists.playlist_tracks_view, GET),
    (optional_slash, f"{V1}/playlists/{{id}}/clear/", playlists.clear_playlist, DELETE),
    (optional_slash, f"{V1}/history/listenings/", history.list_listenings, GET),
    (optional_slash, f"{V1}/history/listenings/", history.add_listening, POST),
    (optional_slash, f"{V1}/listen/{{uuid}}/", listen.listen, GET),
    (strict, "/api/subsonic/rest/{method}", subsonic.subsonic, ["GET", "POST"]),
]

NGINX_TABLE: list[tuple[Callable[..., list[BaseRoute]], str, Callable[..., Any], list[str]]] = [
    (strict, "/rest/{method}", subsonic.subsonic, ["GET", "POST"]),
]
"""What Funkwhale's nginx maps onto the API (``/rest/`` -> ``/api/subsonic/rest/``, §5): served
here only when this process also plays nginx's part (embedded mode), never behind a real nginx."""


def routes(*, nginx_part: bool = False) -> list[BaseRoute]:
    table = _TABLE + (NGINX_TABLE if nginx_part else [])
    return [route for make, path, endpoint, methods in table for route in make(path, endpoint, methods)]
