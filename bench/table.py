"""The result table: one row per measured ratio, and the machine it was measured on."""

from __future__ import annotations

import math
import os
import platform
from dataclasses import dataclass


@dataclass
class Row:
    """One ratio. ``ratio`` is always a number; ``met`` is None for reference rows without a target."""

    benchmark: str
    measure: str
    fwload: str
    baseline: str
    ratio: float
    target: str = ""
    met: bool | None = None

    @property
    def verdict(self) -> str:
        return "" if self.met is None else ("met" if self.met else "NOT MET")


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as file:
            for line in file:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine() -> str:
    cores = len(os.sched_getaffinity(0))
    return (f"{cores} cores, {cpu_model()}, Linux {platform.release()}, "
            f"Python {platform.python_version()}")


def format_ratio(value: float) -> str:
    if math.isnan(value):
        return "nan"
    if value == 0:
        return "0"
    if abs(value) < 0.01:
        return f"{value:.1e}"
    return f"{value:.2f}"


HEADERS = ("benchmark", "measure", "fwload", "baseline", "ratio", "target", "")


def render(rows: list[Row]) -> str:
    """A Markdown table (readable in a terminal, pastable in the README)."""
    cells = [HEADERS] + [(r.benchmark, r.measure, r.fwload, r.baseline, format_ratio(r.ratio), r.target, r.verdict)
                         for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(HEADERS))]
    lines = ["| " + " | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) + " |" for row in cells]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)
