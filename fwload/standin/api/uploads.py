"""Uploads: the multipart POST (samples 21, 26, 29, 31, 33), the owner's list (the only way
to follow an import: samples 23, 24, 27, 30, 32), the detail GET that answers 404 until the
import finished or was skipped (samples 22, 25, 28), and DELETE.

A file mutagen takes for audio and cannot parse (a corrupt mp3) makes the POST answer
Django's HTML 500, with nothing stored: real 1.4 reads duration and bitrate in the
serializer's ``validate`` without a guard (funkwhale-api.md §2.2, `audio_tags.probe`).
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

from sqlalchemy import RowMapping, select
from starlette.datastructures import UploadFile
from starlette.responses import Response

from fwload.standin.api.errors import invalid, non_field, not_found, server_error
from fwload.standin.api.libraries import choice_error
from fwload.standin.api.pagination import paginate
from fwload.standin.api.params import ordering
from fwload.standin.api.views import Call, api_view, created
from fwload.standin.db.engine import now
from fwload.standin.db.tables import artists, libraries, tracks, uploads
from fwload.standin.domain import users as accounts
from fwload.standin.domain.audio_tags import UnparsableAudio, probe
from fwload.standin.domain.visibility import PLAYABLE_STATUSES

log = logging.getLogger("fwload.standin.uploads")

IMPORT_STATUSES = ("draft", "pending")
NO_FILE = "No file was submitted."
NOT_A_FILE = "The submitted data was not a file. Check the encoding type on the form."


def _import_metadata(raw: Any) -> tuple[dict[str, Any] | None, Any]:
    """(metadata, error): a JSON object whose ``title`` is required (ImportMetadataSerializer)."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return None, ["Value must be valid JSON."]
    if not isinstance(raw, dict):
        return None, {
            "non_field_errors": [f"Invalid data. Expected a dictionary, but got {type(raw).__name__}."]
        }
    problems: dict[str, list[str]] = {}
    title = raw.get("title")
    if title is None or not str(title).strip():
        problems["title"] = ["This field is required." if title is None else "This field may not be blank."]
    elif len(str(title)) > 500:
        problems["title"] = ["Ensure this field has no more than 500 characters."]
    position = raw.get("position")
    if position is not None:
        try:
            if int(position) < 1:
                problems["position"] = ["Ensure this value is greater than or equal to 1."]
        except (TypeError, ValueError):
            problems["position"] = ["A valid integer is required."]
    return (None, problems) if problems else (raw, None)


def _own_library(call: Call, value: str) -> RowMapping | None:
    try:
        uuid.UUID(value)
    except ValueError:
        return None
    return (
        call.conn.execute(
            select(libraries).where(libraries.c.uuid == value, libraries.c.user_id == call.user["id"])
        )
        .mappings()
        .first()
    )


@api_view(scope="libraries")
def create_upload(call: Call) -> Response:
    payload = call.payload
    errors: dict[str, Any] = {}
    audio_file = payload.file("audio_file")
    if audio_file is None:
        errors["audio_file"] = [NOT_A_FILE if payload.get("audio_file") else NO_FILE]
    library = None
    library_uuid = payload.get("library")
    if library_uuid:
        library = _own_library(call, str(library_uuid))
        if library is None:
            errors["library"] = [f"Object with uuid={library_uuid} does not exist."]
    if payload.get("channel"):
        errors["channel"] = [f"Object with uuid={payload.get('channel')} does not exist."]
    status = payload.get("import_status", "pending")
    if status not in IMPORT_STATUSES:
        errors["import_status"] = choice_error(status)
    metadata: dict[str, Any] = {}
    if "import_metadata" in payload:
        parsed, problem = _import_metadata(payload.get("import_metadata"))
        if problem is not None:
            errors["import_metadata"] = problem
        metadata = parsed or {}
    reference = str(payload.get("import_reference") or uuid.uuid4())
    if len(reference) > 50:
        errors["import_reference"] = ["Ensure this field has no more than 50 characters."]
    source = payload.get("source")
    if source is not None and len(str(source)) > 500:
        errors["source"] = ["Ensure this field has no more than 500 characters."]
    if errors:
        raise invalid(errors)
    if library is None:
        raise non_field("You need to specify a channel or a library")
    assert isinstance(audio_file, UploadFile)
    size = audio_file.size if audio_file.size is not None else _size(audio_file)
    if size / 1e6 > accounts.quota_status(call.conn, call.user)["remaining"]:
        raise non_field("upload_quota_reached")
    audio_file.file.seek(0)
    relative = call.services.media.save(audio_file.file, audio_file.filename)
    try:
        info = probe(call.services.media.path(relative), audio_file.filename)
    except UnparsableAudio as error:
        call.services.media.delete(relative)
        log.warning("upload %r refused with HTTP 500 (%s), as Funkwhale 1.4 does", audio_file.filename, error)
        raise server_error() from None
    try:
        result = call.conn.execute(
            uploads.insert().values(
                uuid=str(uuid.uuid4()),
                library_id=library["id"],
                track_id=None,
                file_path=relative,
                mimetype=info.mimetype,
                size=size,
                duration=info.duration,
                bitrate=info.bitrate,
                import_status=status,
                import_details={},
                import_metadata=metadata,
                import_reference=reference,
                source=None if source is None else str(source),
                creation_date=now(),
            )
        )
    except Exception:
        call.services.media.delete(relative)
        raise
    upload_id = int(result.inserted_primary_key[0])
    if status == "pending":
        call.after_commit.append(lambda: call.services.imports.enqueue(upload_id))
    row = call.conn.execute(select(uploads).where(uploads.c.id == upload_id)).mappings().one()
    return created(call.catalog().uploads([row])[0])


def _size(upload: UploadFile) -> int:
    upload.file.seek(0, 2)
    return upload.file.tell()


@api_view(scope="libraries")
def list_uploads(call: Call) -> dict[str, Any]:
    """Only the caller's own uploads, whatever their status."""
    query = (
        select(uploads.c.id)
        .join(libraries, libraries.c.id == uploads.c.library_id)
        .outerjoin(tracks, tracks.c.id == uploads.c.track_id)
        .outerjoin(artists, artists.c.id == tracks.c.artist_id)
        .where(libraries.c.user_id == call.user["id"])
    )
    if call.query("import_reference") is not None:
        query = query.where(uploads.c.import_reference == call.query("import_reference"))
    if statuses := call.query_list("import_status"):
        query = query.where(uploads.c.import_status.in_(statuses))
    if call.query("library"):
        query = query.where(libraries.c.uuid == call.query("library"))
    if call.query("mimetype"):
        query = query.where(uploads.c.mimetype == call.query("mimetype"))
    if call.query("track"):
        query = query.where(tracks.c.uuid == call.query("track"))
    fields = {
        "creation_date": uploads.c.creation_date,
        "import_date": uploads.c.import_date,
        "bitrate": uploads.c.bitrate,
        "size": uploads.c.size,
        "artist__name": artists.c.name,
    }
    query = query.order_by(*ordering(call, fields, ["-creation_date"], uploads.c.id.desc()))

    def render(ids: list[int]) -> list[Any]:
        rows = {
            row["id"]: row
            for row in call.conn.execute(select(uploads).where(uploads.c.id.in_(ids))).mappings()
        }
        return call.catalog().uploads([rows[i] for i in ids])

    return paginate(call, query, render)


def _own_upload(call: Call, *, playable_only: bool) -> RowMapping:
    query = (
        select(uploads)
        .join(libraries, libraries.c.id == uploads.c.library_id)
        .where(uploads.c.uuid == call.request.path_params["uuid"], libraries.c.user_id == call.user["id"])
    )
    if playable_only:
        query = query.where(uploads.c.import_status.in_(PLAYABLE_STATUSES))
    row = call.conn.execute(query).mappings().first()
    if row is None:
        raise not_found()
    return row


@api_view(scope="libraries")
def get_upload(call: Call) -> Any:
    """404 while pending, draft or errored, even for the owner (sample 22)."""
    return call.catalog().uploads([_own_upload(call, playable_only=True)])[0]


@api_view(scope="libraries")
def delete_upload(call: Call) -> Response:
    row = _own_upload(call, playable_only=False)
    call.conn.execute(uploads.delete().where(uploads.c.id == row["id"]))
    call.after_commit.append(lambda: call.services.media.delete(row["file_path"]))
    return Response(status_code=204)
