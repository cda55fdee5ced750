"""How numbers read in reports: one place, so summary.md, junit.xml and report.html agree."""

from __future__ import annotations

import math
from typing import Any

MIB = 1024**2


def known(value: Any) -> bool:
    if value is None or isinstance(value, bool):
        return False
    try:
        return not math.isnan(float(value))
    except (TypeError, ValueError):
        return False


def ms(value: Any) -> str:
    """Milliseconds, switching to seconds from 10 s up."""
    if not known(value):
        return "–"
    value = float(value)
    return (
        f"{value / 1000:.1f} s"
        if value >= 10_000
        else f"{value:.0f} ms"
        if value >= 10
        else f"{value:.1f} ms"
    )


def mib(value: Any) -> str:
    return f"{float(value) / MIB:.1f} MiB" if known(value) else "–"


def millicores(value: Any) -> str:
    return f"{float(value):.0f}m" if known(value) else "–"


def pct(value: Any, digits: int = 0) -> str:
    return f"{float(value):.{digits}f}%" if known(value) else "–"


def ratio(value: Any) -> str:
    return f"{float(value) * 100:.2f}%" if known(value) else "–"


def count(value: Any) -> str:
    return f"{int(round(float(value))):,}" if known(value) else "–"


def rate(value: Any, unit: str = "/s") -> str:
    return f"{float(value):.2f}{unit}" if known(value) else "–"


def seconds(value: Any) -> str:
    return f"{float(value):.1f} s" if known(value) else "–"


def bytes_per_s(value: Any) -> str:
    return f"{float(value) / MIB:.2f} MiB/s" if known(value) else "–"


def value(number: Any, unit: str) -> str:
    """A check's observed value or threshold in its unit."""
    formatter = {"ms": ms, "%": lambda v: pct(v, 1), "ratio": ratio, "count": count, "s": seconds}.get(unit)
    if formatter is not None:
        return formatter(number)
    return f"{number:g}" if known(number) else "–"


VERDICT_WORDS = {True: "pass", False: "FAIL", None: "n/a"}
WARNING = "warn"
ICONS = {"pass": "✅", "FAIL": "❌", "n/a": "➖", WARNING: "⚠️"}
"""Markdown shows verdict words as emoji; HTML as coloured badges (emoji fonts are not everywhere)."""


def verdict_word(passed: bool | None) -> str:
    return VERDICT_WORDS[passed]
