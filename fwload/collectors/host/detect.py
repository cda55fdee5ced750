"""What runs Funkwhale on this machine: systemd units, compose containers, listening ports.

`detect` proposes a host component for each of the seed's components, trying in turn:

1. systemd units named as Funkwhale's own unit files name them (``deploy/funkwhale-server.service``,
   ``funkwhale-worker.service``, ``funkwhale-beat.service`` in Funkwhale's repository) and as
   Debian names nginx, PostgreSQL (``postgresql@15-main.service`` runs the server;
   ``postgresql.service`` is a oneshot that runs none) and Redis (``redis-server.service``).
   Where systemctl cannot be asked (systemd is not PID 1, e.g. inside a container that sees
   the host's cgroups), the same names under the cgroup tree's ``system.slice``.
2. Containers of a compose project (``com.docker.compose.project``/``.service`` labels), by
   the service names of Funkwhale's ``deploy/docker-compose.yml``: ``api``, ``celeryworker``,
   ``celerybeat``, ``postgres``, ``redis``, and ``front`` (1.3+; ``nginx`` before).
3. Processes listening on the usual ports: 5000 (Funkwhale's default ``FUNKWHALE_API_PORT``)
   or 8000 for gunicorn, 80/443 for nginx, 5432 for PostgreSQL, 6379 for Redis.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from fwload.collectors.host import containers, systemd
from fwload.collectors.host.tools import HostToolError
from fwload.common.cgroups import ROOT, Cgroup
from fwload.limits import COMPONENTS

UNIT_PATTERNS: dict[str, tuple[str, ...]] = {
    "api": ("funkwhale-server.service",),
    "celery-worker": ("funkwhale-worker.service",),
    "celery-beat": ("funkwhale-beat.service",),
    "nginx": ("nginx.service",),
    "postgres": ("postgresql@*.service", "postgresql-*.service", "postgresql.service"),
    "redis": ("redis-server.service", "redis.service", "redis@*.service", "redis-*.service"),
}
"""Per component, unit name patterns, best first."""
COMPOSE_SERVICES = {"api": "api", "celeryworker": "celery-worker", "celerybeat": "celery-beat",
                    "front": "nginx", "nginx": "nginx", "postgres": "postgres", "redis": "redis"}
PORTS = {5000: "api", 8000: "api", 80: "nginx", 443: "nginx", 5432: "postgres", 6379: "redis"}


@dataclass(frozen=True)
class Finding:
    component: str
    spec: dict[str, Any]
    how: str
    """Where it was found, for the comment beside it."""


@dataclass
class Detection:
    found: dict[str, Finding] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def missing(self) -> list[str]:
        return [c for c in COMPONENTS if c not in self.found]

    def add(self, finding: Finding) -> None:
        self.found.setdefault(finding.component, finding)


def detect(*, cgroup_root: Path = ROOT, ports: Mapping[int, str] = PORTS,
           engines: Iterable[str] = containers.ENGINES) -> Detection:
    detection = Detection()
    _systemd_units(detection, cgroup_root)
    for engine in engines:
        _compose(detection, engine)
    _listeners(detection, ports)
    return detection


def _systemd_units(detection: Detection, root: Path) -> None:
    patterns = [p for component in COMPONENTS for p in UNIT_PATTERNS[component]]
    try:
        units = systemd.service_units(patterns)
    except HostToolError as error:
        detection.notes.append(f"systemd: {str(error).rstrip('.')}; looked for its units in the cgroup tree "
                               "instead")
        _unit_cgroups(detection, root)
        return
    for component in COMPONENTS:
        unit = _best(component, units)
        if unit is not None:
            detection.add(Finding(component, {"systemd": unit[0]}, f"systemd unit {unit[0]} ({unit[1]})"))


def _best(component: str, units: list[tuple[str, str]]) -> tuple[str, str] | None:
    """The active unit matching the earliest pattern, else an inactive one."""
    for wanted_active in (True, False):
        for pattern in UNIT_PATTERNS[component]:
            for unit, active in units:
                if fnmatch.fnmatch(unit, pattern) and (active == "active") == wanted_active:
                    return unit, active
    return None


def _unit_cgroups(detection: Detection, root: Path) -> None:
    """``system.slice/<unit>`` directories: v2 under the root, v1 under the memory controller."""
    v2 = (root / "cgroup.controllers").exists()
    slice_dir = root / "system.slice" if v2 else root / "memory" / "system.slice"
    names = sorted(p.name for p in slice_dir.glob("*.service") if p.is_dir()) if slice_dir.is_dir() else []
    units = [(name, "active" if Cgroup.from_path(str(slice_dir / name), root).pids() else "empty")
             for name in names]
    for component in COMPONENTS:
        unit = _best(component, units)
        if unit is not None:
            path = slice_dir / unit[0]
            detection.add(Finding(component, {"cgroup": str(path)}, f"cgroup of unit {unit[0]} ({unit[1]})"))


def _compose(detection: Detection, engine: str) -> None:
    try:
        found = containers.compose_containers(engine)
    except HostToolError as error:
        detection.notes.append(f"{engine}: {error}")
        return
    projects: dict[str, list[containers.ContainerState]] = {}
    for container in found:
        if container.labels.get(containers.SERVICE_LABEL) in COMPOSE_SERVICES:
            projects.setdefault(container.labels.get(containers.PROJECT_LABEL, ""), []).append(container)
    if not projects:
        return
    project = max(projects, key=lambda name: (len(projects[name]), name))
    if len(projects) > 1:
        others = ", ".join(sorted(p for p in projects if p != project))
        detection.notes.append(f"{engine}: several compose projects run Funkwhale services; proposed "
                               f"{project!r}, not {others}")
    for container in sorted(projects[project], key=lambda c: c.name):
        service = container.labels[containers.SERVICE_LABEL]
        detection.add(Finding(COMPOSE_SERVICES[service], {engine: container.name},
                              f"{engine} container {container.name} (compose project {project}, service {service})"))


def _listeners(detection: Detection, ports: Mapping[int, str]) -> None:
    try:
        connections = psutil.net_connections(kind="tcp")
    except (psutil.Error, OSError) as error:
        detection.notes.append(f"listening ports: cannot list them ({error}); run as root to see every process")
        return
    holders: dict[int, int] = {}
    hidden = set()
    for connection in connections:
        if connection.status != psutil.CONN_LISTEN or not connection.laddr or connection.laddr.port not in ports:
            continue
        if connection.pid is None:
            hidden.add(connection.laddr.port)
        else:
            holders.setdefault(connection.laddr.port, connection.pid)
    for port in sorted(hidden - set(holders)):
        detection.notes.append(f"port {port} listens, but its process is not visible to this user (run as root)")
    for port, pid in sorted(holders.items()):
        component = ports[port]
        if component in detection.found:
            continue
        try:
            master = _master(psutil.Process(pid), port)
            name = master.name()
        except psutil.Error:
            continue
        detection.add(Finding(component, {"pid": master.pid}, f"process {master.pid} ({name}) listening on port "
                                                              f"{port}; a PID changes when it restarts: prefer its "
                                                              "unit or cgroup"))


def _master(process: psutil.Process, port: int) -> psutil.Process:
    """The topmost of the processes that share a listening socket (a gunicorn or nginx master and its
    workers): psutil names one holder per socket, which may be a worker."""
    while True:
        parent = process.parent()
        if parent is None or not _listens(parent, port):
            return process
        process = parent


def _listens(process: psutil.Process, port: int) -> bool:
    connections = getattr(process, "net_connections", None) or process.connections
    try:
        return any(c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port
                   for c in connections(kind="tcp"))
    except psutil.Error:
        return False


def as_yaml(detection: Detection, hostname: str) -> str:
    """The ``collector:`` section to paste into a scenario, with where each component was found."""
    lines = [f"# fwload host detect on {hostname}: {len(detection.found)} of {len(COMPONENTS)} components found"]
    lines += [f"#   {f.component}: {f.how}" for f in detection.found.values()]
    if detection.missing:
        lines.append(f"# not found: {', '.join(detection.missing)}; name each by hand, e.g. "
                     f"{detection.missing[0]}: {{pid: 1234}} or {{cgroup: /sys/fs/cgroup/...}}")
    lines += [f"# {note}" for note in detection.notes]
    if not detection.found:
        lines.append("# nothing to propose: no collector section")
        return "\n".join(lines) + "\n"
    lines += ["collector:", "  backend: host", "  components:"]
    for component in COMPONENTS:
        finding = detection.found.get(component)
        if finding is not None:
            ((kind, value),) = finding.spec.items()
            lines.append(f"    {component}: {{{kind}: {_scalar(value)}}}")
    return "\n".join(lines) + "\n"


def _scalar(value: Any) -> str:
    import yaml

    return yaml.safe_dump(value, default_flow_style=True).strip().removesuffix("\n...").strip()
