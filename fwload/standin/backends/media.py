"""Where uploaded files live: MEDIA_ROOT/tracks/<2 hex>/<2 hex>/<2 hex>/<file name>.

Same layout as Funkwhale's ChunkedPath, so an nginx `internal` location (stack mode) serves
the files from the paths the database records.
"""

from __future__ import annotations

import re
import shutil
import uuid
from pathlib import Path
from typing import BinaryIO

_UNSAFE = re.compile(r"[^-\w.]", re.ASCII)


def safe_file_name(name: str | None) -> str:
    """Django storage's valid-name rule: base name only, spaces to '_', odd characters dropped."""
    base = Path((name or "").replace("\\", "/")).name.strip().replace(" ", "_")
    cleaned = _UNSAFE.sub("", base).lstrip(".")
    return cleaned or "audio_file"


class MediaStorage:
    """Stores uploaded files under a root and finds them again by relative path."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def save(self, source: BinaryIO, original_name: str | None) -> str:
        """Copy `source` (read in chunks) into a fresh chunked directory; return the relative path."""
        hexa = uuid.uuid4().hex
        relative = Path("tracks", hexa[0:2], hexa[2:4], hexa[4:6], safe_file_name(original_name))
        target = self.root / relative
        if target.exists():
            relative = relative.with_name(f"{relative.stem}_{hexa[6:13]}{relative.suffix}")
            target = self.root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".part")
        with partial.open("wb") as out:
            shutil.copyfileobj(source, out, 256 * 1024)
        partial.rename(target)
        return relative.as_posix()

    def save_attachment(self, data: bytes, extension: str) -> str:
        """A picture (an album cover) under attachments/, as Funkwhale keeps attachments."""
        hexa = uuid.uuid4().hex
        relative = Path("attachments", hexa[0:2], hexa[2:4], hexa[4:6], f"{hexa}.{extension}")
        target = self.root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".part")
        partial.write_bytes(data)
        partial.rename(target)
        return relative.as_posix()

    def path(self, relative: str) -> Path:
        return self.root / relative

    def delete(self, relative: str) -> None:
        self.path(relative).unlink(missing_ok=True)
