"""Favorite tracks (samples 41-43): add (201, idempotent), remove (204, no body), the
caller's ids (``all``), and the paginated list of favorites anyone may see."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from starlette.responses import Response

from fwload.standin.api.errors import ApiError
from fwload.standin.api.pagination import paginate
from fwload.standin.api.params import track_reference
from fwload.standin.api.shapes import iso
from fwload.standin.api.views import Call, api_view, created
from fwload.standin.db.engine import now
from fwload.standin.db.tables import favorites
from fwload.standin.domain.visibility import activity_visible


def _own(call: Call, track_id: int) -> Any:
    return (
        call.conn.execute(
            select(favorites).where(favorites.c.user_id == call.user["id"], favorites.c.track_id == track_id)
        )
        .mappings()
        .first()
    )


@api_view(scope="favorites")
def add_favorite(call: Call) -> Response:
    track_id = track_reference(call, call.payload.get("track"))
    row = _own(call, track_id)
    if row is None:
        call.conn.execute(
            favorites.insert().values(user_id=call.user["id"], track_id=track_id, creation_date=now())
        )
        row = _own(call, track_id)
    return created({"id": row["id"], "track": track_id, "creation_date": iso(row["creation_date"])})


@api_view(scope="favorites")
def remove_favorite(call: Call) -> Response:
    """204 with a JSON content type and no body; 400 ``{}`` when there was no such favorite."""
    try:
        track_id = int(call.payload.get("track"))
    except (TypeError, ValueError):
        raise ApiError(400, {}) from None
    deleted = call.conn.execute(
        favorites.delete().where(favorites.c.user_id == call.user["id"], favorites.c.track_id == track_id)
    )
    if deleted.rowcount == 0:
        raise ApiError(400, {})
    return Response(status_code=204, media_type="application/json")


@api_view(access="authenticated", scope="favorites")
def all_favorites(call: Call) -> dict[str, Any]:
    rows = call.conn.execute(
        select(favorites.c.id, favorites.c.track_id)
        .where(favorites.c.user_id == call.user["id"])
        .order_by(favorites.c.id)
    ).all()
    return {"results": [{"id": row.id, "track": row.track_id} for row in rows], "count": len(rows)}


@api_view(scope="favorites")
def list_favorites(call: Call) -> dict[str, Any]:
    query = select(favorites.c.id).where(activity_visible(favorites.c.user_id, call.viewer_id))
    if call.query("scope") == "me":
        query = query.where(favorites.c.user_id == call.viewer_id)
    query = query.order_by(favorites.c.creation_date.desc(), favorites.c.id.desc())

    def render(ids: list[int]) -> list[Any]:
        rows = {
            r["id"]: r for r in call.conn.execute(select(favorites).where(favorites.c.id.in_(ids))).mappings()
        }
        return call.catalog().activities([rows[i] for i in ids])

    return paginate(call, query, render)
