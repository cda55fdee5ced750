"""Dressing a method's payload the way Funkwhale 1.4 answers Subsonic clients.

From ``api/funkwhale_api/subsonic/renderers.py`` (``structure_payload``, the JSON and XML
renderers) and ``negotiation.py``: ``f=json`` or ``f=xml`` (the default), anything else a
406; the payload goes under ``subsonic-response`` with ``funkwhaleVersion``, ``status``,
``type`` and ``version``, its top-level keys sorted; an ``error`` makes the status
``failed`` (still HTTP 200). An empty payload (``scrobble``'s ``{}``) is sent bare, not
wrapped, as the renderers do for any falsy data.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import datetime
from typing import Any

from starlette.responses import JSONResponse, Response

from fwload.standin.api.instance import FUNKWHALE_VERSION

API_VERSION = "1.16.0"
FORMATS = ("json", "xml")
XML_NAMESPACE = "http://subsonic.org/restapi"

NOT_ACCEPTABLE = {"detail": "Could not satisfy the request Accept header."}

MISSING_PARAMETER = 10
WRONG_CREDENTIALS = 40
NOT_FOUND = 70
GENERIC = 0


def failure(code: int, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


def structure(data: dict[str, Any]) -> dict[str, Any]:
    payload: dict[str, Any] = {"funkwhaleVersion": FUNKWHALE_VERSION, "status": "ok", "type": "funkwhale",
                               "version": API_VERSION}
    payload.update(data)
    if "detail" in payload:
        payload["error"] = {"code": GENERIC, "message": payload.pop("detail")}
    if "error" in payload:
        payload["status"] = "failed"
    return dict(sorted(payload.items()))


def render(data: dict[str, Any], fmt: str, status: int = 200) -> Response:
    """The answer to one call in format `fmt` (already checked to be in `FORMATS`)."""
    content_type = {"Content-Type": "application/json" if fmt == "json" else "text/xml"}  # DRF adds no charset
    if not data:
        return Response(b"{}", status_code=status, headers=content_type)
    if fmt == "json":
        return _Json({"subsonic-response": structure(data)}, status_code=status)
    tree = _xml_tree("subsonic-response", {**structure(data), "xmlns": XML_NAMESPACE})
    body = b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(tree, encoding="utf-8")
    return Response(body, status_code=status, headers=content_type)


class _Json(JSONResponse):
    """DRF's JSON: compact, UTF-8, datetimes in ISO 8601 with ``Z``."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=False, separators=(",", ":"), default=_iso).encode("utf-8")


def _iso(value: Any) -> str:
    if isinstance(value, datetime):
        text = value.isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _xml_tree(tag: str, data: dict[str, Any]) -> ET.Element:
    """``dict_to_xml_tree``: objects and lists become child elements, scalars attributes."""
    root = ET.Element(tag)
    for key, value in data.items():
        if isinstance(value, dict):
            root.append(_xml_tree(key, value))
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, dict):
                    root.append(_xml_tree(key, item))
                else:
                    element = ET.SubElement(root, key)
                    element.text = str(item)
        elif key == "value":
            root.text = str(value)
        else:
            root.set(key, _iso(value) if isinstance(value, datetime) else str(value))
    return root
