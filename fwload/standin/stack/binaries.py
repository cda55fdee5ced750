"""Finding the programs stack mode runs, and one message listing every one that is missing.

Debian keeps PostgreSQL's server programs out of PATH (``/usr/lib/postgresql/<major>/bin``),
so those are looked for there too, newest major first.
"""

from __future__ import annotations

import glob
import os
import shutil
from collections.abc import Iterable
from pathlib import Path

from fwload.errors import UsageError

PACKAGES = {
    "nginx": "nginx-light",
    "redis-server": "redis-server",
    "initdb": "postgresql",
    "postgres": "postgresql",
}
"""Debian/Ubuntu package that provides each program."""

_POSTGRES_DIRS = "/usr/lib/postgresql/*/bin"


def find(program: str) -> Path | None:
    found = shutil.which(program)
    if found:
        return Path(found)
    if PACKAGES.get(program) == "postgresql":
        majors = sorted(glob.glob(_POSTGRES_DIRS), key=_major, reverse=True)
        for directory in majors:
            candidate = Path(directory) / program
            if candidate.is_file() and os.access(candidate, os.X_OK):
                return candidate
    return None


def require(programs: Iterable[str], *, why: dict[str, str] | None = None) -> dict[str, Path]:
    """Paths of `programs`, or one UsageError naming every missing one and what to install."""
    found, missing = {}, []
    for program in dict.fromkeys(programs):
        path = find(program)
        if path is None:
            missing.append(program)
        else:
            found[program] = path
    if missing:
        why = why or {}
        listed = ", ".join(f"{p} ({why[p]})" if p in why else p for p in missing)
        packages = " ".join(dict.fromkeys(PACKAGES.get(p, p) for p in missing))
        raise UsageError(
            f"stack mode needs programs that are not installed: {listed}",
            f"install them (Debian/Ubuntu: apt-get install {packages}), or run the embedded "
            "stand-in (fwload standin without --mode stack)",
        )
    return found


def _major(directory: str) -> int:
    try:
        return int(Path(directory).parent.name)
    except ValueError:
        return -1
