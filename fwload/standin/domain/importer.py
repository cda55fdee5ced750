"""The import task (Funkwhale's ``music.process_upload``), run by whichever queue is in use.

Outcomes, as observed on Funkwhale 1.4.0 (funkwhale-api.md §2.4, §12, samples 24-32):
- no tags at all, or a file of no audio type (text): the task crashes, the upload stays
  ``pending`` forever (a corrupt audio file never gets here: its POST answered HTTP 500);
- title or artist missing: ``errored``, ``import_details.error_code = invalid_metadata``;
- the matched track already has an upload in one of the uploader's libraries:
  ``skipped``, ``{"code": "already_imported_in_owned_libraries", "duplicates": <uuid>}``,
  attached to that track;
- otherwise ``finished``: artist, album (``[Unknown Album]`` when untagged) and track are
  found (case-insensitive) or created, and the track becomes playable; an album without a
  cover takes the picture the file embeds, if any.
``import_metadata.title`` (and ``position``) override the file's tags.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from sqlalchemy import Connection, func, select

from fwload.standin.backends.media import MediaStorage
from fwload.standin.db.engine import Database, now
from fwload.standin.db.tables import album_covers, albums, artists, libraries, tracks, uploads
from fwload.standin.domain.audio_tags import FileTags, embedded_picture, read_tags

log = logging.getLogger("fwload.standin.imports")

UNKNOWN_ALBUM = "[Unknown Album]"
REQUIRED = "This field is required."


class Importer:
    """Callable with an upload id; safe to call for an upload that is no longer pending."""

    def __init__(self, db: Database, media: MediaStorage) -> None:
        self.db = db
        self.media = media

    def __call__(self, upload_id: int) -> None:
        with self.db.begin() as conn:
            row = (
                conn.execute(
                    select(uploads, libraries.c.user_id.label("owner_id"))
                    .join(libraries, libraries.c.id == uploads.c.library_id)
                    .where(uploads.c.id == upload_id)
                )
                .mappings()
                .first()
            )
        if row is None or row["import_status"] != "pending":
            return
        tags = read_tags(self.media.path(row["file_path"]))
        if tags is None:
            log.warning("upload %s has no readable tags: it stays pending, as on Funkwhale 1.4", row["uuid"])
            return
        forced = row["import_metadata"] or {}
        title = forced.get("title") or tags.title
        problems: dict[str, Any] = {}
        if not title:
            problems["title"] = [REQUIRED]
        if not tags.artist:
            problems["artists"] = {"0": {"name": [REQUIRED]}}
        with self.db.begin() as conn:
            if problems:
                details = {
                    "detail": problems,
                    "error_code": "invalid_metadata",
                    "file_metadata": tags.as_metadata(),
                }
                _close(conn, upload_id, "errored", details, track_id=None)
                return
            track_id = _find_or_create_track(
                conn,
                tags,
                title=title,
                position=forced.get("position") or tags.position,
                owner_id=row["owner_id"],
            )
            self._cover_album(conn, track_id, row["file_path"])
            duplicate = conn.execute(
                select(uploads.c.uuid)
                .join(libraries, libraries.c.id == uploads.c.library_id)
                .where(
                    uploads.c.track_id == track_id,
                    libraries.c.user_id == row["owner_id"],
                    uploads.c.id != upload_id,
                )
                .order_by(uploads.c.creation_date, uploads.c.id)
                .limit(1)
            ).scalar()
            if duplicate is not None:
                details = {"code": "already_imported_in_owned_libraries", "duplicates": duplicate}
                _close(conn, upload_id, "skipped", details, track_id=track_id)
            else:
                _close(conn, upload_id, "finished", {}, track_id=track_id)

    def _cover_album(self, conn: Connection, track_id: int, file_path: str) -> None:
        album_id = conn.execute(select(tracks.c.album_id).where(tracks.c.id == track_id)).scalar()
        if album_id is None or conn.execute(
                select(album_covers.c.album_id).where(album_covers.c.album_id == album_id)).first():
            return
        picture = embedded_picture(self.media.path(file_path))
        if picture is None:
            return
        extension = {"image/png": "png", "image/gif": "gif", "image/webp": "webp"}.get(picture.mimetype, "jpg")
        conn.execute(album_covers.insert().values(
            album_id=album_id, file_path=self.media.save_attachment(picture.data, extension),
            mimetype=picture.mimetype, size=len(picture.data), creation_date=now()))

    def fail(self, upload_id: int, error_code: str, detail: str) -> None:
        """End a pending import ``errored``, as Funkwhale's ``fail_import`` does."""
        with self.db.begin() as conn:
            _close(conn, upload_id, "errored", {"error_code": error_code, "detail": detail}, track_id=None)


def pending_upload_ids(db: Database) -> list[int]:
    """Uploads a previous run accepted but never imported: queued again at start (as Celery keeps tasks)."""
    with db.begin() as conn:
        query = select(uploads.c.id).where(uploads.c.import_status == "pending").order_by(uploads.c.id)
        return [row[0] for row in conn.execute(query)]


def _close(
    conn: Connection, upload_id: int, status: str, details: dict[str, Any], *, track_id: int | None
) -> None:
    conn.execute(
        uploads.update()
        .where(uploads.c.id == upload_id, uploads.c.import_status == "pending")
        .values(import_status=status, import_details=details, track_id=track_id, import_date=now())
    )


def _find_or_create_track(
    conn: Connection, tags: FileTags, *, title: str, position: int | None, owner_id: int
) -> int:
    moment = now()
    artist_name = tags.artist or ""
    artist_id = conn.execute(
        select(artists.c.id)
        .where(func.lower(artists.c.name) == artist_name.lower())
        .order_by(artists.c.id)
        .limit(1)
    ).scalar()
    if artist_id is None:
        artist_id = conn.execute(
            artists.insert().values(
                uuid=str(uuid.uuid4()),
                name=artist_name,
                attributed_to=owner_id,
                creation_date=moment,
                modification_date=moment,
            )
        ).inserted_primary_key[0]
    album_title = tags.album or UNKNOWN_ALBUM
    album_id = conn.execute(
        select(albums.c.id)
        .where(func.lower(albums.c.title) == album_title.lower(), albums.c.artist_id == artist_id)
        .order_by(albums.c.id)
        .limit(1)
    ).scalar()
    if album_id is None:
        album_id = conn.execute(
            albums.insert().values(
                uuid=str(uuid.uuid4()),
                title=album_title,
                artist_id=artist_id,
                attributed_to=owner_id,
                creation_date=moment,
            )
        ).inserted_primary_key[0]
    track_id = conn.execute(
        select(tracks.c.id)
        .where(
            func.lower(tracks.c.title) == title.lower(),
            tracks.c.artist_id == artist_id,
            tracks.c.album_id == album_id,
            tracks.c.position.is_not_distinct_from(position),
            tracks.c.disc_number.is_not_distinct_from(tags.disc_number),
        )
        .order_by(tracks.c.id)
        .limit(1)
    ).scalar()
    if track_id is None:
        track_id = conn.execute(
            tracks.insert().values(
                uuid=str(uuid.uuid4()),
                title=title,
                artist_id=artist_id,
                album_id=album_id,
                position=position,
                disc_number=tags.disc_number,
                attributed_to=owner_id,
                downloads_count=0,
                creation_date=moment,
            )
        ).inserted_primary_key[0]
    return int(track_id)
