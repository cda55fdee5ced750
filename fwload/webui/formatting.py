"""Numbers as people read them in the tabs: units always shown, "–" for not known.

The tables are drawn by Locust's front end as text, so each cell arrives formatted; the
CSV downloads keep the raw numbers (milliseconds, bytes, millicores, ratios).
"""

from __future__ import annotations

UNKNOWN = "–"
_MIB = 1024 * 1024


def ms(value: float | None) -> str:
    if value is None:
        return UNKNOWN
    if value >= 100_000:
        return f"{value / 1000:.0f} s"
    if value >= 1000:
        return f"{value / 1000:.3g} s"
    return f"{value:.1f} ms" if value < 10 else f"{value:.0f} ms"


def millicores(value: float | None) -> str:
    return UNKNOWN if value is None else f"{value:.0f}m"


def mebibytes(value: float | None) -> str:
    return UNKNOWN if value is None else f"{value / _MIB:.1f} MiB"


def rate(bytes_per_s: float | None) -> str:
    return UNKNOWN if bytes_per_s is None else f"{bytes_per_s / _MIB:.2f} MiB/s"


def percent(share: float | None) -> str:
    """A share of a limit or request (0.43 → "43 %")."""
    return UNKNOWN if share is None else f"{share * 100:.0f} %"


def ratio(value: float | None) -> str:
    """An error ratio, with the precision SLOs of 1 % or less need (0.0123 → "1.23 %")."""
    return UNKNOWN if value is None else f"{value * 100:.2f} %"


def ordered(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """Number each row's ``name``: Locust's tables sort by it, and these rows have a reading order."""
    return [{**row, "name": f"{index:03d} {row['name']}"} for index, row in enumerate(rows)]


def count(value: float | None) -> str:
    return UNKNOWN if value is None else f"{value:,.0f}"


def decimal(value: float | None) -> str:
    return UNKNOWN if value is None else f"{value:.2f}"
