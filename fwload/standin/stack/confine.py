"""One cgroup per component, limits set before anything runs in it, all removed at stop.

Where the cgroups go:
- cgroup v1 (one hierarchy per controller): under the cgroup this process is already in,
  per controller (``memory/<ours>/fwload-stack-<id>/<component>``), so the components stay
  accounted wherever the stand-in itself is;
- cgroup v2: under the root (``/sys/fs/cgroup/fwload-stack-<id>/<component>``), because v2
  lets a cgroup delegate controllers only while it holds no process, and ours holds us.

CPU is limited by the CFS quota over a 100 ms period (500m = 50 ms per 100 ms), memory by
``memory.limit_in_bytes`` / ``memory.max``, as the kubelet does.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

from fwload.collectors.cgroups import ROOT, Cgroup
from fwload.standin.stack.limits import Limit

CPU_PERIOD_US = 100_000
CONTROLLERS_V1 = ("memory", "cpu", "cpuacct")
REMOVE_TIMEOUT_S = 10.0


@dataclass
class Confinement:
    """The cgroups of one stack: a parent per controller and a child per component."""

    version: int
    parents: list[Path]
    cgroups: dict[str, Cgroup] = field(default_factory=dict)
    limits: dict[str, Limit] = field(default_factory=dict)

    def add(self, component: str, limit: Limit) -> Cgroup:
        """Make the component's cgroup with its limits (raises OSError if the kernel refuses)."""
        if self.version == 2:
            path = self.parents[0] / component
            cgroup = Cgroup(2, path, path, path)
        else:
            memory, cpu, cpuacct = (parent / component for parent in self.parents)
            cgroup = Cgroup(1, memory, cpu, cpuacct)
        self.cgroups[component] = cgroup
        self.limits[component] = limit
        for directory in cgroup.directories():
            directory.mkdir(exist_ok=True)
        _write_limits(cgroup, limit)
        return cgroup

    def remove(self) -> list[str]:
        """Kill what is left inside each cgroup, remove them and the parents; returns what could not go."""
        left = []
        for component, cgroup in list(self.cgroups.items()):
            if not _empty_and_remove(cgroup.directories()):
                left.append(f"{component}: {', '.join(str(d) for d in cgroup.directories() if d.is_dir())}")
            else:
                del self.cgroups[component]
        if not _empty_and_remove(self.parents):
            left.append(", ".join(str(p) for p in self.parents if p.is_dir()))
        return left


def create_confinement(stack_id: str, root: Path = ROOT) -> tuple[Confinement | None, str]:
    """The stack's parent cgroups, or (None, why not) when cgroups cannot be made here."""
    name = f"fwload-stack-{stack_id}"
    if (root / "cgroup.controllers").exists():
        parent = root / name
        parents, version = [parent], 2
    else:
        own = _own_v1_paths()
        parents = [root / controller / own.get(controller, "") / name for controller in CONTROLLERS_V1]
        version = 1
    made: list[Path] = []
    try:
        if version == 1 and not all((root / c).is_dir() for c in CONTROLLERS_V1):
            raise OSError(errno.ENOENT, f"no memory, cpu and cpuacct hierarchies under {root}")
        for parent in parents:
            parent.mkdir()
            made.append(parent)
        if version == 2:
            for control in (root / "cgroup.subtree_control", parents[0] / "cgroup.subtree_control"):
                control.write_text("+memory +cpu")
    except OSError as error:
        _empty_and_remove(made)
        return None, f"cannot create cgroups under {root} ({error.strerror or error})"
    return Confinement(version, parents), ""


def _own_v1_paths() -> dict[str, str]:
    """This process's cgroup path in each v1 controller (``/proc/self/cgroup``)."""
    paths = {}
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        for controller in controllers.split(","):
            paths[controller] = path.strip("/")
    return paths


def _write_limits(cgroup: Cgroup, limit: Limit) -> None:
    quota = None if limit.cpu_m is None else max(1000, int(limit.cpu_m * CPU_PERIOD_US / 1000))
    if cgroup.version == 2:
        assert cgroup.memory is not None and cgroup.cpu is not None
        if limit.memory_bytes is not None:
            (cgroup.memory / "memory.max").write_text(str(limit.memory_bytes))
            with contextlib.suppress(OSError):
                (cgroup.memory / "memory.swap.max").write_text("0")
        if quota is not None:
            (cgroup.cpu / "cpu.max").write_text(f"{quota} {CPU_PERIOD_US}")
        return
    assert cgroup.memory is not None and cgroup.cpu is not None
    if limit.memory_bytes is not None:
        (cgroup.memory / "memory.limit_in_bytes").write_text(str(limit.memory_bytes))
    if quota is not None:
        (cgroup.cpu / "cpu.cfs_period_us").write_text(str(CPU_PERIOD_US))
        (cgroup.cpu / "cpu.cfs_quota_us").write_text(str(quota))


def cgroup_pids(directories: list[Path]) -> set[int]:
    pids: set[int] = set()
    for directory in directories:
        with contextlib.suppress(OSError):
            pids.update(int(p) for p in (directory / "cgroup.procs").read_text().split())
    return pids


def _empty_and_remove(directories: list[Path]) -> bool:
    """SIGKILL every process still inside, then rmdir (the kernel frees a cgroup a moment later)."""
    deadline = time.monotonic() + REMOVE_TIMEOUT_S
    while True:
        for pid in cgroup_pids(directories):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        busy = False
        for directory in directories:
            try:
                directory.rmdir()
            except FileNotFoundError:
                continue
            except OSError:
                busy = True
        if not busy:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
