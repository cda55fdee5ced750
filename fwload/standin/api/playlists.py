"""Playlists (samples 44-46): create, list, retrieve, delete, append tracks (201
``{count, results}``, capped by ``playlists__max_tracks``), read tracks (not paginated), clear."""

from __future__ import annotations

from typing import Any

from sqlalchemy import RowMapping, func, select
from starlette.responses import Response

from fwload.standin.api import shapes
from fwload.standin.api.errors import ApiError, invalid, not_found
from fwload.standin.api.pagination import paginate
from fwload.standin.api.params import track_reference
from fwload.standin.api.views import Call, api_view, created
from fwload.standin.db.engine import now
from fwload.standin.db.tables import playlist_tracks, playlists, tracks, uploads, users
from fwload.standin.domain import preferences
from fwload.standin.domain.visibility import PLAYABLE_STATUSES, playable_track_ids

PRIVACY_LEVELS = ("me", "followers", "instance", "everyone")


def _visible(viewer_id: int | None) -> Any:
    if viewer_id is None:
        return playlists.c.privacy_level == "everyone"
    return (playlists.c.user_id == viewer_id) | playlists.c.privacy_level.in_(("instance", "everyone"))


def _render(call: Call, rows: list[RowMapping], *, fresh: bool = False) -> list[dict[str, Any]]:
    ids = [row["id"] for row in rows]
    owners = {
        row["id"]: row
        for row in call.conn.execute(
            select(users).where(users.c.id.in_({r["user_id"] for r in rows}))
        ).mappings()
    }
    counts = dict(
        call.conn.execute(
            select(playlist_tracks.c.playlist_id, func.count())
            .where(playlist_tracks.c.playlist_id.in_(ids))
            .group_by(playlist_tracks.c.playlist_id)
        ).all()
    )
    track_duration = (
        select(func.max(uploads.c.duration))
        .where(
            uploads.c.track_id == playlist_tracks.c.track_id, uploads.c.import_status.in_(PLAYABLE_STATUSES)
        )
        .scalar_subquery()
    )
    durations = dict(
        call.conn.execute(
            select(playlist_tracks.c.playlist_id, func.coalesce(func.sum(track_duration), 0))
            .where(playlist_tracks.c.playlist_id.in_(ids))
            .group_by(playlist_tracks.c.playlist_id)
        ).all()
    )
    playable = set(
        call.conn.execute(
            select(playlist_tracks.c.playlist_id).where(
                playlist_tracks.c.playlist_id.in_(ids),
                playlist_tracks.c.track_id.in_(playable_track_ids(call.viewer_id)),
            )
        ).scalars()
    )
    return [
        shapes.playlist(
            call.services.instance,
            row,
            owners[row["user_id"]],
            tracks_count=counts.get(row["id"], 0),
            duration=int(durations.get(row["id"], 0)),
            is_playable=None if fresh else row["id"] in playable,
        )
        for row in rows
    ]


def _playlist(call: Call, *, owned: bool) -> RowMapping:
    try:
        playlist_id = int(call.request.path_params["id"])
    except ValueError:
        raise not_found() from None
    row = (
        call.conn.execute(select(playlists).where(playlists.c.id == playlist_id, _visible(call.viewer_id)))
        .mappings()
        .first()
    )
    if row is None or (owned and row["user_id"] != call.viewer_id):
        raise not_found()
    return row


@api_view(scope="playlists")
def create_playlist(call: Call) -> Response:
    errors: dict[str, list[str]] = {}
    name = call.payload.get("name")
    if name is None or not str(name).strip():
        errors["name"] = ["This field is required." if name is None else "This field may not be blank."]
    elif len(str(name)) > 100:
        errors["name"] = ["Ensure this field has no more than 100 characters."]
    privacy = call.payload.get("privacy_level", call.user["privacy_level"])
    if privacy not in PRIVACY_LEVELS:
        errors["privacy_level"] = [f'"{privacy}" is not a valid choice.']
    if errors:
        raise invalid(errors)
    moment = now()
    result = call.conn.execute(
        playlists.insert().values(
            user_id=call.user["id"],
            name=str(name).strip(),
            privacy_level=privacy,
            creation_date=moment,
            modification_date=moment,
        )
    )
    row = (
        call.conn.execute(select(playlists).where(playlists.c.id == result.inserted_primary_key[0]))
        .mappings()
        .one()
    )
    return created(_render(call, [row], fresh=True)[0])


@api_view(scope="playlists")
def list_playlists(call: Call) -> dict[str, Any]:
    query = select(playlists.c.id).where(_visible(call.viewer_id))
    if call.query("scope") == "me":
        query = query.where(playlists.c.user_id == call.viewer_id)
    query = query.order_by(playlists.c.creation_date.desc(), playlists.c.id.desc())

    def render(ids: list[int]) -> list[Any]:
        rows = {
            r["id"]: r for r in call.conn.execute(select(playlists).where(playlists.c.id.in_(ids))).mappings()
        }
        return _render(call, [rows[i] for i in ids])

    return paginate(call, query, render)


@api_view(scope="playlists")
def get_playlist(call: Call) -> Any:
    return _render(call, [_playlist(call, owned=False)])[0]


@api_view(scope="playlists")
def delete_playlist(call: Call) -> Response:
    row = _playlist(call, owned=True)
    call.conn.execute(playlists.delete().where(playlists.c.id == row["id"]))
    return Response(status_code=204)


def _entries(call: Call, playlist_id: int, *, from_index: int = 0) -> list[dict[str, Any]]:
    rows = (
        call.conn.execute(
            select(playlist_tracks)
            .where(playlist_tracks.c.playlist_id == playlist_id, playlist_tracks.c.index >= from_index)
            .order_by(playlist_tracks.c.index)
        )
        .mappings()
        .all()
    )
    rendered = {t["id"]: t for t in call.catalog().tracks(list(dict.fromkeys(r["track_id"] for r in rows)))}
    return [
        {
            "track": rendered[row["track_id"]],
            "index": row["index"],
            "creation_date": shapes.iso(row["creation_date"]),
        }
        for row in rows
        if row["track_id"] in rendered
    ]


@api_view(scope="playlists")
def add_tracks(call: Call) -> Response:
    row = _playlist(call, owned=True)
    requested = call.payload.getlist("tracks")
    if not requested:
        raise invalid({"tracks": ["This field is required."]})
    track_ids = [track_reference(call, value, "tracks") for value in requested]
    existing = (
        call.conn.execute(
            select(playlist_tracks.c.track_id).where(playlist_tracks.c.playlist_id == row["id"])
        )
        .scalars()
        .all()
    )
    maximum = preferences.get(call.conn, "playlists__max_tracks")
    if len(existing) + len(track_ids) > maximum:
        raise ApiError(400, {"playlist": [f"Playlist would reach the maximum of {maximum} tracks"]})
    allow_duplicates = _body_flag(call, "allow_duplicates", default=True)
    if not allow_duplicates and (duplicates := [t for t in track_ids if t in set(existing)]):
        titles = call.conn.execute(select(tracks.c.title).where(tracks.c.id.in_(duplicates))).scalars().all()
        raise ApiError(
            400,
            {
                "playlist": {
                    "non_field_errors": [
                        {
                            "tracks": list(titles),
                            "playlist_name": row["name"],
                            "code": "tracks_already_exist_in_playlist",
                        }
                    ]
                }
            },
        )
    moment = now()
    start = len(existing)
    if track_ids:
        call.conn.execute(
            playlist_tracks.insert(),
            [
                {"playlist_id": row["id"], "track_id": t, "index": start + i, "creation_date": moment}
                for i, t in enumerate(track_ids)
            ],
        )
    call.conn.execute(playlists.update().where(playlists.c.id == row["id"]).values(modification_date=moment))
    added = _entries(call, row["id"], from_index=start)
    return created({"count": len(added), "results": added})


def _body_flag(call: Call, name: str, *, default: bool) -> bool:
    value = call.payload.get(name)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false", "1", "0"):
        return value.lower() in ("true", "1")
    return default


@api_view(scope="playlists")
def playlist_tracks_view(call: Call) -> dict[str, Any]:
    row = _playlist(call, owned=False)
    entries = _entries(call, row["id"])
    return {"count": len(entries), "results": entries}


@api_view(scope="playlists")
def clear_playlist(call: Call) -> Response:
    row = _playlist(call, owned=True)
    call.conn.execute(playlist_tracks.delete().where(playlist_tracks.c.playlist_id == row["id"]))
    call.conn.execute(playlists.update().where(playlists.c.id == row["id"]).values(modification_date=now()))
    return Response(status_code=204)
