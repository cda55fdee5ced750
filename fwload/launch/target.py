"""The target of a run: the URL the user named, or a local stand-in that fwload starts.

Shared by ``fwload run``, ``fwload demo`` and ``fwload ui`` so that all three start (and
stop) the stand-in the same way and hand the collector the same component process ids.
"""

from __future__ import annotations

import contextlib
from typing import Any

from rich.console import Console

from fwload import preflight


def start_target(host: str | None, stack: contextlib.ExitStack, console: Console,
                 standin_options: dict[str, Any] | None = None) -> tuple[str, Any]:
    """``(base URL, the StandinProcess started or None)``; the stand-in stops with ``stack``."""
    if host:
        return preflight.check_host(host), None
    from fwload.standin.launcher import StandinProcess

    console.print("no host given: starting the local stand-in of Funkwhale…")
    standin = stack.enter_context(StandinProcess(**(standin_options or {})))
    console.print(f"stand-in ready at {standin.url}", highlight=False)
    for notice in standin.notices:
        console.print(f"[yellow]notice:[/] {notice}", highlight=False)
    for finding in standin.findings:
        console.print(f"[yellow]finding:[/] {finding['component']}: {finding['detail']}", highlight=False)
    return standin.url, standin
