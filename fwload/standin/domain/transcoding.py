"""Which file a listen serves when it asks ``to=`` or ``max_bitrate=``, and making it if needed.

Funkwhale 1.4's rules (``music/views.py::should_transcode``, ``music/models.py::
Upload.get_transcoded_version`` and ``create_transcoded_version``):

- transcode when ``to`` is a known format other than the upload's mimetype, or the
  upload's bitrate is above ``max_bitrate``; never when ``music__transcoding_enabled`` is off;
- a cached version (``UploadVersion``) of the same mimetype is reused, within ±20 % of
  ``max_bitrate`` when one is asked, the highest bitrate first;
- otherwise ffmpeg makes one at ``min(max_bitrate or 320k, upload bitrate or 320k)``,
  synchronously, and it is kept under ``MEDIA_ROOT/transcoded/``.

Two requests asking for the same missing version at once make it once per process (a
lock); across processes (stack mode's API workers) the second insert finds the first's
row and drops its own file. The version row is written in its own transaction, before
the request's own writes, so SQLite's single writer never waits on itself.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, RowMapping, select
from sqlalchemy.exc import IntegrityError

from fwload.standin.backends.ffmpeg import ENCODINGS, MIMETYPE_EXTENSIONS, Ffmpeg
from fwload.standin.backends.media import MediaStorage
from fwload.standin.db.engine import Database, now
from fwload.standin.db.tables import upload_versions
from fwload.standin.domain import preferences

MAX_BITRATE_KBPS = 320
DEFAULT_BITRATE = 320_000
REUSE_WINDOW = 0.2


def max_bitrate_bps(value: str | None) -> int | None:
    """``max_bitrate=`` / ``maxBitRate=`` in kbps, clamped to 0-320; 0 or garbage is no cap."""
    try:
        kbps = min(max(int(value or ""), 0), MAX_BITRATE_KBPS)
    except ValueError:
        return None
    return kbps * 1000 or None


def wanted(upload: RowMapping, to: str | None, max_bitrate: int | None) -> bool:
    """should_transcode, without the preference (the caller reads it in its transaction)."""
    mimetype = upload["mimetype"]
    format_differs = to in ENCODINGS and mimetype is not None and mimetype != ENCODINGS[to].mimetype
    bitrate_above = max_bitrate is not None and bool(upload["bitrate"]) and upload["bitrate"] > max_bitrate
    return format_differs or bitrate_above


class Transcoding:
    """The versions cache of one stand-in process, over its database, media and ffmpeg."""

    def __init__(self, db: Database, media: MediaStorage, ffmpeg: Ffmpeg) -> None:
        self.db = db
        self.media = media
        self.ffmpeg = ffmpeg
        self._locks: dict[tuple[int, str, int | None], threading.Lock] = {}
        self._guard = threading.Lock()

    def version_for(self, conn: Connection, upload: RowMapping, to: str | None,
                    max_bitrate: int | None) -> RowMapping | None:
        """The version to serve, made now if needed; None: serve the upload itself (nothing to
        transcode, transcoding off, or no ffmpeg here)."""
        if not wanted(upload, to, max_bitrate) or not self.ffmpeg.available:
            return None
        if not preferences.get(conn, "music__transcoding_enabled"):
            return None
        if to in ENCODINGS:
            mimetype = ENCODINGS[to].mimetype
        else:
            mimetype = upload["mimetype"] or "audio/mpeg"
            to = MIMETYPE_EXTENSIONS.get(mimetype)
            if to is None:
                return None
        with self._lock((upload["id"], mimetype, max_bitrate)):
            found = self._cached(conn, upload["id"], mimetype, max_bitrate)
            return found if found is not None else self._make(upload, to, mimetype, max_bitrate)

    def touch(self, conn: Connection, version: RowMapping) -> None:
        conn.execute(upload_versions.update().where(upload_versions.c.id == version["id"])
                     .values(accessed_date=now()))

    def _cached(self, conn: Connection, upload_id: int, mimetype: str,
                max_bitrate: int | None) -> RowMapping | None:
        query = select(upload_versions).where(upload_versions.c.upload_id == upload_id,
                                              upload_versions.c.mimetype == mimetype)
        if max_bitrate is not None:
            query = query.where(upload_versions.c.bitrate >= max_bitrate * (1 - REUSE_WINDOW),
                                upload_versions.c.bitrate <= max_bitrate * (1 + REUSE_WINDOW))
        query = query.order_by(upload_versions.c.bitrate.desc(), upload_versions.c.id).limit(1)
        return conn.execute(query).mappings().first()

    def _make(self, upload: RowMapping, to: str, mimetype: str, max_bitrate: int | None) -> RowMapping:
        bitrate = min(max_bitrate or DEFAULT_BITRATE, upload["bitrate"] or DEFAULT_BITRATE)
        hexa = uuid.uuid4().hex
        relative = Path("transcoded", hexa[0:2], hexa[2:4], hexa[4:6], f"{Path(upload['file_path']).stem}.{to}")
        target = self.media.path(relative.as_posix())
        self.ffmpeg.transcode(self.media.path(upload["file_path"]), target, to, bitrate)
        values = {"upload_id": upload["id"], "mimetype": mimetype, "bitrate": bitrate,
                  "file_path": relative.as_posix(), "size": target.stat().st_size, "creation_date": now()}
        try:
            with self.db.begin() as own:
                own.execute(upload_versions.insert().values(**values))
        except IntegrityError:
            target.unlink(missing_ok=True)
        with self.db.begin() as own:
            return own.execute(select(upload_versions).where(
                upload_versions.c.upload_id == upload["id"], upload_versions.c.mimetype == mimetype,
                upload_versions.c.bitrate == bitrate)).mappings().one()

    @contextmanager
    def _lock(self, key: tuple[int, str, int | None]) -> Iterator[None]:
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            yield
