"""Where each component of a host is now: its main process, its cgroup, its supervisor's view.

A component is named by one spec: ``{systemd: unit}``, ``{docker: name-or-id}``,
``{podman: name-or-id}``, ``{cgroup: path}``, ``{pid: N}`` or ``{pidfile: path}``. Every
sample, `Locator.locate` asks systemd and each container engine once for all their
components, then finds each component's cgroup from its main process
(``/proc/<pid>/cgroup``: right on v1, where a process has one cgroup per controller, and on
v2) and its main process from the cgroup where only the cgroup is known (the oldest process
whose parent is outside it).

The main process is what `fwload.collectors.tracking` follows: a new one is a restart, the
workers under it respawn. A spec that names nothing (an unknown unit, no such container, a
cgroup that does not exist, a PID not running) is a `problem`, which the pre-flight turns
into an error; mid-run the component is just dead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from fwload.collectors.host import containers, systemd
from fwload.collectors.host.tools import HostToolError
from fwload.collectors.tracking import Key, live_process, process_key, topmost
from fwload.common.cgroups import ROOT, Cgroup
from fwload.errors import UsageError

SPEC_KINDS = ("systemd", "docker", "podman", "cgroup", "pid", "pidfile")


@dataclass(frozen=True)
class ComponentSpec:
    name: str
    kind: str
    value: str

    @classmethod
    def parse(cls, name: str, spec: Mapping[str, Any]) -> ComponentSpec:
        given = {k: v for k, v in dict(spec).items() if v is not None}
        if len(given) != 1 or next(iter(given)) not in SPEC_KINDS:
            raise UsageError(f"host component {name}: {given!r} is not one of "
                             + ", ".join(f"{{{kind}: …}}" for kind in SPEC_KINDS),
                             "give exactly one key, e.g. api: {systemd: funkwhale-server.service}")
        kind, value = next(iter(given.items()))
        return cls(name, kind, str(value))

    def describe(self) -> str:
        return f"{{{self.kind}: {self.value}}}"


@dataclass
class Located:
    """One component at one instant."""

    root: psutil.Process | None = None
    cgroup: Cgroup | None = None
    restarts: int | None = None
    """The supervisor's restart counter (NRestarts, RestartCount); None when it has none."""
    alive: bool = False
    ready: bool = False
    state: str = ""
    """What it is doing, for the readiness gate (``systemd unit x: active (running), MainPID 12``)."""
    problem: str | None = None
    """Why the spec names nothing (an unknown unit...): an error before the load, a dead component after."""
    shared_root: bool = False
    """Its cgroup is a hierarchy's root (the whole host): not read as its own."""


class Locator:
    """Finds every component, asking each tool once per call."""

    def __init__(self, specs: list[ComponentSpec], root: Path = ROOT):
        self.specs = specs
        self.root = root
        self._cgroups: dict[Key, Cgroup | None] = {}

    def locate(self, children_of: dict[int, list[int]]) -> tuple[dict[str, Located], dict[str, str]]:
        """Each component's `Located`, and for components that could not be asked (systemctl or an
        engine failing), why: name -> problem."""
        failed: dict[str, str] = {}
        units = self._ask(lambda names: systemd.show(names), "systemd", failed)
        engines = {engine: self._ask(lambda refs, e=engine: containers.inspect(e, refs), engine, failed)
                   for engine in containers.ENGINES}
        located, seen = {}, set()
        for spec in self.specs:
            if spec.name in failed:
                continue
            if spec.kind == "systemd":
                found = self._unit(units[spec.value], children_of)
            elif spec.kind in containers.ENGINES:
                found = self._container(spec, engines[spec.kind].get(spec.value))
            elif spec.kind == "cgroup":
                found = self._cgroup(spec, children_of)
            else:
                found = self._process(spec)
            located[spec.name] = found
            key = process_key(found.root) if found.root is not None else None
            if key is not None:
                seen.add(key)
        self._cgroups = {k: v for k, v in self._cgroups.items() if k in seen}
        return located, failed

    def _ask(self, call: Any, kind: str, failed: dict[str, str]) -> dict[str, Any]:
        wanted = [s for s in self.specs if s.kind == kind]
        if not wanted:
            return {}
        try:
            return call(list(dict.fromkeys(s.value for s in wanted)))
        except HostToolError as error:
            for spec in wanted:
                failed[spec.name] = str(error)
            return {}

    # -- per kind ------------------------------------------------------------------------

    def _unit(self, unit: systemd.UnitState, children_of: dict[int, list[int]]) -> Located:
        where = f"systemd unit {unit.unit}"
        if not unit.loaded:
            return Located(problem=f"no such unit (systemctl show: LoadState={unit.load_state or '?'})",
                           state=f"{where} is not loaded (LoadState={unit.load_state or '?'})")
        root = live_process(unit.main_pid) if unit.main_pid else None
        cgroup: Cgroup | None = None
        if root is not None:
            cgroup = self._cgroup_of(root)
        elif unit.control_group:
            candidate = Cgroup.at(unit.control_group, self.root)
            if candidate.exists():
                cgroup = candidate
                root = topmost(candidate.pids(), children_of)
        found = Located(root=root, restarts=unit.restarts, alive=unit.running and root is not None)
        found.ready = found.alive and unit.active_state == "active"
        self._own(found, cgroup)
        state = f"{where}: {unit.describe()}"
        if root is not None:
            state += f", main process {root.pid}"
        elif unit.running:
            state += " but runs no process" + (
                " (a oneshot unit: name the unit that runs the server, e.g. postgresql@15-main.service)"
                if unit.sub_state == "exited" else "")
        found.state = state
        return found

    def _container(self, spec: ComponentSpec, container: containers.ContainerState | None) -> Located:
        where = f"{spec.kind} container {spec.value}"
        if container is None:
            return Located(problem=f"no such container ({spec.kind} inspect found none)", state=f"{where} is gone")
        root = live_process(container.pid) if container.running and container.pid else None
        found = Located(root=root, restarts=container.restarts, alive=root is not None)
        found.ready = found.alive and container.health in (None, "healthy")
        self._own(found, self._cgroup_of(root) if root is not None else None)
        found.state = f"{where}: {container.describe()}" + (f", main process {root.pid}" if root else "")
        return found

    def _cgroup(self, spec: ComponentSpec, children_of: dict[int, list[int]]) -> Located:
        cgroup = Cgroup.from_path(spec.value, self.root)
        if not cgroup.exists():
            return Located(problem=f"no such cgroup ({', '.join(map(str, cgroup.directories()))} does not exist)",
                           state=f"cgroup {spec.value} is gone")
        root = topmost(cgroup.pids(), children_of)
        found = Located(root=root, alive=root is not None, ready=root is not None)
        self._own(found, cgroup)
        found.state = (f"cgroup {spec.value}: main process {root.pid}" if root is not None
                       else f"cgroup {spec.value} holds no process")
        return found

    def _process(self, spec: ComponentSpec) -> Located:
        if spec.kind == "pidfile":
            try:
                text = Path(spec.value).read_text().strip()
            except OSError as error:
                return Located(problem=f"cannot read the pidfile: {error.strerror or error}",
                               state=f"pidfile {spec.value} cannot be read")
            if not text.isdigit():
                return Located(problem=f"the pidfile holds {text[:40]!r}, not a process id",
                               state=f"pidfile {spec.value} holds no process id")
            pid, where = int(text), f"process {text} (from {spec.value})"
        else:
            pid, where = int(spec.value), f"process {spec.value}"
        root = live_process(pid)
        found = Located(root=root, alive=root is not None, ready=root is not None)
        if root is None and spec.kind == "pid":
            found.problem = "no such process (not running)"
        self._own(found, self._cgroup_of(root) if root is not None else None)
        found.state = f"{where} is running" if root is not None else f"{where} is not running"
        return found

    # -- cgroups -------------------------------------------------------------------------

    def _cgroup_of(self, process: psutil.Process) -> Cgroup | None:
        key = process_key(process)
        if key is None:
            return None
        if key not in self._cgroups:
            try:
                self._cgroups[key] = Cgroup.of_pid(process.pid, self.root)
            except (OSError, ValueError):
                return None
        return self._cgroups[key]

    def _own(self, found: Located, cgroup: Cgroup | None) -> None:
        """Keep the controllers where the component has a cgroup of its own, not a hierarchy's root."""
        if cgroup is None:
            return
        roots = {self.root, *(self.root / c for c in ("memory", "cpu", "cpuacct", "cpu,cpuacct"))}
        memory, cpu, cpuacct = (None if d is None or d in roots else d for d in (cgroup.memory, cgroup.cpu,
                                                                                   cgroup.cpuacct))
        if memory is None and cgroup.memory is not None:
            found.shared_root = True
        found.cgroup = Cgroup(cgroup.version, memory, cpu, cpuacct) if (memory or cpu or cpuacct) else None

