"""Audio: ``GET|HEAD /api/v1/listen/<track uuid>/[?upload=&download=false&token=]``
(samples 49-56).

The view's only renderer advertises ``audio/*``, so content negotiation comes first (406
for a client that accepts only JSON) and every error body is JSON sent as ``audio/*``.
The file itself goes through the configured `AudioServing` (direct, or X-Accel-Redirect).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from sqlalchemy import RowMapping, select
from starlette.requests import Request

from fwload.standin.api import shapes
from fwload.standin.api.errors import ApiError, not_found
from fwload.standin.api.views import Call, api_view
from fwload.standin.backends.audio import AudioFile
from fwload.standin.db.engine import now
from fwload.standin.db.tables import albums, artists, libraries, tracks, uploads
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


def _chosen_upload(call: Call, track: RowMapping) -> RowMapping:
    query = (
        select(uploads)
        .join(libraries, libraries.c.id == uploads.c.library_id)
        .where(uploads.c.track_id == track["id"], upload_playable(call.viewer_id))
        .order_by(uploads.c.creation_date, uploads.c.id)
        .limit(1)
    )
    if call.query("upload"):
        query = query.where(uploads.c.uuid == call.query("upload"))
    upload = call.conn.execute(query).mappings().first()
    if upload is None:
        raise not_found()
    return upload


def _disposition(call: Call, track: RowMapping, upload: RowMapping) -> str | None:
    if (call.query("download") or "").lower() == "false":
        return None
    artist = call.conn.execute(select(artists.c.name).where(artists.c.id == track["artist_id"])).scalar_one()
    album = call.conn.execute(select(albums.c.title).where(albums.c.id == track["album_id"])).scalar()
    filename = f"{shapes.full_name(track['title'], artist, album)}.{shapes.extension(upload)}"
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


@api_view(access="listen", scope="libraries")
def _listen(call: Call) -> Any:
    track = (
        call.conn.execute(select(tracks).where(tracks.c.uuid == call.request.path_params["uuid"]))
        .mappings()
        .first()
    )
    if track is None:
        raise not_found()
    upload = _chosen_upload(call, track)
    _count_download(call, track, upload)
    audio = AudioFile(
        path=call.services.media.path(upload["file_path"]),
        relative=upload["file_path"],
        mimetype=upload["mimetype"] or "application/octet-stream",
        disposition=_disposition(call, track, upload),
    )
    return call.services.audio.respond(audio, call.request.headers.get("range"))


async def listen(request: Request) -> Any:
    if not accepts_audio(request.headers.get("accept")):
        raise ApiError(406, {"detail": "Could not satisfy the request Accept header."}, media_type=ERROR_TYPE)
    try:
        return await _listen(request)
    except ApiError as error:
        error.media_type = ERROR_TYPE
        raise
