"""Human units in scenario files and options: durations ("90s", "2m", "1h30m"), sizes and rates."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BeforeValidator

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_DURATION = re.compile(r"^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$")
_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}

_SIZE = re.compile(r"^(\d+(?:\.\d+)?)\s*(Ki|Mi|Gi|K|M|G|k)?$")
_SIZE_FACTOR = {None: 1, "k": 1000, "K": 1000, "M": 1000**2, "G": 1000**3, "Ki": 1024, "Mi": 1024**2, "Gi": 1024**3}


def parse_duration(value: object) -> float:
    """Seconds from a number or a string such as ``"500ms"``, ``"30s"``, ``"2m"``, ``"1h30m"``, ``"7d"``.

    Raises ValueError with the accepted forms, so pydantic reports them to the user.
    """
    if isinstance(value, bool):
        raise ValueError("a duration must be a number of seconds or a string like '30s', '2m', '500ms'")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and _DURATION.match(value.strip().replace(" ", "").removeprefix("-")):
        text = value.strip().replace(" ", "")
        sign = -1.0 if text.startswith("-") else 1.0
        seconds = sign * sum(float(n) * _SECONDS[u] for n, u in _DURATION_PART.findall(text))
    elif isinstance(value, str) and re.fullmatch(r"-?\d+(\.\d+)?", value.strip()):
        seconds = float(value)
    else:
        raise ValueError(f"{value!r} is not a duration: use seconds (30) or a string like '30s', '2m', '500ms', '1h30m'")
    if seconds < 0:
        raise ValueError(f"a duration cannot be negative (got {value!r})")
    return seconds


def parse_size(value: object) -> int:
    """Bytes from a number or a Kubernetes-style string (``"128Mi"``, ``"64k"``)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    match = _SIZE.match(str(value).strip())
    if not match:
        raise ValueError(f"{value!r} is not a size: use bytes (1048576) or a string like '64Ki', '128Mi', '1Gi'")
    return int(float(match.group(1)) * _SIZE_FACTOR[match.group(2)])


_RATE = re.compile(r"^(\d+(?:\.\d+)?)\s*/\s*(s|min|h)$")
_PER = {"s": 1.0, "min": 60.0, "h": 3600.0}


def parse_rate(value: object) -> float:
    """Events per second from a number (per second) or a string such as ``"2/s"``, ``"30/min"``, ``"90/h"``."""
    if isinstance(value, bool):
        raise ValueError("a rate must be a number per second or a string like '2/s', '30/min', '90/h'")
    if isinstance(value, int | float):
        return float(value)
    match = _RATE.match(str(value).strip())
    if not match:
        raise ValueError(f"{value!r} is not a rate: use a number per second (2) or a string like "
                         "'2/s', '30/min', '90/h'")
    return float(match.group(1)) / _PER[match.group(2)]


def format_rate(per_s: float) -> str:
    """``2`` → ``"2/s"``; below one a second, per minute (``0.2`` → ``"12/min"``), so it stays readable."""
    if per_s == 0:
        return "0"
    if per_s < 1:
        return f"{per_s * 60:.3g}/min"
    return f"{per_s:.3g}/s"


def format_duration(seconds: float) -> str:
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 120:
        return f"{seconds:g}s"
    minutes, rest = divmod(seconds, 60)
    return f"{minutes:.0f}m{rest:.0f}s" if rest else f"{minutes:.0f}m"


Duration = Annotated[float, BeforeValidator(parse_duration)]
"""A duration in seconds that scenario files may write as "30s", "2m", "500ms"."""

Size = Annotated[int, BeforeValidator(parse_size)]

Rate = Annotated[float, BeforeValidator(parse_rate)]
"""Events per second that scenario files may write as 2, "2/s", "30/min", "90/h"."""
