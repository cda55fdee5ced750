"""The JSON objects of the Funkwhale 1.4 API, key for key and in the order the real server
sends them (samples 16-48). Pure functions of database rows: loading is `catalog`'s job.

Fields the stand-in has no data for (covers, tags, mbids, licences, descriptions) carry
the values a fresh real instance shows for uploaded files: null or empty.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import RowMapping

from fwload.standin.db.engine import as_utc
from fwload.standin.domain.audio_tags import MIMETYPE_EXTENSIONS

Json = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Instance:
    """FUNKWHALE_URL and the federation domain derived from it."""

    url: str

    @property
    def domain(self) -> str:
        return urlsplit(self.url).netloc

    def fid(self, path: str) -> str:
        return f"{self.url}/federation/{path}"


def iso(value: datetime | None) -> str | None:
    """DRF's datetime format: ISO 8601, UTC written as Z."""
    if value is None:
        return None
    return as_utc(value).isoformat().replace("+00:00", "Z")


def actor(instance: Instance, user: RowMapping) -> Json:
    joined = iso(user["date_joined"])
    return {
        "fid": instance.fid(f"actors/{user['username']}"),
        "url": None,
        "creation_date": joined,
        "summary": None,
        "preferred_username": user["username"],
        "name": user["username"],
        "last_fetch_date": joined,
        "domain": instance.domain,
        "type": "Person",
        "manually_approves_followers": False,
        "full_username": f"{user['username']}@{instance.domain}",
        "is_local": True,
    }


def user_basic(user: RowMapping) -> Json:
    return {
        "id": user["id"],
        "username": user["username"],
        "name": "",
        "date_joined": iso(user["date_joined"]),
        "avatar": None,
    }


def library(
    instance: Instance, row: RowMapping, owner: RowMapping, *, uploads_count: int, size: int | None
) -> Json:
    return {
        "uuid": row["uuid"],
        "fid": instance.fid(f"music/libraries/{row['uuid']}"),
        "name": row["name"],
        "description": row["description"],
        "privacy_level": row["privacy_level"],
        "uploads_count": uploads_count,
        "size": size,
        "creation_date": iso(row["creation_date"]),
        "actor": actor(instance, owner),
    }


def simple_artist(instance: Instance, row: RowMapping) -> Json:
    return {
        "id": row["id"],
        "fid": instance.fid(f"music/artists/{row['uuid']}"),
        "mbid": None,
        "name": row["name"],
        "creation_date": iso(row["creation_date"]),
        "modification_date": iso(row["modification_date"]),
        "is_local": True,
        "content_category": "music",
        "description": None,
        "attachment_cover": None,
        "channel": None,
    }


def nested_album(instance: Instance, row: RowMapping, artist: RowMapping, tracks_count: int) -> Json:
    return {
        "id": row["id"],
        "fid": instance.fid(f"music/albums/{row['uuid']}"),
        "mbid": None,
        "title": row["title"],
        "artist": simple_artist(instance, artist),
        "release_date": None,
        "cover": None,
        "creation_date": iso(row["creation_date"]),
        "is_local": True,
        "tracks_count": tracks_count,
    }


def extension(upload: RowMapping) -> str:
    """From the mimetype, else from the stored file's name (Upload.extension)."""
    known = MIMETYPE_EXTENSIONS.get(upload["mimetype"] or "")
    if known:
        return known
    name = upload["file_path"].rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def listen_url(track_uuid: str) -> str:
    return f"/api/v1/listen/{track_uuid}/"


def track_upload(upload: RowMapping, track_uuid: str) -> Json:
    return {
        "uuid": upload["uuid"],
        "listen_url": f"{listen_url(track_uuid)}?upload={upload['uuid']}",
        "size": upload["size"],
        "duration": upload["duration"],
        "bitrate": upload["bitrate"],
        "mimetype": upload["mimetype"],
        "extension": extension(upload),
        "is_local": True,
    }


def track(
    instance: Instance,
    row: RowMapping,
    *,
    artist: Json,
    album: Json | None,
    uploads: list[Json],
    attributed_to: Json | None,
    is_playable: bool,
    detail: bool = False,
) -> Json:
    shape = {
        "artist": artist,
        "album": album,
        "uploads": uploads,
        "listen_url": listen_url(row["uuid"]),
        "tags": [],
        "attributed_to": attributed_to,
        "id": row["id"],
        "fid": instance.fid(f"music/tracks/{row['uuid']}"),
        "mbid": None,
        "title": row["title"],
        "creation_date": iso(row["creation_date"]),
        "is_local": True,
        "position": row["position"],
        "disc_number": row["disc_number"],
        "downloads_count": row["downloads_count"],
        "copyright": None,
        "license": None,
        "cover": None,
        "is_playable": is_playable,
    }
    if detail:
        shape["description"] = None
    return shape


def album(
    instance: Instance,
    row: RowMapping,
    *,
    artist: Json,
    tracks_count: int,
    is_playable: bool,
    attributed_to: Json | None,
    detail: bool = False,
) -> Json:
    shape = {
        "artist": artist,
        "cover": None,
        "is_playable": is_playable,
        "tags": [],
        "tracks_count": tracks_count,
        "attributed_to": attributed_to,
        "id": row["id"],
        "fid": instance.fid(f"music/albums/{row['uuid']}"),
        "mbid": None,
        "title": row["title"],
        "release_date": None,
        "creation_date": iso(row["creation_date"]),
        "is_local": True,
        "duration": 0,
    }
    if detail:
        shape["description"] = None
    return shape


def artist_album(instance: Instance, row: RowMapping, *, tracks_count: int, is_playable: bool) -> Json:
    return {
        "tracks_count": tracks_count,
        "cover": None,
        "is_playable": is_playable,
        "is_local": True,
        "id": row["id"],
        "fid": instance.fid(f"music/albums/{row['uuid']}"),
        "mbid": None,
        "title": row["title"],
        "artist": row["artist_id"],
        "release_date": None,
        "creation_date": iso(row["creation_date"]),
    }


def artist(
    instance: Instance,
    row: RowMapping,
    *,
    albums: list[Json],
    tracks_count: int,
    attributed_to: Json | None,
    detail: bool = False,
) -> Json:
    shape = {
        "albums": albums,
        "tags": [],
        "attributed_to": attributed_to,
        "channel": None,
        "tracks_count": tracks_count,
        "id": row["id"],
        "fid": instance.fid(f"music/artists/{row['uuid']}"),
        "mbid": None,
        "name": row["name"],
        "content_category": "music",
        "creation_date": iso(row["creation_date"]),
        "is_local": True,
        "cover": None,
    }
    if detail:
        shape["description"] = None
    return shape


def full_name(track_title: str, artist_name: str, album_title: str | None) -> str:
    """Track.full_name: what Funkwhale names a file on download and an upload's ``filename``."""
    return (
        f"{artist_name} - {album_title} - {track_title}" if album_title else f"{artist_name} - {track_title}"
    )


def upload(upload_row: RowMapping, *, library: Json, track: Json | None, filename: str | None) -> Json:
    shape: Json = {"uuid": upload_row["uuid"]}
    if filename is not None:
        shape["filename"] = filename
    shape.update(
        {
            "creation_date": iso(upload_row["creation_date"]),
            "mimetype": upload_row["mimetype"],
            "track": track,
            "library": library,
            "duration": upload_row["duration"],
            "bitrate": upload_row["bitrate"],
            "size": upload_row["size"],
            "import_date": iso(upload_row["import_date"]),
            "import_status": upload_row["import_status"],
            "import_details": upload_row["import_details"] or {},
            "import_metadata": upload_row["import_metadata"] or {},
            "import_reference": upload_row["import_reference"],
            "metadata": {},
            "source": upload_row["source"],
        }
    )
    return shape


def playlist(
    instance: Instance,
    row: RowMapping,
    owner: RowMapping,
    *,
    tracks_count: int,
    duration: int,
    is_playable: bool | None,
) -> Json:
    return {
        "id": row["id"],
        "name": row["name"],
        "user": user_basic(owner),
        "modification_date": iso(row["modification_date"]),
        "creation_date": iso(row["creation_date"]),
        "privacy_level": row["privacy_level"],
        "tracks_count": tracks_count,
        "album_covers": [],
        "duration": duration,
        "is_playable": is_playable,
        "actor": actor(instance, owner),
    }
