"""Audio: ``GET|HEAD /api/v1/listen/<track uuid>/[?upload=&to=&max_bitrate=&download=false&token=]``
(samples 49-56).

The view's only renderer advertises ``audio/*``, so content negotiation comes first (406
for a client that accepts only JSON) and every error body is JSON sent as ``audio/*``.
The file itself goes through the configured `AudioServing` (direct, or X-Accel-Redirect);
with ``to``/``max_bitrate`` it may first be transcoded (`fwload.standin.domain.transcoding`).
`serve_upload` is Funkwhale's ``handle_serve``, shared with Subsonic's ``stream``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from sqlalchemy import Connection, RowMapping, select
from starlette.requests import Request
from starlette.types import ASGIApp

from fwload.standin.api import shapes
from fwload.standin.api.errors import ApiError, not_found, server_error
from fwload.standin.api.views import Call, api_view
from fwload.standin.backends.audio import AudioFile
from fwload.standin.backends.ffmpeg import MIMETYPE_EXTENSIONS, TranscodeFailed
from fwload.standin.db.engine import now
from fwload.standin.db.tables import albums, artists, libraries, tracks, uploads
from fwload.standin.domain.transcoding import max_bitrate_bps
from fwload.standin.domain.visibility import upload_playable

ERROR_TYPE = "audio/*"
DOWNLOAD_DEDUP_MIN_S = 6 * 3600


def accepts_audio(accept: str | None) -> bool:
    """Does the Accept header admit DRF's ``audio/*`` renderer?"""
    if not accept or not accept.strip():
        return True
    for item in accept.split(","):
        media = item.split(";")[0].strip().lower()
        if media in ("*/*", "*") or media.startswith("audio/"):
            return True
    return False


def playable_upload(conn: Connection, viewer_id: int | None, track: RowMapping,
                    upload_uuid: str | None = None) -> RowMapping | None:
    """The upload a listen of `track` serves: the viewer's first playable one (or the one asked)."""
    query = (
        select(uploads)
        .join(libraries, libraries.c.id == uploads.c.library_id)
        .where(uploads.c.track_id == track["id"], upload_playable(viewer_id))
        .order_by(uploads.c.creation_date, uploads.c.id)
        .limit(1)
    )
    if upload_uuid:
        query = query.where(uploads.c.uuid == upload_uuid)
    return conn.execute(query).mappings().first()


def _disposition(call: Call, track: RowMapping, extension: str) -> str:
    artist = call.conn.execute(select(artists.c.name).where(artists.c.id == track["artist_id"])).scalar_one()
    album = call.conn.execute(select(albums.c.title).where(albums.c.id == track["album_id"])).scalar()
    filename = f"{shapes.full_name(track['title'], artist, album)}.{extension}"
    return f"attachment; filename*=UTF-8''{quote(filename)}"


def _count_download(call: Call, track: RowMapping, upload: RowMapping) -> None:
    """accessed_date on every listen; downloads_count once per (upload, listener) per 6 h or more."""
    call.conn.execute(uploads.update().where(uploads.c.id == upload["id"]).values(accessed_date=now()))
    listener = (
        call.viewer_id
        if call.viewer_id is not None
        else (call.request.client.host if call.request.client else "")
    )
    key = f"downloads:{upload['uuid']}:{listener}"
    if call.services.cache.get(key) is None:
        call.services.cache.set(key, True, max(upload["duration"] or 0, DOWNLOAD_DEDUP_MIN_S))
        call.conn.execute(
            tracks.update()
            .where(tracks.c.id == track["id"])
            .values(downloads_count=tracks.c.downloads_count + 1)
        )


def serve_upload(call: Call, track: RowMapping, upload: RowMapping, *, to: str | None, max_bitrate: int | None,
                 download: bool) -> ASGIApp:
    """The upload's file, or a transcoded version of it (made now, inside the request, as real 1.4
    does), with the download disposition when asked. Transcoding comes before this request's own
    writes (see `fwload.standin.domain.transcoding`)."""
    try:
        version = call.services.transcoding.version_for(call.conn, upload, to, max_bitrate)
    except TranscodeFailed:
        raise server_error() from None
    _count_download(call, track, upload)
    if version is None:
        relative, mimetype, extension = upload["file_path"], upload["mimetype"], shapes.extension(upload)
    else:
        call.services.transcoding.touch(call.conn, version)
        relative, mimetype = version["file_path"], version["mimetype"]
        extension = MIMETYPE_EXTENSIONS[mimetype]
    audio = AudioFile(
        path=call.services.media.path(relative),
        relative=relative,
        mimetype=mimetype or "application/octet-stream",
        disposition=_disposition(call, track, extension) if download else None,
    )
    return call.services.audio.respond(audio, call.request.headers.get("range"))


@api_view(access="listen", scope="libraries")
def _listen(call: Call) -> Any:
    track = (
        call.conn.execute(select(tracks).where(tracks.c.uuid == call.request.path_params["uuid"]))
        .mappings()
        .first()
    )
    if track is None:
        raise not_found()
    upload = playable_upload(call.conn, call.viewer_id, track, call.query("upload"))
    if upload is None:
        raise not_found()
    download = call.request.query_params.get("download", "true").lower() == "true"
    return serve_upload(call, track, upload, to=call.query("to"),
                        max_bitrate=max_bitrate_bps(call.query("max_bitrate")), download=download)


async def listen(request: Request) -> Any:
    if not accepts_audio(request.headers.get("accept")):
        raise ApiError(406, {"detail": "Could not satisfy the request Accept header."}, media_type=ERROR_TYPE)
    try:
        return await _listen(request)
    except ApiError as error:
        if not error.media_type.startswith("text/html"):  # Django's own 500 page stays HTML
            error.media_type = ERROR_TYPE
        raise
