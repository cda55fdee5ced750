"""Listening history (samples 47-48): record a listening, list them (``scope=me``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from starlette.responses import Response

from fwload.standin.api.pagination import paginate
from fwload.standin.api.params import track_reference
from fwload.standin.api.shapes import iso
from fwload.standin.api.views import Call, api_view, created
from fwload.standin.db.engine import now
from fwload.standin.db.tables import listenings
from fwload.standin.domain.visibility import activity_visible


@api_view(scope="listenings")
def add_listening(call: Call) -> Response:
    track_id = track_reference(call, call.payload.get("track"))
    moment = now()
    result = call.conn.execute(
        listenings.insert().values(user_id=call.user["id"], track_id=track_id, creation_date=moment)
    )
    return created(
        {
            "id": result.inserted_primary_key[0],
            "user": call.user["id"],
            "track": track_id,
            "creation_date": iso(moment),
        }
    )


@api_view(scope="listenings")
def list_listenings(call: Call) -> dict[str, Any]:
    query = select(listenings.c.id).where(activity_visible(listenings.c.user_id, call.viewer_id))
    if call.query("scope") == "me":
        query = query.where(listenings.c.user_id == call.viewer_id)
    query = query.order_by(listenings.c.creation_date.desc(), listenings.c.id.desc())

    def render(ids: list[int]) -> list[Any]:
        rows = {
            r["id"]: r
            for r in call.conn.execute(select(listenings).where(listenings.c.id.in_(ids))).mappings()
        }
        return call.catalog().activities([rows[i] for i in ids])

    return paginate(call, query, render)
