"""Libraries: create (sample 19), list with ``scope=me`` (sample 20), retrieve, delete."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import RowMapping, select
from starlette.responses import Response

from fwload.standin.api.errors import invalid, not_found
from fwload.standin.api.pagination import paginate
from fwload.standin.api.params import ordering, words_match
from fwload.standin.api.views import Call, api_view, created
from fwload.standin.db.engine import now
from fwload.standin.db.tables import libraries, uploads
from fwload.standin.domain.visibility import library_visible

PRIVACY_LEVELS = ("me", "instance", "everyone")


def choice_error(value: Any) -> list[str]:
    return [f'"{value}" is not a valid choice.']


@api_view(scope="libraries")
def create_library(call: Call) -> Response:
    errors: dict[str, list[str]] = {}
    name = call.payload.get("name")
    if name is None or not str(name).strip():
        errors["name"] = ["This field is required."] if name is None else ["This field may not be blank."]
    elif len(str(name).strip()) > 100:
        errors["name"] = ["Ensure this field has no more than 100 characters."]
    privacy = call.payload.get("privacy_level", "me")
    if privacy not in PRIVACY_LEVELS:
        errors["privacy_level"] = choice_error(privacy)
    if errors:
        raise invalid(errors)
    description = call.payload.get("description")
    result = call.conn.execute(
        libraries.insert().values(
            uuid=str(uuid.uuid4()),
            user_id=call.user["id"],
            name=str(name).strip(),
            description=None if description is None else str(description),
            privacy_level=privacy,
            creation_date=now(),
        )
    )
    row = _by_id(call, result.inserted_primary_key[0])
    return created(call.catalog().libraries([row], empty_size=0)[0])


@api_view(scope="libraries")
def list_libraries(call: Call) -> dict[str, Any]:
    query = select(libraries.c.id).where(library_visible(call.viewer_id))
    if call.query("scope") == "me":
        query = query.where(libraries.c.user_id == call.viewer_id)
    if call.query("q"):
        query = query.where(words_match(call.query("q") or "", [libraries.c.name]))
    if call.query("privacy_level"):
        query = query.where(libraries.c.privacy_level == call.query("privacy_level"))
    fields = {"creation_date": libraries.c.creation_date, "name": libraries.c.name}
    query = query.order_by(*ordering(call, fields, ["-creation_date"], libraries.c.id.desc()))

    def render(ids: list[int]) -> list[Any]:
        rows = {
            row["id"]: row
            for row in call.conn.execute(select(libraries).where(libraries.c.id.in_(ids))).mappings()
        }
        return call.catalog().libraries([rows[i] for i in ids], empty_size=None)

    return paginate(call, query, render)


def visible_library(call: Call, library_uuid: str) -> RowMapping:
    row = (
        call.conn.execute(
            select(libraries).where(libraries.c.uuid == library_uuid, library_visible(call.viewer_id))
        )
        .mappings()
        .first()
    )
    if row is None:
        raise not_found()
    return row


@api_view(scope="libraries")
def get_library(call: Call) -> Any:
    row = visible_library(call, call.request.path_params["uuid"])
    return call.catalog().libraries([row], empty_size=None)[0]


@api_view(scope="libraries")
def delete_library(call: Call) -> Response:
    row = visible_library(call, call.request.path_params["uuid"])
    if row["user_id"] != call.viewer_id:
        raise not_found()
    files = (
        call.conn.execute(select(uploads.c.file_path).where(uploads.c.library_id == row["id"]))
        .scalars()
        .all()
    )
    call.conn.execute(libraries.delete().where(libraries.c.id == row["id"]))
    call.after_commit.extend(lambda path=path: call.services.media.delete(path) for path in files)
    return Response(status_code=204)


def _by_id(call: Call, library_id: int) -> RowMapping:
    return call.conn.execute(select(libraries).where(libraries.c.id == library_id)).mappings().one()
