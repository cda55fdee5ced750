"""What the Subsonic methods show of the catalogue, in a fixed number of queries per answer.

Funkwhale's Subsonic views (``api/funkwhale_api/subsonic/views.py``) filter artists, albums
and tracks by what the caller may play, but list every track of an album and use each
track's first upload whatever its library (``get_song_list_data``); searches put short
names first (``order_for_search``: by length, then id). The same here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, RowMapping, Select, func, select

from fwload.standin.api.params import words_match
from fwload.standin.db.tables import album_covers, albums, artists, tracks, uploads
from fwload.standin.domain.visibility import playable_track_ids
from fwload.standin.subsonic import shapes

Json = dict[str, Any]


class SubsonicLibrary:
    def __init__(self, conn: Connection, viewer_id: int | None) -> None:
        self.conn = conn
        self.viewer_id = viewer_id

    # -- what the caller may play -----------------------------------------------------

    def _playable_tracks(self) -> Select:
        return playable_track_ids(self.viewer_id)

    def playable_artist(self, artist_id: int) -> RowMapping | None:
        query = select(artists).where(artists.c.id == artist_id, artists.c.id.in_(
            select(tracks.c.artist_id).where(tracks.c.id.in_(self._playable_tracks()))))
        return self.conn.execute(query).mappings().first()

    def playable_album(self, album_id: int) -> RowMapping | None:
        query = select(albums).where(albums.c.id == album_id, albums.c.id.in_(
            select(tracks.c.album_id).where(tracks.c.id.in_(self._playable_tracks()))))
        return self.conn.execute(query).mappings().first()

    def playable_track(self, track_id: int) -> RowMapping | None:
        query = select(tracks).where(tracks.c.id == track_id, tracks.c.id.in_(self._playable_tracks()))
        return self.conn.execute(query).mappings().first()

    # -- answers ------------------------------------------------------------------------

    def artists_index(self) -> Json:
        ids = select(tracks.c.artist_id).where(tracks.c.id.in_(self._playable_tracks()))
        rows = list(self.conn.execute(select(artists).where(artists.c.id.in_(ids))).mappings())
        counts = self._album_counts([r["id"] for r in rows])
        return shapes.artists_index((row, counts.get(row["id"], 0)) for row in rows)

    def artist(self, artist: RowMapping) -> Json:
        album_rows = list(self.conn.execute(
            select(albums).where(albums.c.artist_id == artist["id"]).order_by(albums.c.id)).mappings())
        counts = self._track_counts([a["id"] for a in album_rows])
        return shapes.artist_detail(artist, [(album, counts.get(album["id"], 0)) for album in album_rows],
                                    self.covered([a["id"] for a in album_rows]))

    def album(self, album: RowMapping) -> Json:
        track_ids = list(self.conn.execute(
            select(tracks.c.id).where(tracks.c.album_id == album["id"])
            .order_by(tracks.c.disc_number, tracks.c.position, tracks.c.id)).scalars())
        return {**self.albums([album["id"]])[0], "song": self.songs(track_ids)}

    def albums(self, album_ids: Sequence[int]) -> list[Json]:
        rows = self._by_id(albums, album_ids)
        artist_rows = self._by_id(artists, [r["artist_id"] for r in rows.values()])
        counts = self._track_counts(list(rows))
        durations = dict(self.conn.execute(
            select(tracks.c.album_id, func.coalesce(func.sum(uploads.c.duration), 0))
            .join(uploads, uploads.c.track_id == tracks.c.id)
            .where(tracks.c.album_id.in_(list(rows))).group_by(tracks.c.album_id)).all()) if rows else {}
        plays = dict(self.conn.execute(
            select(tracks.c.album_id, func.coalesce(func.sum(tracks.c.downloads_count), 0))
            .where(tracks.c.album_id.in_(list(rows))).group_by(tracks.c.album_id)).all()) if rows else {}
        covered = self.covered(list(rows))
        return [shapes.album_entry(rows[i], artist_rows[rows[i]["artist_id"]], duration=int(durations.get(i, 0)),
                                   play_count=int(plays.get(i, 0)), song_count=counts.get(i, 0),
                                   covered=i in covered)
                for i in album_ids if i in rows]

    def songs(self, track_ids: Sequence[int]) -> list[Json]:
        """Songs in `track_ids` order; a track without any upload is left out."""
        rows = self._by_id(tracks, track_ids)
        album_rows = self._by_id(albums, [r["album_id"] for r in rows.values()])
        artist_rows = self._by_id(artists, [r["artist_id"] for r in rows.values()])
        first: dict[int, RowMapping] = {}
        if rows:
            query = (select(uploads).where(uploads.c.track_id.in_(list(rows)))
                     .order_by(uploads.c.creation_date.desc(), uploads.c.id.desc()))
            first = {u["track_id"]: u for u in self.conn.execute(query).mappings()}
        covered = self.covered([r["album_id"] for r in rows.values()])
        songs = []
        for track_id in track_ids:
            row = rows.get(track_id)
            if row is None or track_id not in first:
                continue
            album = album_rows.get(row["album_id"])
            songs.append(shapes.song(row, artist_rows[row["artist_id"]], album,
                                     album["artist_id"] if album is not None else None, first[track_id],
                                     covered=row["album_id"] in covered))
        return songs

    def search(self, query: str, counts: dict[str, tuple[int, int]]) -> Json:
        """``search3``: artists by name, albums and songs by title; `counts` is (offset, size) per kind."""
        playable = self._playable_tracks()
        kinds: dict[str, tuple[Any, Any, Select]] = {
            "artist": (artists, artists.c.name,
                       select(tracks.c.artist_id).where(tracks.c.id.in_(playable))),
            "album": (albums, albums.c.title, select(tracks.c.album_id).where(tracks.c.id.in_(playable))),
            "song": (tracks, tracks.c.title, playable),
        }
        found: dict[str, list[int]] = {}
        for kind, (table, field, allowed) in kinds.items():
            ids = select(table.c.id).where(table.c.id.in_(allowed))
            if query.split():
                ids = ids.where(words_match(query, [field]))
            offset, size = counts[kind]
            ids = ids.order_by(func.length(field), table.c.id).offset(offset).limit(size)
            found[kind] = list(self.conn.execute(ids).scalars())
        artist_rows = self._by_id(artists, found["artist"])
        album_counts = self._album_counts(found["artist"])
        return {
            "artist": [shapes.artist_entry(artist_rows[i], album_counts.get(i, 0)) for i in found["artist"]],
            "album": self.albums(found["album"]),
            "song": self.songs(found["song"]),
        }

    def random_songs(self, size: int) -> list[Json]:
        query = select(tracks.c.id).where(tracks.c.id.in_(self._playable_tracks())).order_by(func.random())
        return self.songs(list(self.conn.execute(query.limit(max(size, 0))).scalars()))

    # -- loading --------------------------------------------------------------------------

    def _by_id(self, table: Any, ids: Sequence[int | None]) -> dict[int, RowMapping]:
        wanted = {i for i in ids if i is not None}
        if not wanted:
            return {}
        rows = self.conn.execute(select(table).where(table.c.id.in_(wanted))).mappings()
        return {row["id"]: row for row in rows}

    def covered(self, album_ids: Sequence[int | None]) -> set[int]:
        """The albums among `album_ids` that have a cover."""
        wanted = [i for i in album_ids if i is not None]
        if not wanted:
            return set()
        query = select(album_covers.c.album_id).where(album_covers.c.album_id.in_(wanted))
        return set(self.conn.execute(query).scalars())

    def cover(self, album_id: int) -> RowMapping | None:
        query = select(album_covers).where(album_covers.c.album_id == album_id)
        return self.conn.execute(query).mappings().first()

    def _album_counts(self, artist_ids: Sequence[int]) -> dict[int, int]:
        if not artist_ids:
            return {}
        query = select(albums.c.artist_id, func.count()).where(albums.c.artist_id.in_(artist_ids))
        return dict(self.conn.execute(query.group_by(albums.c.artist_id)).all())

    def _track_counts(self, album_ids: Sequence[int]) -> dict[int, int]:
        if not album_ids:
            return {}
        query = select(tracks.c.album_id, func.count()).where(tracks.c.album_id.in_(album_ids))
        return dict(self.conn.execute(query.group_by(tracks.c.album_id)).all())
