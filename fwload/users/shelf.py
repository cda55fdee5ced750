"""The audio an uploader sends: the fixtures folder, made unique per upload in memory.

Real Funkwhale skips an upload whose track (same title/artist/album/position) the same user
already has, so every valid upload is retagged with tags no other upload carries.
"""

from __future__ import annotations

import itertools
import random
import uuid
from dataclasses import dataclass, replace

from fwload.fixtures import BAD_KINDS, FixtureKind, Manifest, ensure_fixtures, retag

MIMETYPES = {"mp3": "audio/mpeg", "ogg": "audio/ogg", "flac": "audio/flac"}


@dataclass(frozen=True, slots=True)
class Upload:
    filename: str
    data: bytes
    format: str
    kind: str

    @property
    def mimetype(self) -> str:
        return MIMETYPES.get(self.format, "application/octet-stream")

    def as_duplicate(self) -> Upload:
        """The same bytes again: the server must answer ``skipped`` for the same user."""
        return replace(self, kind="duplicate")


class FixtureShelf:
    """Fixture bytes in memory (a few MB), loaded once per process."""

    def __init__(self, manifest: Manifest, folder: str = ""):
        self.folder = folder
        self.valid: dict[str, list[tuple[str, bytes]]] = {}
        self.bad_files: dict[str, list[tuple[str, str, bytes]]] = {}
        for entry in manifest.files:
            data = manifest.path(entry).read_bytes()
            if entry.kind == FixtureKind.VALID:
                self.valid.setdefault(entry.format, []).append((entry.name, data))
            elif entry.kind != FixtureKind.DUPLICATE:
                self.bad_files.setdefault(str(entry.kind.value), []).append((entry.name, entry.format, data))
        self._serial = itertools.count(1)
        self._run = uuid.uuid4().hex[:6]

    @classmethod
    def load(cls, folder: str) -> FixtureShelf:
        return cls(ensure_fixtures(folder), folder)

    def bad_kinds(self) -> list[str]:
        return [str(kind.value) for kind in BAD_KINDS]

    def unique(self, fmt: str) -> Upload:
        """A valid track of format ``fmt`` whose tags no other upload of this run carries."""
        name, data = random.choice(self.valid[fmt])
        n = next(self._serial)
        tagged = retag(data, fmt, title=f"Take {n} {self._run}", artist=f"fwload artist {self._run}-{n % 97}",
                       album=f"fwload album {self._run}-{n % 41}", track_number=n % 20 + 1)
        return Upload(f"take-{self._run}-{n}.{fmt}", tagged, fmt, "valid")

    def bad(self, kind: str) -> Upload:
        name, fmt, data = random.choice(self.bad_files[kind])
        return Upload(name, data, fmt, kind)
