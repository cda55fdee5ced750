"""Global search ``GET /api/v1/search?q=`` (no trailing slash): up to 3 artists, tracks,
albums and tags, not paginated; tracks come nested (no uploads, not playable: sample 39)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from fwload.standin.api.errors import ApiError
from fwload.standin.api.params import words_match
from fwload.standin.api.views import Call, api_view
from fwload.standin.db.tables import albums, artists, tracks

LIMIT = 3


@api_view(scope="libraries")
def search(call: Call) -> dict[str, Any]:
    text = (call.query("q") or call.query("query") or "").strip()
    if not text:
        raise ApiError(400, {"detail": "empty query"})
    conn = call.conn
    artist_ids = (
        conn.execute(
            select(artists.c.id)
            .where(words_match(text, [artists.c.name]))
            .order_by(artists.c.id.desc())
            .limit(LIMIT)
        )
        .scalars()
        .all()
    )
    track_ids = (
        conn.execute(
            select(tracks.c.id)
            .join(artists, artists.c.id == tracks.c.artist_id)
            .outerjoin(albums, albums.c.id == tracks.c.album_id)
            .where(words_match(text, [tracks.c.title, albums.c.title, artists.c.name]))
            .order_by(tracks.c.id.desc())
            .limit(LIMIT)
        )
        .scalars()
        .all()
    )
    album_ids = (
        conn.execute(
            select(albums.c.id)
            .where(words_match(text, [albums.c.title]))
            .order_by(albums.c.id.desc())
            .limit(LIMIT)
        )
        .scalars()
        .all()
    )
    catalog = call.catalog()
    return {
        "artists": catalog.artists(artist_ids),
        "tracks": catalog.tracks(track_ids, nested=True),
        "albums": catalog.albums(album_ids),
        "tags": [],
    }
