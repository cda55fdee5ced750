"""Running ffmpeg to transcode one file, synchronously, in the process that asks.

Funkwhale 1.4 transcodes inside the API request: pydub decodes the whole upload with
ffmpeg and exports it with ffmpeg again (``music/utils.py::transcode_audio``). Here one
ffmpeg run decodes and encodes. It is a child of the asking process, so its CPU lands on
the stand-in (embedded) or on the ``api`` component's cgroup (stack mode), as the real
cost lands on the API pod.

Formats are Funkwhale's ``EXTENSION_TO_MIMETYPE`` (``music/utils.py``): ``aac`` and ``m4a``
both mean ``audio/x-m4a``.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

TIMEOUT_S = 300.0
"""Celery's task time limit in Funkwhale; a request waiting longer has long timed out."""


@dataclass(frozen=True, slots=True)
class Encoding:
    mimetype: str
    codec: str
    muxer: str
    max_bitrate: int = 320_000


ENCODINGS = {
    "mp3": Encoding("audio/mpeg", "libmp3lame", "mp3"),
    "ogg": Encoding("audio/ogg", "libvorbis", "ogg"),
    "opus": Encoding("audio/opus", "libopus", "opus", 256_000),  # libopus' cap for one channel
    "aac": Encoding("audio/x-m4a", "aac", "ipod"),
    "m4a": Encoding("audio/x-m4a", "aac", "ipod"),
    "flac": Encoding("audio/flac", "flac", "flac"),
}
MIMETYPE_EXTENSIONS = {"audio/mpeg": "mp3", "audio/ogg": "ogg", "audio/opus": "opus", "audio/x-m4a": "m4a",
                       "audio/flac": "flac"}
"""Funkwhale's ``MIMETYPE_TO_EXTENSION`` for the formats above (the last extension of a type wins)."""


class TranscodeFailed(Exception):
    """ffmpeg could not make the file (a broken upload, a missing encoder)."""


class Ffmpeg:
    """The ffmpeg program, or None found: then `notice` says why nothing is transcoded."""

    def __init__(self, program: str) -> None:
        self.path = shutil.which(program) if program else None
        if not program:
            self.notice = ("transcoding is off (--ffmpeg ''): listen URLs asking to= or max_bitrate= get the "
                           "original file")
        elif self.path is None:
            self.notice = (f"ffmpeg ({program!r}) is not installed or not on PATH: listen URLs asking to= or "
                           "max_bitrate= get the original file; install ffmpeg (apt-get install ffmpeg) to "
                           "transcode as Funkwhale does")
        else:
            self.notice = ""

    @property
    def available(self) -> bool:
        return self.path is not None

    def transcode(self, source: Path, target: Path, extension: str, bitrate: int) -> None:
        """Write `source` as `extension` at `bitrate` bits per second to `target` (atomically)."""
        if self.path is None:
            raise TranscodeFailed("no ffmpeg")
        encoding = ENCODINGS[extension]
        partial = target.with_name(target.name + ".part")
        target.parent.mkdir(parents=True, exist_ok=True)
        argv = [self.path, "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-i", str(source),
                "-vn", "-map", "0:a:0", "-c:a", encoding.codec, "-b:a", str(min(bitrate, encoding.max_bitrate)),
                "-f", encoding.muxer, str(partial)]
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired:
            partial.unlink(missing_ok=True)
            raise TranscodeFailed(f"ffmpeg took more than {TIMEOUT_S:g} s") from None
        if done.returncode != 0:
            partial.unlink(missing_ok=True)
            raise TranscodeFailed((done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1])
        partial.rename(target)
