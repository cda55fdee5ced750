"""The local-processes backend: the stand-in's components as process trees (psutil + cgroups).

Each component is a root PID (``pids={"standin": 1234}``, or ``nginx``/``api``/``postgres``/...
in the stack mode) and everything under it. Per interval and component:

- CPU in millicores over the interval: from the cgroup's CPU counter when the component
  has its own cgroup (exact, exited processes included), else from psutil over the tree,
  counting each process's reaped children too, so a worker that exited and was reaped
  by its parent between two samples still counts.
- Memory: the cgroup's charge, anonymous part, peak, OOM kills and CFS throttling when
  it has a cgroup (`fwload.collectors.cgroups`); else the sum of PSS over the tree
  (never RSS, which counts the pages forked workers share once per worker).
- Respawns: a direct child of the root that died while a new one appeared under the
  same surviving root (a gunicorn/Celery worker replaced) -> ``respawn`` event.
- A root that is gone: phase ``dead``, ready false, and one ``startup_failure`` event
  (the schema's type for a dead component; its ``stage`` says whether the load had
  started). A root PID that changes (a supervisor restarted it): ``restart`` event.

Rows use ``pod`` = ``container`` = the component name, so they group like a container
whose restarts accumulate; the PIDs are in the events and in `health`.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterable, Mapping
from collections.abc import Collection as AbstractCollection
from dataclasses import dataclass, field
from typing import Any

import psutil

from fwload.collectors.base import Collection, Collector, CollectorEvent, ComponentHealth, ResourceSample
from fwload.collectors.cgroups import Cgroup, CgroupReading, read_cgroup
from fwload.errors import UsageError

SOURCE = "processes"
LIMIT_KEYS = ("cpu_request_m", "cpu_limit_m", "memory_request_bytes", "memory_limit_bytes")
RESPAWN_EXEMPT = frozenset({"postgres", "redis"})
"""Components whose child churn is normal: PostgreSQL forks a backend per connection and
Redis forks a child for each background save."""

Pids = Mapping[str, int] | Callable[[], Mapping[str, int]]
_Key = tuple[int, float]  # (pid, create_time): a PID reused by another process is another key


@dataclass(slots=True)
class _Proc:
    parent: _Key | None
    cpu_s: float
    pss: int | None = None
    private: int | None = None
    shared: int | None = None


@dataclass
class _Component:
    """What the previous samples of one component saw."""

    root: _Key | None = None
    procs: dict[_Key, _Proc] = field(default_factory=dict)
    children: set[_Key] = field(default_factory=set)
    ts: float | None = None
    cgroup_cpu_s: float | None = None
    oom_kills: int | None = None
    respawns: int = 0
    restarts: int = 0
    dead_reported: bool = False


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
        self._state: dict[str, _Component] = {}

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
                                 "create it (fwload.collectors.cgroups.create_cgroup) "
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
            children_of = _children_map()
        except Exception as error:  # noqa: BLE001 - a run never crashes because of its collector
            result.events.append(CollectorEvent(ts, "gap", {"source": SOURCE,
                                                            "detail": f"cannot list processes: {error}"}))
            return result
        for component in sorted(set(roots) | set(self._state)):
            try:
                self._collect_component(component, roots.get(component), children_of, ts, stage, result)
            except Exception as error:  # noqa: BLE001
                result.events.append(CollectorEvent(ts, "gap", {
                    "source": SOURCE, "detail": f"{component}: {type(error).__name__}: {error}"}))
        return result

    def _collect_component(self, component: str, pid: int | None, children_of: dict[int, list[int]],
                           ts: float, stage: str, result: Collection) -> None:
        state = self._state.setdefault(component, _Component())
        cgroup = self._cgroups.get(component)
        reading = read_cgroup(cgroup) if cgroup else None
        root = _process(pid)
        root_key = _key(root) if root else None
        sample = ResourceSample(ts=ts, source=SOURCE, component=component, pod=component, container=component,
                                node=self._node, stage=stage)
        self._apply_limits(sample, component, reading)
        new_ooms = self._apply_cgroup(sample, state, reading, ts)
        if new_ooms:
            result.events.append(CollectorEvent(ts, "oom_kill", {
                "component": component, "pod": component, "container": component,
                "count": new_ooms, "source": "cgroup"}))
        if root_key is not None and state.root is not None and root_key != state.root:
            state.restarts += 1
            result.events.append(CollectorEvent(ts, "restart", {
                "component": component, "pod": component, "container": component, "restarts": state.restarts,
                "reason": "OOMKilled" if new_ooms else "exited",
                "detail": f"new root process {root_key[0]}"}))
            state.procs, state.children, state.dead_reported = {}, set(), False
        if root is None or root_key is None:
            sample.phase, sample.ready = "dead", False
            if not state.dead_reported:
                state.dead_reported = True
                why = " after an OOM kill in its cgroup" if new_ooms else ""
                result.events.append(CollectorEvent(ts, "startup_failure", {
                    "component": component, "stage": stage,
                    "detail": f"root process {pid if pid is not None else '(none given)'} of {component} "
                              f"is gone{why}"}))
            state.procs, state.children = {}, set()
        else:
            state.root = root_key
            procs = _tree(root, children_of)
            sample.phase, sample.ready = "Running", True
            if reading is None:
                self._apply_psutil(sample, state, procs, ts)
            respawned = self._respawns(component, state, root_key, procs)
            if respawned:
                result.events.append(CollectorEvent(ts, "respawn", {
                    "component": component, "count": respawned[0], "detail": respawned[1]}))
            state.procs = procs
        sample.restarts, sample.respawns = state.restarts, state.respawns
        state.ts = ts
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

    @staticmethod
    def _apply_cgroup(sample: ResourceSample, state: _Component, reading: CgroupReading | None,
                      ts: float) -> int:
        """Fill the cgroup's numbers; returns OOM kills new since the last sample."""
        if reading is None:
            return 0
        sample.memory_bytes = reading.memory_bytes
        sample.memory_anon_bytes = reading.anon_bytes
        sample.memory_peak_bytes = reading.peak_bytes
        sample.oom_kills = reading.oom_kills
        sample.periods, sample.throttled_periods = reading.periods, reading.throttled_periods
        sample.throttled_s = round(reading.throttled_s, 6) if reading.throttled_s is not None else None
        if reading.cpu_usage_s is not None:
            if state.cgroup_cpu_s is not None and state.ts is not None and ts > state.ts:
                sample.cpu_m = max(0.0, reading.cpu_usage_s - state.cgroup_cpu_s) / (ts - state.ts) * 1000
            state.cgroup_cpu_s = reading.cpu_usage_s
        new = 0
        if reading.oom_kills is not None:
            if state.oom_kills is not None:  # the first reading is the baseline: kills before it are history
                new = reading.oom_kills - state.oom_kills
            state.oom_kills = reading.oom_kills
        return max(new, 0)

    @staticmethod
    def _apply_psutil(sample: ResourceSample, state: _Component, procs: dict[_Key, _Proc], ts: float) -> None:
        sample.memory_bytes = _tree_memory(procs.values())
        if state.ts is None or ts <= state.ts or not state.procs:
            return
        now = sum(p.cpu_s for p in procs.values())
        # A process that died counts in the baseline only if its parent survives to have
        # reaped it (its whole time then shows in the parent's children_* times).
        before = sum(p.cpu_s for k, p in state.procs.items() if k in procs or p.parent in procs)
        sample.cpu_m = max(0.0, now - before) / (ts - state.ts) * 1000

    def _respawns(self, component: str, state: _Component, root: _Key,
                  procs: dict[_Key, _Proc]) -> tuple[int, str] | None:
        children = {k for k, p in procs.items() if p.parent == root}
        before, state.children = state.children, children
        if component in self._respawn_exempt or not before:
            return None
        dead, new = before - children, children - before
        count = min(len(dead), len(new))
        if not count:
            return None
        state.respawns += count
        gone = ", ".join(str(k[0]) for k in sorted(dead))
        born = ", ".join(str(k[0]) for k in sorted(new))
        return count, f"worker pid {gone} replaced by {born} under pid {root[0]}"

    # -- readiness -----------------------------------------------------------------------

    def health(self) -> list[ComponentHealth]:
        """Alive = the root process exists and is not a zombie (HTTP readiness is the gate's job)."""
        health = []
        for component, pid in sorted(self._current_roots().items()):
            root = _process(pid)
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


def _process(pid: int | None) -> psutil.Process | None:
    """The process, or None when it is gone or a zombie (dead, not yet reaped)."""
    if pid is None:
        return None
    try:
        process = psutil.Process(pid)
        return None if process.status() == psutil.STATUS_ZOMBIE else process
    except psutil.Error:
        return None


def _key(process: psutil.Process) -> _Key | None:
    try:
        return (process.pid, process.create_time())
    except psutil.Error:
        return None


def _children_map() -> dict[int, list[int]]:
    """parent PID -> child PIDs, from one scan of the process table."""
    children: dict[int, list[int]] = {}
    for process in psutil.process_iter(["ppid"]):
        ppid = process.info.get("ppid")
        if ppid is not None:
            children.setdefault(ppid, []).append(process.pid)
    return children


def _tree(root: psutil.Process, children_of: dict[int, list[int]]) -> dict[_Key, _Proc]:
    """Every process under ``root`` (zombies included: their time is not yet in the parent's)."""
    found: dict[_Key, _Proc] = {}
    pending: list[tuple[int, _Key | None]] = [(root.pid, None)]
    while pending:
        pid, parent = pending.pop()
        try:
            process = root if pid == root.pid else psutil.Process(pid)
            with process.oneshot():
                key = (pid, process.create_time())
                times = process.cpu_times()
                cpu_s = times.user + times.system + times.children_user + times.children_system
                found[key] = _Proc(parent, cpu_s, *_memory(process))
        except psutil.Error:
            continue
        pending.extend((child, key) for child in children_of.get(pid, []))
    return found


def _memory(process: psutil.Process) -> tuple[int | None, int | None, int | None]:
    """(PSS, private, shared) of one process: PSS when smaps is readable, else USS and shared."""
    try:
        info = process.memory_full_info()
        if getattr(info, "pss", None) is not None:
            return int(info.pss), None, None
        return None, int(info.uss), int(getattr(info, "shared", 0))
    except psutil.AccessDenied:
        pass
    except psutil.Error:
        return None, None, None
    try:
        info = process.memory_info()
    except psutil.Error:
        return None, None, None
    shared = int(getattr(info, "shared", 0))
    return None, int(info.rss) - shared, shared


def _tree_memory(procs: Iterable[_Proc]) -> int | None:
    """Sum of PSS; where PSS is unreadable, private memory plus the shared pages counted once."""
    total, shared, known = 0, 0, False
    for proc in procs:
        if proc.pss is not None:
            total, known = total + proc.pss, True
        elif proc.private is not None:
            total, known = total + proc.private, True
            shared = max(shared, proc.shared or 0)
    return total + shared if known else None
