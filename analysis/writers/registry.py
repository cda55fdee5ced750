"""Report writers registered by name: each a pure function from a `RunAnalysis` to text.

Modelled on krr's formatter registry: a decorator adds a writer to one dict, `find` and
`available` serve the CLI (``fwload report --format``), and the caller decides where the
text goes, so writers never touch the file system.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from fwload.errors import UsageError

if TYPE_CHECKING:
    from analysis.analyse import RunAnalysis

Render = Callable[["RunAnalysis"], str]


@dataclass(frozen=True)
class Writer:
    name: str
    filename: str
    """The file it produces in the run directory."""
    description: str
    render: Render


_WRITERS: dict[str, Writer] = {}


def register(name: str, filename: str, description: str) -> Callable[[Render], Render]:
    """Register ``render`` as the writer ``name`` producing ``filename``."""

    def decorator(render: Render) -> Render:
        _WRITERS[name] = Writer(name, filename, description, render)
        return render

    return decorator


def available() -> list[str]:
    return sorted(_WRITERS)


def find(name: str) -> Writer:
    try:
        return _WRITERS[name]
    except KeyError:
        raise UsageError(f"unknown report format {name!r}", f"use one of: {', '.join(available())}") from None


def all_writers() -> list[Writer]:
    return [_WRITERS[name] for name in available()]
