"""Following one component from sample to sample: its cgroup's counters, its root process and the
workers under it. One implementation for every backend that watches processes on this machine
(the stand-in's processes, a host's systemd units, containers, cgroups and PIDs).

Per sample and component (`ComponentTracker.step`):

- Cgroup counters (`fwload.common.cgroups`): charge, anonymous part, peak, OOM kills and
  CFS throttling; CPU in millicores from the cgroup's CPU counter between two samples (exact,
  exited processes included). The first reading of a counter is its baseline: OOM kills
  before it are history, not this run's.
- Without a cgroup (or a file of it that cannot be read): memory is the sum of PSS over the
  process tree (never RSS, which counts the pages forked workers share once per worker) and
  CPU comes from psutil over the tree, counting each process's reaped children too, so a
  worker that exited and was reaped by its parent between two samples still counts.
- Respawns: a direct child of the root that died and a new one that appeared under the same
  surviving root (a gunicorn/Celery worker replaced), in the same interval or a later one ->
  ``respawn`` event.
- A root that is gone: phase ``dead``, ready false, and one ``startup_failure`` event (the
  schema's type for a dead component; its ``stage`` says whether the load had started).
- Restarts: a new root process (a supervisor started it again) -> ``restart`` event. A
  supervisor's own counter (systemd's ``NRestarts``, a container's ``RestartCount``) adds the
  restarts that happened between two samples without being seen; with ``exit_is_restart``
  a root that disappears is counted at once (nothing may ever bring it back) and its
  successor, if one comes, is not counted again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import psutil

from fwload.collectors.base import CollectorEvent, ResourceSample
from fwload.common.cgroups import CgroupReading

Key = tuple[int, float]
"""(pid, create_time): a PID reused by another process is another key."""
RESPAWN_EXEMPT = frozenset({"postgres", "redis"})
"""Components whose child churn is normal: PostgreSQL forks a backend per connection and
Redis forks a child for each background save."""


@dataclass(slots=True)
class _Proc:
    parent: Key | None
    cpu_s: float
    pss: int | None = None
    private: int | None = None
    shared: int | None = None


@dataclass
class _State:
    """What the previous samples of one component saw."""

    root: Key | None = None
    alive: bool = False
    procs: dict[Key, _Proc] = field(default_factory=dict)
    procs_cpu: bool = False
    """Whether ``procs`` carry CPU times (they do only where the cgroup gave no CPU counter)."""
    children: set[Key] = field(default_factory=set)
    departed: list[Key] = field(default_factory=list)
    """Workers that died and whose replacement has not been seen yet (a pool forks it a moment later)."""
    ts: float | None = None
    cgroup_cpu_s: float | None = None
    oom_kills: int | None = None
    supervisor_restarts: int | None = None
    uncredited_exits: int = 0
    respawns: int = 0
    restarts: int = 0
    dead_reported: bool = False


class ComponentTracker:
    """One component's history; `step` fills a sample and returns what happened since the last one."""

    def __init__(self, component: str, *, respawns: bool = True, exit_is_restart: bool = False):
        self.component = component
        self._count_respawns = respawns
        self._exit_is_restart = exit_is_restart
        self._state = _State()

    @property
    def restarts(self) -> int:
        return self._state.restarts

    def step(self, sample: ResourceSample, root: psutil.Process | None, reading: CgroupReading | None,
             children_of: dict[int, list[int]], *, dead_detail: str,
             supervisor_restarts: int | None = None) -> list[CollectorEvent]:
        """Fill ``sample`` (usage, counters, phase) for this instant; ``root`` is the component's
        main process now (None: gone), ``dead_detail`` says why when it is."""
        state, ts, events = self._state, sample.ts, []
        where = {"component": self.component, "pod": sample.pod, "container": sample.container}
        new_ooms = self._apply_cgroup(sample, reading)
        if new_ooms:
            events.append(CollectorEvent(ts, "oom_kill", {**where, "count": new_ooms, "source": "cgroup"}))
        root_key = process_key(root) if root is not None else None
        if root_key is None:
            root = None
        reason = "OOMKilled" if new_ooms else "exited"
        changed = root_key is not None and state.root is not None and root_key != state.root
        if not self._exit_is_restart:
            if changed:
                events.append(self._restart(ts, where, reason, f"new root process {root_key[0]}"))
        elif state.alive and root_key is None:
            events.append(self._restart(ts, where, reason, f"root process {state.root[0]} is gone"))
        elif state.alive and changed:
            events.append(self._restart(ts, where, reason, f"new root process {root_key[0]}"))
        events += self._supervisor(ts, where, supervisor_restarts)
        if root is None or root_key is None:
            sample.phase, sample.ready = "dead", False
            if not state.dead_reported:
                state.dead_reported = True
                why = " after an OOM kill in its cgroup" if new_ooms else ""
                events.append(CollectorEvent(ts, "startup_failure", {
                    "component": self.component, "stage": sample.stage, "detail": f"{dead_detail}{why}"}))
            state.procs, state.children, state.alive = {}, set(), False
        else:
            if root_key != state.root:
                state.procs, state.children, state.departed, state.dead_reported = {}, set(), [], False
            state.root, state.alive = root_key, True
            tree_cpu = reading is None or reading.cpu_usage_s is None
            procs = _tree(root, children_of, memory=reading is None or reading.memory_bytes is None, cpu=tree_cpu)
            sample.phase, sample.ready = "Running", True
            self._apply_psutil(sample, procs, reading)
            respawned = self._respawns(root_key, procs)
            if respawned:
                events.append(CollectorEvent(ts, "respawn", {
                    "component": self.component, "count": respawned[0], "detail": respawned[1]}))
            state.procs, state.procs_cpu = procs, tree_cpu
        sample.restarts, sample.respawns = state.restarts, state.respawns
        state.ts = ts
        return events

    def _restart(self, ts: float, where: dict[str, str], reason: str, detail: str) -> CollectorEvent:
        state = self._state
        state.restarts += 1
        state.uncredited_exits += 1
        return CollectorEvent(ts, "restart", {**where, "restarts": state.restarts, "reason": reason,
                                              "detail": detail})

    def _supervisor(self, ts: float, where: dict[str, str], counter: int | None) -> list[CollectorEvent]:
        """Restarts the supervisor counted beyond the root changes seen (several within one interval)."""
        state = self._state
        if counter is None:
            return []
        before, state.supervisor_restarts = state.supervisor_restarts, counter
        if before is None or counter <= before:
            return []
        grown = counter - before
        unseen = max(grown - state.uncredited_exits, 0)
        state.uncredited_exits = max(state.uncredited_exits - grown, 0)
        if not unseen:
            return []
        state.restarts += unseen
        return [CollectorEvent(ts, "restart", {**where, "restarts": state.restarts, "reason": "exited",
                                               "detail": f"restart count {before} -> {counter}"})]

    def _apply_cgroup(self, sample: ResourceSample, reading: CgroupReading | None) -> int:
        """Fill the cgroup's numbers; returns OOM kills new since the last sample."""
        if reading is None:
            return 0
        state, ts = self._state, sample.ts
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

    def _apply_psutil(self, sample: ResourceSample, procs: dict[Key, _Proc], reading: CgroupReading | None) -> None:
        """Memory and CPU from the process tree where the cgroup gives none."""
        state, ts = self._state, sample.ts
        if reading is None or reading.memory_bytes is None:
            sample.memory_bytes = _tree_memory(procs.values())
        if reading is not None and reading.cpu_usage_s is not None:
            return
        if state.ts is None or ts <= state.ts or not state.procs or not state.procs_cpu:
            return
        now = sum(p.cpu_s for p in procs.values())
        # A process that died counts in the baseline only if its parent survives to have
        # reaped it (its whole time then shows in the parent's children_* times).
        before = sum(p.cpu_s for k, p in state.procs.items() if k in procs or p.parent in procs)
        sample.cpu_m = max(0.0, now - before) / (ts - state.ts) * 1000

    def _respawns(self, root: Key, procs: dict[Key, _Proc]) -> tuple[int, str] | None:
        """Workers that died matched with workers born since, under the same root: a death and its
        replacement may fall in two different intervals."""
        state = self._state
        children = {k for k, p in procs.items() if p.parent == root}
        before, state.children = state.children, children
        if not self._count_respawns or not before and not state.departed:
            return None
        state.departed += sorted(before - children)
        new = sorted(children - before)
        count = min(len(state.departed), len(new))
        if not count:
            return None
        gone, state.departed = state.departed[:count], state.departed[count:]
        state.respawns += count
        return count, (f"worker pid {', '.join(str(k[0]) for k in gone)} replaced by "
                       f"{', '.join(str(k[0]) for k in new[:count])} under pid {root[0]}")


# -- the process table ---------------------------------------------------------------------

def live_process(pid: int | None) -> psutil.Process | None:
    """The process, or None when it is gone or a zombie (dead, not yet reaped)."""
    if pid is None or pid <= 0:
        return None
    try:
        process = psutil.Process(pid)
        return None if process.status() == psutil.STATUS_ZOMBIE else process
    except psutil.Error:
        return None


def process_key(process: psutil.Process) -> Key | None:
    try:
        return (process.pid, process.create_time())
    except psutil.Error:
        return None


def children_map() -> dict[int, list[int]]:
    """parent PID -> child PIDs, from one scan of the process table."""
    children: dict[int, list[int]] = {}
    for process in psutil.process_iter(["ppid"]):
        ppid = process.info.get("ppid")
        if ppid is not None:
            children.setdefault(ppid, []).append(process.pid)
    return children


def topmost(pids: Iterable[int], children_of: dict[int, list[int]]) -> psutil.Process | None:
    """Of a cgroup's processes, the oldest live one whose parent is outside the group (its main process)."""
    members = set(pids)
    inside = {child for parent in members for child in children_of.get(parent, ()) if child in members}
    best: tuple[float, int, psutil.Process] | None = None
    for pid in members - inside:
        process = live_process(pid)
        if process is None:
            continue
        try:
            started = process.create_time()
        except psutil.Error:
            continue
        if best is None or (started, pid) < best[:2]:
            best = (started, pid, process)
    return best[2] if best else None


def _tree(root: psutil.Process, children_of: dict[int, list[int]], *, memory: bool = True,
          cpu: bool = True) -> dict[Key, _Proc]:
    """Every process under ``root`` (zombies included: their time is not yet in the parent's), with
    its memory and CPU time only when asked: a cgroup that gives them spares reading every smaps."""
    found: dict[Key, _Proc] = {}
    pending: list[tuple[int, Key | None]] = [(root.pid, None)]
    while pending:
        pid, parent = pending.pop()
        try:
            process = root if pid == root.pid else psutil.Process(pid)
            with process.oneshot():
                key = (pid, process.create_time())
                cpu_s = 0.0
                if cpu:
                    times = process.cpu_times()
                    cpu_s = times.user + times.system + times.children_user + times.children_system
                found[key] = _Proc(parent, cpu_s, *(_memory(process) if memory else (None, None, None)))
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
