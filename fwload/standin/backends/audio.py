"""Answering a listen request once the view has picked the file.

Real Funkwhale never streams audio itself: Django answers with an empty body and
``X-Accel-Redirect``, and nginx serves the file (Range, 206, 416, Content-Length,
Last-Modified, a Content-Type from nginx's own mime.types). `DirectAudio` does what that
pair does, from this process; `AccelRedirectAudio` is the Django half alone, for stack mode
where a real nginx does the rest.
"""

from __future__ import annotations

import abc
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import quote

from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from fwload.standin.settings import StandinSettings

NGINX_TYPES = {"mp3": "audio/mpeg", "ogg": "audio/ogg", "m4a": "audio/x-m4a", "jpg": "image/jpeg",
               "jpeg": "image/jpeg", "png": "image/png", "gif": "image/gif", "webp": "image/webp"}
"""The audio and picture entries of nginx's default mime.types; anything else (flac, opus...)
is octet-stream."""

_RANGE_SPEC = re.compile(r"\s*(\d*)\s*-\s*(\d*)\s*")

_416_PAGE = (
    "<html>\r\n<head><title>416 Requested Range Not Satisfiable</title></head>\r\n<body>\r\n"
    "<center><h1>416 Requested Range Not Satisfiable</h1></center>\r\n"
    "<hr><center>fwload standin</center>\r\n</body>\r\n</html>\r\n"
)


@dataclass(frozen=True, slots=True)
class AudioFile:
    """The file a listen request resolved to."""

    path: Path
    relative: str
    mimetype: str
    disposition: str | None


class AudioServing(abc.ABC):
    @abc.abstractmethod
    def respond(self, audio: AudioFile, range_header: str | None) -> ASGIApp:
        """Build the response; runs in a worker thread (may touch the disk)."""


class DirectAudio(AudioServing):
    """nginx's static file handling: 200 whole file, 206 for a satisfiable Range, else 416."""

    def respond(self, audio: AudioFile, range_header: str | None) -> ASGIApp:
        stat = os.stat(audio.path)
        headers = {"Content-Disposition": audio.disposition} if audio.disposition else {}
        plan = range_plan(range_header, stat.st_size)
        if plan == "unsatisfiable":
            return HTMLResponse(
                _416_PAGE, status_code=416, headers={**headers, "Content-Range": f"bytes */{stat.st_size}"}
            )
        extension = audio.path.suffix.lower().lstrip(".")
        response = FileResponse(
            audio.path,
            media_type=NGINX_TYPES.get(extension, "application/octet-stream"),
            headers=headers,
            stat_result=stat,
        )
        return response if plan == "ranges" else _WithoutRange(response)


class AccelRedirectAudio(AudioServing):
    """Django's half: empty body, the type and disposition, and where nginx finds the file."""

    def __init__(self, protected_path: str) -> None:
        self._prefix = protected_path.rstrip("/") + "/media/"

    def respond(self, audio: AudioFile, range_header: str | None) -> ASGIApp:
        headers = {"X-Accel-Redirect": self._prefix + quote(audio.relative)}
        if audio.disposition:
            headers["Content-Disposition"] = audio.disposition
        return Response(b"", media_type=audio.mimetype, headers=headers)


def range_plan(header: str | None, size: int) -> Literal["whole", "ranges", "unsatisfiable"]:
    """What nginx does with a Range header: ignore it, serve it, or answer 416."""
    if header is None or not header.strip().lower().startswith("bytes="):
        return "whole"
    satisfiable = False
    for spec in header.split("=", 1)[1].split(","):
        match = _RANGE_SPEC.fullmatch(spec)
        if match is None or match.group(1) == match.group(2) == "":
            return "unsatisfiable"
        first, last = match.group(1), match.group(2)
        if first == "":
            satisfiable |= int(last) > 0 and size > 0
        else:
            satisfiable |= int(first) < size and (last == "" or int(first) <= int(last))
    return "ranges" if satisfiable else "unsatisfiable"


class _WithoutRange:
    """Serve a FileResponse as if no Range header had been sent (nginx ignores other units)."""

    def __init__(self, response: FileResponse) -> None:
        self._response = response

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(name, value) for name, value in scope["headers"] if name != b"range"]
        await self._response({**scope, "headers": headers}, receive, send)


def make_audio_serving(settings: StandinSettings) -> AudioServing:
    if settings.audio_serving == "x-accel-redirect":
        return AccelRedirectAudio(settings.protected_path)
    return DirectAudio()
