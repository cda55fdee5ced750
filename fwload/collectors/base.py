"""What every resource collector backend produces, and the interface they share.

Backends (Kubernetes, local processes) differ in where numbers come from, never in what
they hand back: a list of `ResourceSample` per interval plus `CollectorEvent`s for what
happened between two samples (restarts, OOM kills, respawns, gaps). The run writes them
to the ``resources`` table and ``events.jsonl`` (see `fwload.recording.schema`).
"""

from __future__ import annotations

import abc
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(slots=True)
class ResourceSample:
    """One container (or local process group) at one instant. Units: millicores, bytes."""

    ts: float
    source: str
    component: str
    pod: str
    container: str
    node: str = ""
    cpu_m: float | None = None
    memory_bytes: int | None = None
    memory_anon_bytes: int | None = None
    memory_peak_bytes: int | None = None
    cpu_request_m: float | None = None
    cpu_limit_m: float | None = None
    memory_request_bytes: int | None = None
    memory_limit_bytes: int | None = None
    restarts: int | None = None
    oom_kills: int | None = None
    throttled_periods: int | None = None
    periods: int | None = None
    throttled_s: float | None = None
    respawns: int | None = None
    phase: str = ""
    ready: bool | None = None
    stage: str = ""

    def as_row(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class CollectorEvent:
    """Something a collector noticed: ``type`` is one of `schema.EVENT_TYPES`."""

    ts: float
    type: str
    data: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"ts": self.ts, "type": self.type, **self.data}


@dataclass(slots=True)
class ComponentHealth:
    """Liveness of one component for the readiness gate."""

    component: str
    alive: bool
    ready: bool
    detail: str = ""


@dataclass(slots=True)
class Collection:
    """What one `Collector.collect` call returns."""

    samples: list[ResourceSample] = field(default_factory=list)
    events: list[CollectorEvent] = field(default_factory=list)


class Collector(abc.ABC):
    """A source of resource samples for the components of the target.

    `check_connection` is the pre-flight probe: it raises `fwload.errors.FwloadError`
    with a message naming the problem and the fix (metrics API missing, RBAC denied,
    server unreachable). `collect` must never raise for a transient failure mid-run: it
    returns a ``gap`` event instead, so a run never crashes because of its collector.
    """

    name: str = "base"
    default_interval_s: float = 15.0

    @abc.abstractmethod
    def check_connection(self) -> list[str]:
        """Probe the backend before the load. Returns notices (what it cannot see)."""

    @abc.abstractmethod
    def collect(self, stage: str = "") -> Collection:
        """Take one sample of every container/component."""

    @abc.abstractmethod
    def health(self) -> list[ComponentHealth]:
        """Liveness/readiness of every component, for the readiness gate."""

    def describe(self) -> dict[str, Any]:
        """What to record about this collector in run.json (no secrets)."""
        return {"backend": self.name, "interval_s": self.default_interval_s}

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release clients, files and processes."""
