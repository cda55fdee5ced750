"""The local-processes backend: the stand-in's components as process trees (psutil + cgroups).

Each component is a root PID (``pids={"standin": 1234}``, or ``nginx``/``api``/``postgres``/...
in the stack mode) and everything under it, optionally with its own cgroup. What is read and
counted per sample (cgroup counters or PSS, CPU, respawns under a surviving root, a dead root,
a new root PID as a restart) is `fwload.collectors.tracking`, shared with the host backend.

Rows use ``pod`` = ``container`` = the component name, so they group like a container
whose restarts accumulate; the PIDs are in the events and in `health`.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Mapping
from collections.abc import Collection as AbstractCollection
from typing import Any

import psutil

from fwload.collectors.base import Collection, Collector, CollectorEvent, ComponentHealth, ResourceSample
from fwload.collectors.tracking import RESPAWN_EXEMPT, ComponentTracker, children_map, live_process
from fwload.common.cgroups import Cgroup, CgroupReading, read_cgroup
from fwload.errors import UsageError

SOURCE = "processes"
LIMIT_KEYS = ("cpu_request_m", "cpu_limit_m", "memory_request_bytes", "memory_limit_bytes")

Pids = Mapping[str, int] | Callable[[], Mapping[str, int]]


class ProcessCollector(Collector):
    """Samples local process trees, one row per component."""

    name = SOURCE
    default_interval_s = 2.0

    def __init__(
        self,
        pids: Pids,
        *,
        cgroups: Mapping[str, Cgroup | str] | None = None,
        limits: Mapping[str, Any] | None = None,
        respawn_exempt: AbstractCollection[str] = RESPAWN_EXEMPT,
        interval_s: float | None = None,
        clock: Callable[[], float] = time.time,
    ):
        if not callable(pids) and not isinstance(pids, Mapping):
            raise UsageError(f"the processes collector needs a mapping component -> root PID, got {pids!r}",
                             'pass e.g. {"standin": 1234}, or a function returning one')
        self._pids = pids
        self._cgroups = {c: g if isinstance(g, Cgroup) else Cgroup.at(g) for c, g in (cgroups or {}).items()}
        self._limits = _checked_limits(limits or {})
        self._respawn_exempt = frozenset(respawn_exempt)
        if interval_s is not None:
            self.default_interval_s = interval_s
        self._clock = clock
        self._node = socket.gethostname()
        self._trackers: dict[str, ComponentTracker] = {}

    def _current_roots(self) -> dict[str, int]:
        pids = self._pids() if callable(self._pids) else self._pids
        return {str(c): int(p) for c, p in pids.items()}

    # -- pre-flight ----------------------------------------------------------------------

    def check_connection(self) -> list[str]:
        """Every given cgroup must exist; notices say what a component without one cannot show
        (the caller records them; `collect` does not repeat them)."""
        for component, cgroup in self._cgroups.items():
            if not cgroup.exists():
                raise UsageError(f"the cgroup of component {component} does not exist: "
                                 f"{', '.join(map(str, cgroup.directories()))}",
                                 "create it (fwload.common.cgroups.create_cgroup) "
                                 "before starting the component")
        notices = []
        without = sorted(c for c in self._current_roots() if c not in self._cgroups)
        if without:
            notices.append(
                f"no cgroup for {', '.join(without)}: memory is the sum of PSS over each process tree, "
                "OOM kills and CPU throttling are not known "
                "(start components in their own cgroups to see them)")
        return notices

    # -- sampling ------------------------------------------------------------------------

    def collect(self, stage: str = "") -> Collection:
        ts = self._clock()
        result = Collection()
        try:
            roots = self._current_roots()
            children_of = children_map()
        except Exception as error:  # noqa: BLE001 - a run never crashes because of its collector
            result.events.append(CollectorEvent(ts, "gap", {"source": SOURCE,
                                                            "detail": f"cannot list processes: {error}"}))
            return result
        for component in sorted(set(roots) | set(self._trackers)):
            try:
                self._collect_component(component, roots.get(component), children_of, ts, stage, result)
            except Exception as error:  # noqa: BLE001
                result.events.append(CollectorEvent(ts, "gap", {
                    "source": SOURCE, "detail": f"{component}: {type(error).__name__}: {error}"}))
        return result

    def _collect_component(self, component: str, pid: int | None, children_of: dict[int, list[int]],
                           ts: float, stage: str, result: Collection) -> None:
        tracker = self._trackers.get(component)
        if tracker is None:
            tracker = self._trackers[component] = ComponentTracker(
                component, respawns=component not in self._respawn_exempt)
        cgroup = self._cgroups.get(component)
        reading = read_cgroup(cgroup) if cgroup else None
        sample = ResourceSample(ts=ts, source=SOURCE, component=component, pod=component, container=component,
                                node=self._node, stage=stage)
        self._apply_limits(sample, component, reading)
        result.events += tracker.step(
            sample, live_process(pid), reading, children_of,
            dead_detail=f"root process {pid if pid is not None else '(none given)'} of {component} is gone")
        result.samples.append(sample)

    def _apply_limits(self, sample: ResourceSample, component: str, reading: CgroupReading | None) -> None:
        given = self._limits.get(component, {})
        sample.cpu_request_m = _float(given.get("cpu_request_m"))
        sample.cpu_limit_m = _float(given.get("cpu_limit_m"))
        sample.memory_request_bytes = _int(given.get("memory_request_bytes"))
        sample.memory_limit_bytes = _int(given.get("memory_limit_bytes"))
        if reading is not None:
            sample.cpu_limit_m = sample.cpu_limit_m if sample.cpu_limit_m is not None else reading.cpu_limit_m
            if sample.memory_limit_bytes is None:
                sample.memory_limit_bytes = reading.limit_bytes

    # -- readiness -----------------------------------------------------------------------

    def health(self) -> list[ComponentHealth]:
        """Alive = the root process exists and is not a zombie (HTTP readiness is the gate's job)."""
        health = []
        for component, pid in sorted(self._current_roots().items()):
            root = live_process(pid)
            if root is None:
                health.append(ComponentHealth(component, alive=False, ready=False,
                                              detail=f"root process {pid} is gone"))
                continue
            try:
                workers = len(root.children())
            except psutil.Error:
                workers = 0
            health.append(ComponentHealth(component, alive=True, ready=True,
                                          detail=f"pid {pid} running, {workers} child processes"))
        return health

    def describe(self) -> dict[str, Any]:
        return {"backend": self.name, "interval_s": self.default_interval_s,
                "components": sorted(self._current_roots()),
                "cgroups": {c: [str(d) for d in g.directories()] for c, g in sorted(self._cgroups.items())},
                "cgroup_version": sorted({g.version for g in self._cgroups.values()})}


def _checked_limits(limits: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Mappings with `LIMIT_KEYS`, or objects with those attributes (`fwload.limits.ComponentLimits`)."""
    checked = {}
    for component, values in limits.items():
        if not isinstance(values, Mapping):
            values = {key: getattr(values, key) for key in LIMIT_KEYS if hasattr(values, key)}
        unknown = sorted(set(values) - set(LIMIT_KEYS))
        if unknown:
            raise UsageError(f"unknown limit key(s) {', '.join(unknown)} for component {component}",
                             f"use only {', '.join(LIMIT_KEYS)}")
        checked[component] = dict(values)
    return checked


def _float(value: float | None) -> float | None:
    return float(value) if value is not None else None


def _int(value: float | None) -> int | None:
    return int(value) if value is not None else None
