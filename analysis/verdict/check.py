"""The check model, the exit-code precedence, and the comparison every threshold check uses."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass

import pandas as pd

from fwload.status import ExitStatus

REFUSED, STARTUP, COMPLETE, SLO, RESOURCE = "refused", "startup", "complete", "slo", "resource"
PRECEDENCE = (
    (REFUSED, ExitStatus.USAGE_ERROR),
    (STARTUP, ExitStatus.NOT_READY),
    (COMPLETE, ExitStatus.INCOMPLETE),
    (SLO, ExitStatus.SLO_BROKEN),
    (RESOURCE, ExitStatus.RESOURCE_BROKEN),
)
"""Check kind → exit status, strongest first."""


@dataclass
class Check:
    name: str
    kind: str
    observed: float | None
    threshold: float | None
    unit: str
    samples: int | None
    passed: bool | None
    detail: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


def exit_status(checks: Iterable[Check]) -> ExitStatus:
    """The verdict's exit code: the strongest failed kind in `PRECEDENCE`, else success."""
    failed = {check.kind for check in checks if check.passed is False}
    return next((status for kind, status in PRECEDENCE if kind in failed), ExitStatus.SUCCESS)


def upper_bound(
    name: str,
    kind: str,
    observed: float | None,
    threshold: float,
    unit: str,
    samples: int | None,
    detail: str = "",
    *,
    missing: str = "",
    unknown_fails: bool = True,
) -> Check:
    """A check that passes when ``observed <= threshold``.

    An unknown ``observed`` fails (an SLO nobody exercised is not met) or, for resources the
    collector cannot judge, is not evaluated; ``missing`` then says why.
    """
    if observed is None:
        return Check(name, kind, None, threshold, unit, samples, False if unknown_fails else None, missing)
    return Check(name, kind, observed, threshold, unit, samples, observed <= threshold, detail)


def known(value: object) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def checks_frame(checks: list[Check]) -> pd.DataFrame:
    """The checks as a table (for notebooks and the compare command)."""
    return pd.DataFrame([check.as_dict() for check in checks])
