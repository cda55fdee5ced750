"""Which CPU and memory limit each component gets: none, the documented ones, plus overrides.

``--limits k8s`` takes the numbers of `fwload.limits.documented_limits` (k8s/base, the seed's
table); ``--limit celery-worker=memory:40Mi`` (or ``api=cpu:1,memory:256Mi``, ``nginx=cpu:none``)
changes one component for an experiment. ``--limits accounting`` gives every component its
own cgroup without limits: the unlimited baseline, measured the same way.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Literal

from fwload.errors import UsageError
from fwload.limits import COMPONENTS, documented_limits
from fwload.units import parse_size

LimitsMode = Literal["none", "accounting", "k8s"]
LIMITS_MODES: tuple[str, ...] = ("none", "accounting", "k8s")


@dataclass(frozen=True, slots=True)
class Limit:
    """What one component's cgroup enforces. None = not limited."""

    cpu_m: float | None = None
    memory_bytes: int | None = None

    def describe(self) -> str:
        cpu = "no CPU limit" if self.cpu_m is None else f"CPU {self.cpu_m:g}m"
        memory = "no memory limit" if self.memory_bytes is None else f"memory {_mebibytes(self.memory_bytes)}"
        return f"{cpu}, {memory}"


def parse_override(text: str) -> tuple[str, Limit, set[str]]:
    """``component=cpu:500m,memory:40Mi`` -> (component, values, keys given)."""
    component, _, spec = text.partition("=")
    component = component.strip()
    example = "write it like celery-worker=memory:40Mi or api=cpu:1,memory:256Mi"
    if component not in COMPONENTS:
        raise UsageError(
            f"--limit {text!r}: unknown component {component!r}",
            f"use one of {', '.join(COMPONENTS)}; {example}",
        )
    values: dict[str, float | int | None] = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        key, _, value = item.partition(":")
        key, value = key.strip(), value.strip()
        if key not in ("cpu", "memory") or not value:
            raise UsageError(f"--limit {text!r}: {item!r} is not cpu:<value> or memory:<value>", example)
        try:
            if value == "none":
                values[key] = None
            elif key == "cpu":
                values[key] = _millicores(value)
            else:
                values[key] = parse_size(value)
        except ValueError as error:
            raise UsageError(f"--limit {text!r}: {error}", example) from None
        if values[key] is not None and values[key] <= 0:  # type: ignore[operator]
            raise UsageError(f"--limit {text!r}: {key} must be above zero", example)
    if not values:
        raise UsageError(f"--limit {text!r} sets nothing", example)
    limit = Limit(cpu_m=values.get("cpu"), memory_bytes=values.get("memory"))  # type: ignore[arg-type]
    return component, limit, set(values)


def resolve_limits(mode: str, overrides: Iterable[str] = ()) -> dict[str, Limit] | None:
    """Limits per component, or None when no component gets a cgroup (mode none, no overrides)."""
    if mode not in LIMITS_MODES:
        raise UsageError(f"--limits {mode!r} is not known", f"use one of {', '.join(LIMITS_MODES)}")
    parsed = [parse_override(text) for text in overrides]
    if mode == "none" and not parsed:
        return None
    limits = {name: Limit() for name in COMPONENTS}
    if mode == "k8s":
        for name, documented in documented_limits().items():
            limits[name] = Limit(cpu_m=documented.cpu_limit_m, memory_bytes=documented.memory_limit_bytes)
    for component, limit, keys in parsed:
        changes = {"cpu_m": limit.cpu_m} if "cpu" in keys else {}
        if "memory" in keys:
            changes["memory_bytes"] = limit.memory_bytes
        limits[component] = replace(limits[component], **changes)
    return limits


def _millicores(value: str) -> float:
    """``500m``, ``0.5`` or ``1`` (cores) -> millicores, as Kubernetes writes CPU."""
    try:
        number = float(value[:-1]) if value.endswith("m") else float(value) * 1000
    except ValueError:
        raise ValueError(f"{value!r} is not a CPU quantity: use 500m or 0.5") from None
    if not math.isfinite(number):
        raise ValueError(f"{value!r} is not a CPU quantity: use 500m or 0.5")
    return number


def _mebibytes(size: int) -> str:
    return f"{size / 1024 / 1024:g}Mi"
