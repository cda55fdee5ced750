"""The host backend: a Funkwhale whose components run on this machine (systemd units, Docker or
Podman containers, cgroups, processes), read from their cgroups.

Per component and sample, from its cgroup (`fwload.common.cgroups`, v1 or v2): memory
charged and its peak, the anonymous part, OOM kills, CPU used and CFS throttling, and the
cgroup's own ``memory.max``/``cpu.max`` (v1: ``memory.limit_in_bytes``, the CFS quota) as the
*live* limits (``resources.limits: documented`` still means k8s/base). Restarts, worker
respawns under a surviving master and dead components are followed by
`fwload.collectors.tracking`, as for the stand-in's processes; systemd's ``NRestarts`` and a
container's ``RestartCount`` add the restarts that happened between two samples, and a main
process that disappears is a restart at once. Rows use ``source: host`` and ``pod`` =
``container`` = the component name.

A cgroup file that exists but cannot be read (no rights) is said once, naming the file and
why; the component is then measured from its processes (PSS, psutil CPU), without OOM kills
or throttling, and the run goes on.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Mapping
from collections.abc import Collection as AbstractCollection
from pathlib import Path
from typing import Any

from fwload.collectors.base import Collection, Collector, CollectorEvent, ComponentHealth, ResourceSample
from fwload.collectors.host.components import ComponentSpec, Located, Locator
from fwload.collectors.tracking import RESPAWN_EXEMPT, ComponentTracker, children_map
from fwload.common.cgroups import ROOT, CgroupReading, read_cgroup
from fwload.errors import UsageError

SOURCE = "host"
DETECT_HINT = "`fwload host detect` lists what runs here"
FIXES = {
    "systemd": "check the unit's name (`systemctl list-units 'funkwhale*'`); " + DETECT_HINT,
    "docker": "check the container's name or id (`docker ps`); " + DETECT_HINT,
    "podman": "check the container's name or id (`podman ps`); " + DETECT_HINT,
    "cgroup": "give a directory under /sys/fs/cgroup (v1: /sys/fs/cgroup/memory/...), "
              "e.g. the one `cat /proc/<pid>/cgroup` names",
    "pid": "give the main process of a running component, or use {pidfile: ...} / {systemd: ...}",
    "pidfile": "give the pidfile the component writes (e.g. /run/nginx.pid)",
}
TOOL_FIXES = {
    "systemd": "{systemd: …} needs systemd running on this machine (fwload asks systemctl); otherwise name the "
               "unit's cgroup ({cgroup: /sys/fs/cgroup/system.slice/<unit>}) or its main process ({pid: …})",
    "docker": "start the Docker engine, or run fwload where `docker inspect` reaches it (DOCKER_HOST); "
              "otherwise name the container's cgroup or main process",
    "podman": "run fwload as the user whose containers these are, where `podman inspect` sees them; "
              "otherwise name the container's cgroup or main process",
}


class HostCollector(Collector):
    """Samples the cgroups of named host components, one row per component."""

    name = SOURCE
    default_interval_s = 2.0

    def __init__(
        self,
        components: Mapping[str, Mapping[str, Any]],
        *,
        respawn_exempt: AbstractCollection[str] = RESPAWN_EXEMPT,
        interval_s: float | None = None,
        clock: Callable[[], float] = time.time,
        cgroup_root: Path = ROOT,
    ):
        if not isinstance(components, Mapping) or not components:
            raise UsageError("the host collector needs components (name -> {systemd: unit} / {docker: name} / "
                             "{podman: name} / {cgroup: path} / {pid: N} / {pidfile: path})",
                             "add collector.components to the scenario; `fwload host detect` proposes them")
        self._specs = [ComponentSpec.parse(str(name), spec) for name, spec in components.items()]
        self._locator = Locator(self._specs, cgroup_root)
        self._exempt = frozenset(respawn_exempt)
        if interval_s is not None:
            self.default_interval_s = interval_s
        self._clock = clock
        self._node = socket.gethostname()
        self._trackers = {s.name: ComponentTracker(s.name, respawns=s.name not in self._exempt, exit_is_restart=True)
                          for s in self._specs}
        self._said: set[str] = set()
        self._last: dict[str, Located] = {}

    # -- pre-flight ----------------------------------------------------------------------

    def check_connection(self) -> list[str]:
        """Every spec must name something that exists (one error listing the ones that do not);
        returns once-only notices: files without read rights, components sharing the host's root cgroup."""
        located, failed = self._locator.locate(children_map())
        wrong = [f"component {s.name} {s.describe()}: {failed.get(s.name) or located[s.name].problem}"
                 for s in self._specs if s.name in failed or located[s.name].problem]
        if wrong:
            fixes = dict.fromkeys(TOOL_FIXES[s.kind] if s.name in failed else FIXES[s.kind] for s in self._specs
                                  if s.name in failed or located[s.name].problem)
            raise UsageError("; ".join(wrong), "; ".join(fixes))
        self._last = located
        notices = []
        for spec in self._specs:
            found = located[spec.name]
            reading = read_cgroup(found.cgroup) if found.cgroup is not None else None
            notices += self._new_notices(spec, found, reading)
        return notices

    def _new_notices(self, spec: ComponentSpec, found: Located, reading: CgroupReading | None) -> list[str]:
        notices = []
        if found.shared_root and f"root:{spec.name}" not in self._said:
            self._said.add(f"root:{spec.name}")
            notices.append(f"{spec.name} {spec.describe()} has no memory cgroup of its own (it is in the host's "
                           "root cgroup): its memory is the sum of PSS over its processes and its OOM kills are "
                           "not known (give it a cgroup: MemoryAccounting=yes for a systemd unit)")
        for path, why in (reading.unreadable.items() if reading is not None else ()):
            if path in self._said:
                continue
            self._said.add(path)
            notices.append(f"cannot read {path} ({why}) for {spec.name} {spec.describe()}: its missing figures "
                           "come from its processes where they can (PSS, CPU time), OOM kills and throttling "
                           "from this file are not known (run fwload as root, or as a user who may read the "
                           "cgroup)")
        return notices

    # -- sampling ------------------------------------------------------------------------

    def collect(self, stage: str = "") -> Collection:
        ts = self._clock()
        result = Collection()
        try:
            children_of = children_map()
            located, failed = self._locator.locate(children_of)
        except Exception as error:  # noqa: BLE001 - a run never crashes because of its collector
            result.events.append(CollectorEvent(ts, "gap", {"source": SOURCE,
                                                            "detail": f"cannot list processes: {error}"}))
            return result
        for problem in dict.fromkeys(failed.values()):
            names = ", ".join(name for name, p in failed.items() if p == problem)
            result.events.append(CollectorEvent(ts, "gap", {"source": SOURCE, "detail": f"{names}: {problem}"}))
        self._last = {**self._last, **located}
        for spec in self._specs:
            if spec.name not in located:
                continue
            try:
                self._collect_component(spec, located[spec.name], children_of, ts, stage, result)
            except Exception as error:  # noqa: BLE001
                result.events.append(CollectorEvent(ts, "gap", {
                    "source": SOURCE, "detail": f"{spec.name}: {type(error).__name__}: {error}"}))
        return result

    def _collect_component(self, spec: ComponentSpec, found: Located, children_of: dict[int, list[int]],
                           ts: float, stage: str, result: Collection) -> None:
        reading = read_cgroup(found.cgroup) if found.cgroup is not None else None
        for notice in self._new_notices(spec, found, reading):
            result.events.append(CollectorEvent(ts, "collector_notice", {"source": SOURCE, "detail": notice}))
        sample = ResourceSample(ts=ts, source=SOURCE, component=spec.name, pod=spec.name, container=spec.name,
                                node=self._node, stage=stage)
        if reading is not None:
            sample.cpu_limit_m, sample.memory_limit_bytes = reading.cpu_limit_m, reading.limit_bytes
        result.events += self._trackers[spec.name].step(
            sample, found.root, reading, children_of, dead_detail=_dead_detail(spec, found, reading),
            supervisor_restarts=found.restarts)
        result.samples.append(sample)

    # -- readiness -----------------------------------------------------------------------

    def health(self) -> list[ComponentHealth]:
        """Alive = its main process runs (and its supervisor says it is up); ready = systemd says
        active, or the container's health check passes."""
        located, failed = self._locator.locate(children_map())
        health = []
        for spec in self._specs:
            if spec.name in failed:
                health.append(ComponentHealth(spec.name, alive=False, ready=False, detail=failed[spec.name]))
                continue
            found = located[spec.name]
            reading = read_cgroup(found.cgroup) if found.cgroup is not None and not found.alive else None
            detail = found.state if found.alive else _dead_detail(spec, found, reading)
            health.append(ComponentHealth(spec.name, alive=found.alive, ready=found.ready, detail=detail))
        return health

    def describe(self) -> dict[str, Any]:
        cgroups = {name: found.cgroup for name, found in sorted(self._last.items()) if found.cgroup is not None}
        return {"backend": self.name, "interval_s": self.default_interval_s,
                "components": {s.name: s.describe() for s in self._specs},
                "cgroups": {name: [str(d) for d in cgroup.directories()] for name, cgroup in cgroups.items()},
                "cgroup_version": sorted({cgroup.version for cgroup in cgroups.values()})}


def _dead_detail(spec: ComponentSpec, found: Located, reading: CgroupReading | None) -> str:
    detail = found.state or f"{spec.name} {spec.describe()} is gone"
    kills = reading.oom_kills if reading is not None else None
    if kills:
        detail += f" ({kills} OOM kill(s) counted in its cgroup)"
    return detail

