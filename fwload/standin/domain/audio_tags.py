"""What mutagen says about an uploaded file, at upload time and at import time.

At upload, Funkwhale fills mimetype (libmagic, else the extension), duration and bitrate
with ``mutagen.File`` in ``UploadForOwnerSerializer.validate`` (music/serializers.py,
music/utils.py::get_audio_file_data). Nothing guards that call: a file mutagen takes for a
known type (by its name or first bytes) and then cannot parse, such as a corrupt ``.mp3``,
raises ``HeaderNotFoundError`` and the POST answers HTTP 500 (`UnparsableAudio` here); a
file of no known type (a ``.txt``) is accepted with no duration. At import, it reads tags;
a file that carries no tag at all makes the task crash before its error handler, so the
upload stays ``pending`` forever (funkwhale-api.md §12). `read_tags` returns None then.
"""

from __future__ import annotations

import base64
import mimetypes
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mutagen
from mutagen import MutagenError
from mutagen.flac import Picture as FlacPicture
from mutagen.mp4 import MP4Cover

_MIMETYPES = {
    "MP3": "audio/mpeg",
    "EasyMP3": "audio/mpeg",
    "OggVorbis": "audio/ogg",
    "OggOpus": "audio/opus",
    "OggFLAC": "audio/ogg",
    "FLAC": "audio/flac",
    "MP4": "audio/x-m4a",
    "EasyMP4": "audio/x-m4a",
    "AIFF": "audio/x-aiff",
}

MIMETYPE_EXTENSIONS = {
    "audio/mpeg": "mp3",
    "audio/mp3": "mp3",
    "audio/ogg": "ogg",
    "audio/opus": "opus",
    "audio/x-m4a": "m4a",
    "audio/flac": "flac",
    "audio/x-flac": "flac",
    "audio/aiff": "aiff",
    "audio/x-aiff": "aiff",
}


@dataclass(frozen=True, slots=True)
class FileInfo:
    mimetype: str
    duration: int | None
    bitrate: int | None


@dataclass(frozen=True, slots=True)
class FileTags:
    title: str | None
    artist: str | None
    album: str | None
    position: int | None
    disc_number: int | None

    def as_metadata(self) -> dict[str, Any]:
        """The tags present, as Funkwhale reports them in ``file_metadata``."""
        names = ("title", "artist", "album", "position", "disc_number")
        return {name: getattr(self, name) for name in names if getattr(self, name) is not None}


class UnparsableAudio(Exception):
    """mutagen recognised the file's type and failed to parse it: real 1.4 answers the upload 500."""


def _open(path: Path) -> Any | None:
    try:
        return mutagen.File(path, easy=True)
    except (MutagenError, OSError, ValueError):
        return None


def probe(path: Path, original_name: str | None) -> FileInfo:
    """Mimetype, whole seconds and bits per second; None where mutagen cannot tell.

    Raises `UnparsableAudio` where Funkwhale's serializer lets mutagen's error escape.
    """
    try:
        audio = mutagen.File(path, easy=True)
    except MutagenError as error:
        raise UnparsableAudio(f"{type(error).__name__}: {error}") from error
    except (OSError, ValueError):
        audio = None
    if audio is None:
        guessed = mimetypes.guess_type(original_name or path.name)[0]
        return FileInfo(mimetype=guessed or "application/octet-stream", duration=None, bitrate=None)
    mimetype = _MIMETYPES.get(type(audio).__name__) or (
        audio.mime[0] if audio.mime else "application/octet-stream"
    )
    length = getattr(audio.info, "length", None)
    bitrate = getattr(audio.info, "bitrate", None)
    return FileInfo(
        mimetype=mimetype,
        duration=int(length) if length is not None else None,
        bitrate=int(bitrate) if bitrate else None,
    )


def read_tags(path: Path) -> FileTags | None:
    """The tags Funkwhale imports from, or None when the import would crash (no tags at all)."""
    audio = _open(path)
    if audio is None or not audio.tags:
        return None

    def first(key: str) -> str | None:
        values = audio.tags.get(key) if hasattr(audio.tags, "get") else None
        if not values:
            return None
        value = str(values[0]).strip()
        return value or None

    return FileTags(
        title=first("title"),
        artist=first("artist"),
        album=first("album"),
        position=_number(first("tracknumber")),
        disc_number=_number(first("discnumber")),
    )


@dataclass(frozen=True, slots=True)
class Picture:
    data: bytes
    mimetype: str


def embedded_picture(path: Path) -> Picture | None:
    """The first picture a file embeds (ID3 APIC, FLAC or Vorbis-comment picture, MP4 covr), as
    Funkwhale's import takes an album cover from the file."""
    try:
        audio = mutagen.File(path)
    except (MutagenError, OSError, ValueError):
        return None
    if audio is None:
        return None
    tags = audio.tags
    found = [(p.data, p.mime) for p in getattr(audio, "pictures", None) or []]
    if tags is not None and hasattr(tags, "getall"):
        found += [(frame.data, frame.mime) for frame in tags.getall("APIC")]
    elif tags is not None and hasattr(tags, "get"):
        for encoded in tags.get("metadata_block_picture") or []:
            try:
                picture = FlacPicture(base64.b64decode(encoded))
            except (MutagenError, ValueError):
                continue
            found.append((picture.data, picture.mime))
        found += [(bytes(c), "image/png" if c.imageformat == MP4Cover.FORMAT_PNG else "image/jpeg")
                  for c in tags.get("covr") or [] if isinstance(c, MP4Cover)]
    data, mimetype = next(((d, m) for d, m in found if d), (b"", ""))
    return Picture(bytes(data), mimetype or "image/jpeg") if data else None


def _number(value: str | None) -> int | None:
    """'3' or '3/12' -> 3, as Funkwhale reads track and disc numbers."""
    if value is None:
        return None
    match = re.match(r"\s*(\d+)", value)
    return int(match.group(1)) if match else None
