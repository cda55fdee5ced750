"""One cgroup per component, its limits set before anything runs in it, all removed at stop.

Each component's cgroup is ``fwload-stack-<id>/<component>`` under every controller's root
(v1: ``/sys/fs/cgroup/{memory,cpu,cpuacct}/...``; v2: ``/sys/fs/cgroup/...``): one relative
path, which is what ``fwload run`` hands the processes collector (``--local-cgroups``).
CPU is limited by the CFS quota over a 100 ms period (500m = 50 ms per 100 ms), memory by
``memory.limit_in_bytes`` / ``memory.max``, as the kubelet does
(`fwload.common.cgroups.create_cgroup`).
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

from fwload.common.cgroups import ROOT, Cgroup, create_cgroup
from fwload.errors import FwloadError
from fwload.standin.stack.limits import Limit

REMOVE_TIMEOUT_S = 10.0


@dataclass
class Confinement:
    """The cgroups of one stack: ``parent`` and one child per component."""

    parent: str
    root: Path = ROOT
    cgroups: dict[str, Cgroup] = field(default_factory=dict)
    relative: dict[str, str] = field(default_factory=dict)

    def add(self, component: str, limit: Limit) -> Cgroup:
        """Make the component's cgroup with its limits (FwloadError when the kernel refuses)."""
        relative = f"{self.parent}/{component}"
        cgroup = create_cgroup(
            relative, memory_limit_bytes=limit.memory_bytes, cpu_limit_m=limit.cpu_m, root=self.root
        )
        self.cgroups[component], self.relative[component] = cgroup, relative
        return cgroup

    def remove(self) -> list[str]:
        """Kill what is left inside each cgroup, remove them and the parent; returns what could not go."""
        left = []
        for component, cgroup in list(self.cgroups.items()):
            if _empty_and_remove(cgroup.directories()):
                del self.cgroups[component]
            else:
                left.append(", ".join(str(d) for d in cgroup.directories() if d.is_dir()))
        parent = Cgroup.at(self.parent, self.root)
        if not _empty_and_remove(parent.directories()):
            left.append(", ".join(str(d) for d in parent.directories() if d.is_dir()))
        return left


def create_confinement(stack_id: str, root: Path = ROOT) -> tuple[Confinement | None, str]:
    """The stack's parent cgroup, or (None, why not) when cgroups cannot be made here."""
    parent = f"fwload-stack-{stack_id}"
    try:
        create_cgroup(parent, root=root)
    except FwloadError as error:
        return None, error.problem
    made = Cgroup.at(parent, root)
    if not all((d / "cgroup.procs").is_file() for d in made.directories()):
        for directory in made.directories():
            with contextlib.suppress(OSError):
                directory.rmdir()
        return None, f"{root} holds no memory, cpu and cpuacct cgroups"
    return Confinement(parent, root), ""


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
