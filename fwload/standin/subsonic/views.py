"""The Subsonic methods a Subsonic app uses to browse and play, and how a call runs.

A call reads its parameters from the query string, or from a form body when the query
string is empty (``request.GET or request.POST``), then, in a worker thread inside one
transaction: ``subsonic__enabled`` (off: HTTP 405 ``{}``), the format (``f``; 406 when
unknown), the credentials (`fwload.standin.subsonic.auth`), the method. Method by method
after ``api/funkwhale_api/subsonic/views.py``: a missing or non-numeric ``id`` is code 10
or 0, an object the caller may not play code 70 "<Model> not found".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import RowMapping, select
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from fwload.standin.api.auth import Identity
from fwload.standin.api.errors import server_error
from fwload.standin.api.instance import FUNKWHALE_VERSION
from fwload.standin.api.listen import playable_upload, serve_upload
from fwload.standin.api.payload import Payload
from fwload.standin.api.views import Call
from fwload.standin.backends.audio import AudioFile
from fwload.standin.db.engine import now
from fwload.standin.db.tables import listenings, tracks, uploads
from fwload.standin.domain import preferences
from fwload.standin.domain.transcoding import max_bitrate_bps
from fwload.standin.services import Services
from fwload.standin.subsonic.auth import WrongCredentials, identify
from fwload.standin.subsonic.library import SubsonicLibrary
from fwload.standin.subsonic.render import (
    API_VERSION,
    FORMATS,
    GENERIC,
    MISSING_PARAMETER,
    NOT_ACCEPTABLE,
    NOT_FOUND,
    WRONG_CREDENTIALS,
    failure,
    render,
)

Payloadish = dict[str, Any] | Response | Callable[..., Any]
SEARCH_DEFAULT, SEARCH_MAX = 20, 500
RANDOM_DEFAULT = 50
DEFAULT_TRANSCODING_FORMAT = "mp3"
"""``SUBSONIC_DEFAULT_TRANSCODING_FORMAT``: what ``stream`` gives when only ``maxBitRate`` is asked."""
_TRUE = {"t", "y", "yes", "true", "on", "1"}
_FALSE = {"f", "n", "no", "false", "off", "0"}


@dataclass
class SubsonicCall(Call):
    params: Mapping[str, str] = field(default_factory=dict)

    def query(self, name: str) -> str | None:
        return self.params.get(name)

    def library(self) -> SubsonicLibrary:
        return SubsonicLibrary(self.conn, self.viewer_id)


Handler = Callable[[SubsonicCall], Payloadish]


def _found(call: SubsonicCall, lookup: Callable[[int], RowMapping | None],
           model: str) -> RowMapping | dict[str, Any]:
    """``find_object``: the object ``id`` names among what the caller may play, or the error
    payload to answer (code 10 without ``id``, 0 for a non-number, 70 when not found)."""
    raw = call.query("id")
    if raw is None:
        return failure(MISSING_PARAMETER, "required parameter 'id' not present")
    try:
        number = int(raw)
    except ValueError:
        return failure(GENERIC, f'For input string "{raw}"')
    found = lookup(number)
    return found if found is not None else failure(NOT_FOUND, f"{model} not found")


def _count(call: SubsonicCall, name: str, default: int, cap: int | None = None) -> int:
    try:
        value = int(call.query(name) or "")
    except ValueError:
        value = default
    return min(value, cap) if cap is not None else value


# -- system ---------------------------------------------------------------------------

def ping(_call: SubsonicCall) -> Payloadish:
    return {"status": "ok", "version": API_VERSION}


def get_license(_call: SubsonicCall) -> Payloadish:
    return {"status": "ok", "version": API_VERSION, "type": "funkwhale", "funkwhaleVersion": FUNKWHALE_VERSION,
            "license": {"valid": "true", "email": "valid@valid.license",
                        "licenseExpires": now() + timedelta(days=365)}}


def get_music_folders(_call: SubsonicCall) -> Payloadish:
    return {"musicFolders": {"musicFolder": [{"id": 1, "name": "Music"}]}}


# -- browsing -------------------------------------------------------------------------

def get_artists(call: SubsonicCall) -> Payloadish:
    return {"artists": call.library().artists_index()}


def get_artist(call: SubsonicCall) -> Payloadish:
    library = call.library()
    artist = _found(call, library.playable_artist, "Artist")
    return artist if isinstance(artist, dict) else {"artist": library.artist(artist)}


def get_album(call: SubsonicCall) -> Payloadish:
    library = call.library()
    album = _found(call, library.playable_album, "Album")
    return album if isinstance(album, dict) else {"album": library.album(album)}


def search3(call: SubsonicCall) -> Payloadish:
    query = (call.query("query") or "").replace("*", "")
    counts = {kind: (_count(call, f"{kind}Offset", 0), _count(call, f"{kind}Count", SEARCH_DEFAULT, SEARCH_MAX))
              for kind in ("artist", "album", "song")}
    return {"searchResult3": call.library().search(query, counts)}


def get_random_songs(call: SubsonicCall) -> Payloadish:
    return {"randomSongs": {"song": call.library().random_songs(_count(call, "size", RANDOM_DEFAULT))}}


# -- media ----------------------------------------------------------------------------

def stream(call: SubsonicCall) -> Payloadish:
    track = _found(call, call.library().playable_track, "Track")
    if isinstance(track, dict):
        return track
    upload = playable_upload(call.conn, call.viewer_id, track)
    if upload is None:
        return Response(b"", status_code=404, media_type="application/json")
    max_bitrate = max_bitrate_bps(call.query("maxBitRate"))
    fmt = call.query("format") or None
    if max_bitrate and not fmt:
        fmt = DEFAULT_TRANSCODING_FORMAT
    elif fmt == "raw":
        fmt = None
    return serve_upload(call, track, upload, to=fmt, max_bitrate=max_bitrate, download=True)


def get_cover_art(call: SubsonicCall) -> Payloadish:
    """``al-<album id>``: the album's cover, served like audio (nginx types it after
    X-Accel-Redirect: Funkwhale sends an empty type). Funkwhale's view catches only
    ``Album.DoesNotExist``, so an ``ar-<id>`` (an artist without a picture, as every artist
    here) or ``at-<uuid>`` id raises inside it: HTTP 500 (``subsonic/views.py::get_cover_art``)."""
    cover_id = call.query("id") or ""
    if not cover_id:
        return failure(MISSING_PARAMETER, "cover art ID must be specified.")
    kind, _, number = cover_id.partition("-")
    if kind == "at" or (kind == "ar" and number.isdigit()):
        raise server_error()
    cover = call.library().cover(int(number)) if kind == "al" and number.isdigit() else None
    if cover is None:
        return failure(NOT_FOUND, "cover art not found.")
    picture = AudioFile(path=call.services.media.path(cover["file_path"]), relative=cover["file_path"],
                        mimetype="", disposition=None)
    return call.services.audio.respond(picture, call.request.headers.get("range"))


def scrobble(call: SubsonicCall) -> Payloadish:
    """``ScrobbleSerializer``: ``id`` a track with an upload, ``submission`` true by default;
    true records a listening. The answer is ``{}``, sent bare."""
    raw_submission = (call.query("submission") or "true").strip().lower()
    track_id = call.query("id") or ""
    known = track_id.isdigit() and call.conn.execute(
        select(tracks.c.id).where(tracks.c.id == int(track_id),
                                  tracks.c.id.in_(select(uploads.c.track_id)))).first() is not None
    if not known or raw_submission not in _TRUE | _FALSE:
        return failure(GENERIC, "Invalid payload")
    if raw_submission in _TRUE:
        call.conn.execute(listenings.insert().values(user_id=call.user["id"], track_id=int(track_id),
                                                     creation_date=now()))
    return {}


METHODS: dict[str, tuple[Handler, bool]] = {
    "ping": (ping, False),
    "getLicense": (get_license, False),
    "getMusicFolders": (get_music_folders, True),
    "getArtists": (get_artists, True),
    "getArtist": (get_artist, True),
    "getAlbum": (get_album, True),
    "search3": (search3, True),
    "getRandomSongs": (get_random_songs, True),
    "stream": (stream, True),
    "getCoverArt": (get_cover_art, True),
    "scrobble": (scrobble, True),
}
"""name -> (handler, needs a user)."""


# -- running a call -------------------------------------------------------------------

async def subsonic(request: Request) -> Any:
    """``/api/subsonic/rest/<method>`` and ``<method>.view``, GET or POST."""
    name = request.path_params["method"].removesuffix(".view")
    if name not in METHODS:
        raise HTTPException(404)
    services: Services = request.app.state.services
    params: Mapping[str, str] = request.query_params
    if not params and request.method == "POST":
        form = await request.form(max_files=0, max_fields=100)
        params = {key: value for key, value in form.items() if isinstance(value, str)}
    result = await run_in_threadpool(_run, METHODS[name], request, services, params)
    return result


def _run(method: tuple[Handler, bool], request: Request, services: Services, params: Mapping[str, str]) -> Any:
    handler, needs_user = method
    with services.db.begin() as conn:
        if not preferences.get(conn, "subsonic__enabled"):
            return JSONResponse({}, status_code=405)
        fmt = params.get("f", "xml")
        if fmt not in FORMATS:
            return JSONResponse(NOT_ACCEPTABLE, status_code=406)
        try:
            user: RowMapping | None = identify(conn, params)
        except WrongCredentials:
            return render(failure(WRONG_CREDENTIALS, "Wrong username or password."), fmt)
        if user is None and needs_user:
            return render(failure(MISSING_PARAMETER, "Required parameter is missing."), fmt)
        call = SubsonicCall(request, services, Payload(), conn, Identity(user, "subsonic"), params=params)
        result = handler(call)
    return render(result, fmt) if isinstance(result, dict) else result
