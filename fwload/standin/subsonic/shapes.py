"""Subsonic objects as Funkwhale 1.4 builds them, key for key in its order.

From ``api/funkwhale_api/subsonic/serializers.py`` (``get_artist_data``,
``GetArtistsSerializer``, ``GetArtistSerializer``, ``get_track_data``, ``get_album2_data``,
``get_track_path``), checked against samples 59, 61 and 62. ``coverArt`` is ``al-<id>`` on
an album with a cover (and its songs), and ``ar-<id>`` on every artist of ``getArtists`` and
``search3``, cover or not, as Funkwhale writes it; an album's ``genre`` is ``""`` (no tags),
as Funkwhale writes it whenever an album has no tag.
"""

from __future__ import annotations

import collections
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping

from fwload.standin.api.shapes import extension
from fwload.standin.db.engine import as_utc

Json = dict[str, Any]
_KEEP = " ._()[]-+"
_TYPES = {"mp3": "audio/mpeg", "ogg": "audio/ogg", "opus": "audio/opus", "m4a": "audio/x-m4a",
          "aac": "audio/x-m4a", "flac": "audio/flac"}


def date(value: datetime | None) -> str | None:
    """``to_subsonic_date``: 2012-04-17T19:55:49.000Z."""
    moment = as_utc(value)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z") if moment is not None else None


def _filepart(text: str) -> str:
    return "".join(c if c.isalnum() or c in _KEEP else "_" for c in text).rstrip()[:50]


def track_path(track: RowMapping, artist_name: str, album_title: str | None, suffix: str) -> str:
    parts = [_filepart(artist_name)]
    if album_title is not None:
        parts.append(_filepart(album_title))
    name = f"{_filepart(track['title'])}.{suffix}"
    parts.append(f"{track['position']} - {name}" if track["position"] else name)
    return "/".join(parts)


def artist_entry(artist: RowMapping, album_count: int) -> Json:
    return {"id": artist["id"], "name": artist["name"], "albumCount": album_count,
            "coverArt": f"ar-{artist['id']}"}


def artists_index(entries: Iterable[tuple[RowMapping, int]]) -> Json:
    """``getArtists``: artists grouped under the upper-cased first letter of their name."""
    letters: dict[str, list[Json]] = collections.defaultdict(list)
    for artist, album_count in sorted(entries, key=lambda entry: entry[0]["name"].lower()):
        if artist["name"]:
            letters[artist["name"][0].upper()].append(artist_entry(artist, album_count))
    return {"ignoredArticles": "", "index": [{"name": letter, "artist": items}
                                             for letter, items in sorted(letters.items())]}


def artist_detail(artist: RowMapping, albums: list[tuple[RowMapping, int]], covered: set[int]) -> Json:
    """``getArtist``: every album of the artist with its track count."""
    entries = []
    for album, song_count in albums:
        entry = {"id": album["id"], "artistId": artist["id"], "name": album["title"], "artist": artist["name"],
                 "created": date(album["creation_date"]), "songCount": song_count}
        if album["id"] in covered:
            entry["coverArt"] = f"al-{album['id']}"
        entries.append(entry)
    return {"id": artist["id"], "name": artist["name"], "albumCount": len(albums), "album": entries}


def song(track: RowMapping, artist: RowMapping, album: RowMapping | None, album_artist_id: int | None,
         upload: RowMapping, *, covered: bool) -> Json:
    """``get_track_data`` for a track and its first upload."""
    suffix = extension(upload)
    data: Json = {
        "id": track["id"],
        "isDir": "false",
        "title": track["title"],
        "album": album["title"] if album is not None else "",
        "artist": artist["name"],
        "track": track["position"] or 1,
        "discNumber": track["disc_number"] or 1,
        "contentType": upload["mimetype"] or _TYPES.get(suffix, "audio/mpeg"),
        "suffix": suffix,
        "path": track_path(track, artist["name"], album["title"] if album is not None else None, suffix or "mp3"),
        "duration": upload["duration"] or 0,
        "created": date(track["creation_date"]),
        "albumId": album["id"] if album is not None else "",
        "artistId": album_artist_id if album is not None else artist["id"],
        "type": "music",
    }
    if album is not None and covered:
        data["coverArt"] = f"al-{album['id']}"
    if upload["bitrate"]:
        data["bitrate"] = int(upload["bitrate"] / 1000)
    if upload["size"]:
        data["size"] = upload["size"]
    data["year"] = as_utc(track["creation_date"]).year  # type: ignore[union-attr]
    return data


def album_entry(album: RowMapping, artist: RowMapping, *, duration: int, play_count: int, song_count: int,
                covered: bool) -> Json:
    """``get_album2_data``: the album in ``getAlbum`` and ``search3``."""
    data: Json = {
        "id": album["id"],
        "artistId": artist["id"],
        "name": album["title"],
        "artist": artist["name"],
        "created": date(album["creation_date"]),
        "duration": duration,
        "playCount": play_count,
    }
    if covered:
        data["coverArt"] = f"al-{album['id']}"
    data.update({"genre": "", "songCount": song_count})
    return data
