"""Request bodies as DRF reads them: JSON, form-encoded or multipart, for any endpoint."""

from __future__ import annotations

import json
from typing import Any

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request

from fwload.standin.api.errors import ApiError, body_too_large

_FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


class Payload:
    """The parsed body: `get`/`getlist` for fields, `file` for uploaded files."""

    def __init__(
        self,
        fields: dict[str, list[Any]] | None = None,
        *,
        form: FormData | None = None,
        document: Any = None,
    ) -> None:
        self._fields = fields or {}
        self._form = form
        self.document = document
        """The JSON document itself (an object, or anything else a client sent)."""

    @classmethod
    def from_json(cls, document: Any) -> Payload:
        fields = {}
        if isinstance(document, dict):
            fields = {key: value if isinstance(value, list) else [value] for key, value in document.items()}
        return cls(fields, document=document)

    @classmethod
    def from_form(cls, form: FormData) -> Payload:
        fields: dict[str, list[Any]] = {}
        for key, value in form.multi_items():
            fields.setdefault(key, []).append(value)
        return cls(fields, form=form, document={key: values[-1] for key, values in fields.items()})

    def __contains__(self, name: str) -> bool:
        return name in self._fields

    def get(self, name: str, default: Any = None) -> Any:
        values = self._fields.get(name)
        if not values:
            return default
        value = values[-1]
        return None if isinstance(value, UploadFile) else value

    def getlist(self, name: str) -> list[Any]:
        return [v for v in self._fields.get(name, []) if not isinstance(v, UploadFile)]

    def file(self, name: str) -> UploadFile | None:
        for value in reversed(self._fields.get(name, [])):
            if isinstance(value, UploadFile):
                return value
        return None

    async def close(self) -> None:
        if self._form is not None:
            await self._form.close()


async def read_payload(request: Request, max_bytes: int) -> Payload:
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return Payload()
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > max_bytes:
        raise body_too_large()
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type in _FORM_TYPES:
        return Payload.from_form(await request.form(max_files=20, max_fields=1000))
    body = await request.body()
    if not body:
        return Payload()
    if media_type == "application/json" or media_type.endswith("+json"):
        try:
            return Payload.from_json(json.loads(body))
        except ValueError as error:
            raise ApiError(400, {"detail": f"JSON parse error - {error}"}) from None
    raise ApiError(415, {"detail": f'Unsupported media type "{media_type}" in request.'})
