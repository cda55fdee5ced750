"""Loading what a page of results shows, in a fixed number of queries, and rendering it.

A list handler finds the ids of one page (filters, ordering, pagination) and hands them
here; the related rows (artists, albums, uploads, owners, counts) come in one query each,
whatever the page size, so a 50-item page costs about as much as a 1-item one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, RowMapping, Table, func, select

from fwload.standin.api import shapes
from fwload.standin.api.shapes import Instance, Json
from fwload.standin.db.tables import albums, artists, libraries, tracks, uploads, users
from fwload.standin.domain.visibility import playable_track_ids, upload_playable


class Catalog:
    """Renders tracks, albums, artists, uploads and libraries as one viewer sees them."""

    def __init__(self, conn: Connection, instance: Instance, viewer_id: int | None) -> None:
        self.conn = conn
        self.instance = instance
        self.viewer_id = viewer_id

    def _by_id(self, table: Table, ids: Iterable[int]) -> dict[int, RowMapping]:
        wanted = {i for i in ids if i is not None}
        if not wanted:
            return {}
        rows = self.conn.execute(select(table).where(table.c.id.in_(wanted))).mappings()
        return {row["id"]: row for row in rows}

    def _counts(self, column: Any, ids: Iterable[int]) -> dict[int, int]:
        wanted = {i for i in ids if i is not None}
        if not wanted:
            return {}
        query = select(column, func.count()).where(column.in_(wanted)).group_by(column)
        return dict(self.conn.execute(query).all())

    def _actors(self, user_ids: Iterable[int]) -> dict[int, Json]:
        return {uid: shapes.actor(self.instance, row) for uid, row in self._by_id(users, user_ids).items()}

    def _playable_albums(self, album_ids: Iterable[int]) -> set[int]:
        wanted = set(album_ids)
        if not wanted:
            return set()
        query = select(tracks.c.album_id).where(
            tracks.c.album_id.in_(wanted), tracks.c.id.in_(playable_track_ids(self.viewer_id))
        )
        return {row[0] for row in self.conn.execute(query)}

    def tracks(self, ids: Sequence[int], *, nested: bool = False, detail: bool = False) -> list[Json]:
        """Tracks in `ids` order. Nested ones (inside uploads, search) carry no uploads."""
        rows = self._by_id(tracks, ids)
        album_rows = self._by_id(albums, (r["album_id"] for r in rows.values()))
        artist_rows = self._by_id(
            artists, [r["artist_id"] for r in rows.values()] + [a["artist_id"] for a in album_rows.values()]
        )
        album_counts = self._counts(tracks.c.album_id, album_rows)
        actors = self._actors(r["attributed_to"] for r in rows.values())
        playable: dict[int, list[Json]] = defaultdict(list)
        if not nested and rows:
            query = (
                select(uploads)
                .join(libraries, libraries.c.id == uploads.c.library_id)
                .where(uploads.c.track_id.in_(list(rows)), upload_playable(self.viewer_id))
                .order_by(uploads.c.creation_date, uploads.c.id)
            )
            for upload in self.conn.execute(query).mappings():
                track_uuid = rows[upload["track_id"]]["uuid"]
                playable[upload["track_id"]].append(shapes.track_upload(upload, track_uuid))
        rendered = []
        for track_id in ids:
            row = rows.get(track_id)
            if row is None:
                continue
            album_row = album_rows.get(row["album_id"])
            album = None
            if album_row is not None:
                album = shapes.nested_album(
                    self.instance,
                    album_row,
                    artist_rows[album_row["artist_id"]],
                    album_counts.get(album_row["id"], 0),
                )
            rendered.append(
                shapes.track(
                    self.instance,
                    row,
                    artist=shapes.simple_artist(self.instance, artist_rows[row["artist_id"]]),
                    album=album,
                    uploads=playable[track_id],
                    attributed_to=actors.get(row["attributed_to"]),
                    is_playable=bool(playable[track_id]),
                    detail=detail,
                )
            )
        return rendered

    def albums(self, ids: Sequence[int], *, detail: bool = False) -> list[Json]:
        rows = self._by_id(albums, ids)
        artist_rows = self._by_id(artists, (r["artist_id"] for r in rows.values()))
        counts = self._counts(tracks.c.album_id, rows)
        playable = self._playable_albums(rows)
        actors = self._actors(r["attributed_to"] for r in rows.values())
        return [
            shapes.album(
                self.instance,
                rows[album_id],
                artist=shapes.simple_artist(self.instance, artist_rows[rows[album_id]["artist_id"]]),
                tracks_count=counts.get(album_id, 0),
                is_playable=album_id in playable,
                attributed_to=actors.get(rows[album_id]["attributed_to"]),
                detail=detail,
            )
            for album_id in ids
            if album_id in rows
        ]

    def artists(self, ids: Sequence[int], *, detail: bool = False) -> list[Json]:
        rows = self._by_id(artists, ids)
        album_rows = (
            list(
                self.conn.execute(
                    select(albums).where(albums.c.artist_id.in_(list(rows))).order_by(albums.c.id)
                ).mappings()
            )
            if rows
            else []
        )
        album_counts = self._counts(tracks.c.album_id, (a["id"] for a in album_rows))
        playable = self._playable_albums(a["id"] for a in album_rows)
        by_artist: dict[int, list[Json]] = defaultdict(list)
        for album_row in album_rows:
            by_artist[album_row["artist_id"]].append(
                shapes.artist_album(
                    self.instance,
                    album_row,
                    tracks_count=album_counts.get(album_row["id"], 0),
                    is_playable=album_row["id"] in playable,
                )
            )
        track_counts = self._counts(tracks.c.artist_id, rows)
        actors = self._actors(r["attributed_to"] for r in rows.values())
        return [
            shapes.artist(
                self.instance,
                rows[artist_id],
                albums=by_artist[artist_id],
                tracks_count=track_counts.get(artist_id, 0),
                attributed_to=actors.get(rows[artist_id]["attributed_to"]),
                detail=detail,
            )
            for artist_id in ids
            if artist_id in rows
        ]

    def libraries(self, rows: Sequence[RowMapping], *, empty_size: int | None) -> list[Json]:
        """`empty_size`: what ``size`` says for a library without uploads (0 on create, null in lists)."""
        owners = self._by_id(users, (r["user_id"] for r in rows))
        stats: dict[int, tuple[int, int]] = {}
        if rows:
            query = (
                select(uploads.c.library_id, func.count(), func.sum(uploads.c.size))
                .where(uploads.c.library_id.in_([r["id"] for r in rows]))
                .group_by(uploads.c.library_id)
            )
            stats = {lib: (count, size) for lib, count, size in self.conn.execute(query)}
        rendered = []
        for row in rows:
            count, size = stats.get(row["id"], (0, empty_size))
            rendered.append(
                shapes.library(self.instance, row, owners[row["user_id"]], uploads_count=count, size=size)
            )
        return rendered

    def uploads(self, rows: Sequence[RowMapping]) -> list[Json]:
        """Owner's view of uploads: library nested in full, track nested without its uploads."""
        library_rows = self._by_id(libraries, (r["library_id"] for r in rows))
        library_json = dict(
            zip(library_rows, self.libraries(list(library_rows.values()), empty_size=0), strict=True)
        )
        track_ids = [r["track_id"] for r in rows if r["track_id"] is not None]
        track_json = {t["id"]: t for t in self.tracks(track_ids, nested=True)}
        rendered = []
        for row in rows:
            nested = track_json.get(row["track_id"])
            filename = None
            if nested is not None:
                album = nested["album"]["title"] if nested["album"] else None
                name = shapes.full_name(nested["title"], nested["artist"]["name"], album)
                filename = f"{name}.{shapes.extension(row)}"
            rendered.append(
                shapes.upload(row, library=library_json[row["library_id"]], track=nested, filename=filename)
            )
        return rendered

    def activities(self, rows: Sequence[RowMapping]) -> list[Json]:
        """Favorites and listenings as read back: {id, user, track (full), creation_date, actor}."""
        owners = self._by_id(users, (r["user_id"] for r in rows))
        rendered_tracks = {t["id"]: t for t in self.tracks(list(dict.fromkeys(r["track_id"] for r in rows)))}
        return [
            {
                "id": row["id"],
                "user": shapes.user_basic(owners[row["user_id"]]),
                "track": rendered_tracks[row["track_id"]],
                "creation_date": shapes.iso(row["creation_date"]),
                "actor": shapes.actor(self.instance, owners[row["user_id"]]),
            }
            for row in rows
            if row["track_id"] in rendered_tracks
        ]
