"""Reading (and, for the stack mode and tests, making) one component's cgroup, v1 or v2.

A memory limit is compared with the cgroup's *charge*, not with a sum of RSS, and an OOM
kill of a worker under a surviving parent is only counted reliably by the cgroup's own
``oom_kill`` counter (the kernel log wraps and is rate-limited): see
``shared/funkwhale-under-seed-limits.md``. Files that a kernel does not offer read as
``None`` ("not known"), never as zero; a file that exists but cannot be read (no rights)
is named in `CgroupReading.unreadable`, so a backend can say so once.

v1 (one directory per controller)          v2 (one directory)
  memory.usage_in_bytes      -> charge        memory.current
  memory.stat total_rss/rss  -> anon          memory.stat anon
  memory.max_usage_in_bytes  -> peak          memory.peak
  memory.limit_in_bytes      -> limit         memory.max
  memory.oom_control oom_kill-> OOM kills     memory.events oom_kill
  memory.failcnt             -> limit hits    memory.events max
  cpu.stat nr_periods, nr_throttled, throttled_time (ns)   cpu.stat nr_periods, nr_throttled, throttled_usec
  cpuacct.usage (ns)         -> CPU used      cpu.stat usage_usec
  cpu.cfs_quota_us / cfs_period_us -> CPU limit   cpu.max
"""

from __future__ import annotations

import contextlib
import errno
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from fwload.errors import FwloadError

ROOT = Path("/sys/fs/cgroup")
_UNLIMITED_V1 = 1 << 60
V1_CONTROLLERS = ("memory", "cpu", "cpuacct", "cpu,cpuacct", "cpuacct,cpu", "systemd", "unified", "pids")
"""Directories under a v1 root that are controller hierarchies, not cgroups (``cpu,cpuacct`` is
how most distributions mount cpu and cpuacct together, with ``cpu``/``cpuacct`` as links)."""


@dataclass(frozen=True)
class Cgroup:
    """Where one component's cgroup lives. v1: a directory per controller; v2: one for all."""

    version: int
    memory: Path | None
    cpu: Path | None
    cpuacct: Path | None

    @classmethod
    def at(cls, relative: str, root: Path = ROOT) -> Cgroup:
        """The cgroup ``relative`` (e.g. ``fwload/api``) under ``root``, in whichever version is mounted."""
        relative = relative.strip("/")
        if (root / "cgroup.controllers").exists():
            path = root / relative
            return cls(2, path, path, path)
        return cls(1, root / "memory" / relative, root / "cpu" / relative, root / "cpuacct" / relative)

    @classmethod
    def of_pid(cls, pid: int, root: Path = ROOT) -> Cgroup:
        """The cgroup a process is in now (from ``/proc/<pid>/cgroup``)."""
        paths: dict[str, str] = {}
        for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
            _, controllers, path = line.split(":", 2)
            for controller in controllers.split(",") if controllers else ["unified"]:
                paths[controller] = path.strip("/")
        if (root / "cgroup.controllers").exists():
            return cls.at(paths.get("unified", ""), root)
        found = (root / c / paths[c] if c in paths else None for c in ("memory", "cpu", "cpuacct"))
        return cls(1, *found)

    @classmethod
    def from_path(cls, path: str, root: Path = ROOT) -> Cgroup:
        """A cgroup as a person writes it: a directory under ``root`` (v2
        ``/sys/fs/cgroup/system.slice/x.service``, v1 ``/sys/fs/cgroup/memory/x``: every controller's
        directory of the same path), or a path as ``/proc/<pid>/cgroup`` and systemd's
        ``ControlGroup`` print it (``/system.slice/x.service``)."""
        given = Path(path)
        try:
            relative = given.relative_to(root)
        except ValueError:
            return cls.at(path, root)
        parts = relative.parts
        if not (root / "cgroup.controllers").exists() and parts and parts[0] in V1_CONTROLLERS:
            parts = parts[1:]
        return cls.at("/".join(parts), root)

    def exists(self) -> bool:
        return any(p is not None and p.is_dir() for p in (self.memory, self.cpu, self.cpuacct))

    def directories(self) -> list[Path]:
        return list(dict.fromkeys(p for p in (self.memory, self.cpu, self.cpuacct) if p is not None))

    def pids(self) -> list[int]:
        """The processes in it now (from its memory directory, else any other); empty if it is gone."""
        for directory in self.directories():
            text = _text(directory, "cgroup.procs")
            if text is not None:
                return [int(pid) for pid in text.split()]
        return []


@dataclass(slots=True)
class CgroupReading:
    """One read of a cgroup's counters. Units: bytes, seconds, millicores; None = not offered."""

    memory_bytes: int | None = None
    anon_bytes: int | None = None
    peak_bytes: int | None = None
    limit_bytes: int | None = None
    oom_kills: int | None = None
    failcnt: int | None = None
    cpu_usage_s: float | None = None
    periods: int | None = None
    throttled_periods: int | None = None
    throttled_s: float | None = None
    cpu_limit_m: float | None = None
    unreadable: dict[str, str] = field(default_factory=dict)
    """File path -> why it could not be read (e.g. ``Permission denied``), for files that exist."""


_GONE = (errno.ENOENT, errno.ENODEV, errno.ENOTDIR)


def _text(directory: Path | None, name: str, unreadable: dict[str, str] | None = None) -> str | None:
    if directory is None:
        return None
    try:
        return (directory / name).read_text()
    except OSError as error:
        if unreadable is not None and error.errno not in _GONE:
            unreadable[str(directory / name)] = error.strerror or type(error).__name__
        return None


def _number(directory: Path | None, name: str, unreadable: dict[str, str] | None = None) -> int | None:
    text = _text(directory, name, unreadable)
    try:
        return int(text.strip()) if text is not None else None
    except ValueError:
        return None


def _keyed(directory: Path | None, name: str, unreadable: dict[str, str] | None = None) -> dict[str, int]:
    """``key value`` lines (memory.stat, cpu.stat, memory.events, memory.oom_control)."""
    values: dict[str, int] = {}
    for line in (_text(directory, name, unreadable) or "").splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].lstrip("-").isdigit():
            values[parts[0]] = int(parts[1])
    return values


def read_cgroup(cgroup: Cgroup) -> CgroupReading:
    """Read every counter the kernel offers for this cgroup."""
    return _read_v2(cgroup) if cgroup.version == 2 else _read_v1(cgroup)


def _read_v1(cgroup: Cgroup) -> CgroupReading:
    memory, cpu, bad = cgroup.memory, cgroup.cpu, {}
    stat = _keyed(memory, "memory.stat", bad)
    cpu_stat = _keyed(cpu, "cpu.stat", bad)
    limit = _number(memory, "memory.limit_in_bytes", bad)
    quota, period = _number(cpu, "cpu.cfs_quota_us", bad), _number(cpu, "cpu.cfs_period_us", bad)
    usage_ns = _number(cgroup.cpuacct, "cpuacct.usage", bad)
    throttled_ns = cpu_stat.get("throttled_time")
    return CgroupReading(
        memory_bytes=_number(memory, "memory.usage_in_bytes", bad),
        anon_bytes=stat.get("total_rss", stat.get("rss")),
        peak_bytes=_number(memory, "memory.max_usage_in_bytes", bad),
        limit_bytes=limit if limit is not None and limit < _UNLIMITED_V1 else None,
        oom_kills=_keyed(memory, "memory.oom_control", bad).get("oom_kill"),
        failcnt=_number(memory, "memory.failcnt", bad),
        cpu_usage_s=usage_ns / 1e9 if usage_ns is not None else None,
        periods=cpu_stat.get("nr_periods"),
        throttled_periods=cpu_stat.get("nr_throttled"),
        throttled_s=throttled_ns / 1e9 if throttled_ns is not None else None,
        cpu_limit_m=quota * 1000 / period if quota and quota > 0 and period else None,
        unreadable=bad,
    )


def _read_v2(cgroup: Cgroup) -> CgroupReading:
    path, bad = cgroup.memory, {}
    stat, events = _keyed(path, "memory.stat", bad), _keyed(path, "memory.events", bad)
    cpu_stat = _keyed(cgroup.cpu, "cpu.stat", bad)
    limit_text = (_text(path, "memory.max", bad) or "").strip()
    cpu_max = (_text(cgroup.cpu, "cpu.max", bad) or "").split()
    usage_us, throttled_us = cpu_stat.get("usage_usec"), cpu_stat.get("throttled_usec")
    return CgroupReading(
        memory_bytes=_number(path, "memory.current", bad),
        anon_bytes=stat.get("anon"),
        peak_bytes=_number(path, "memory.peak", bad),
        limit_bytes=int(limit_text) if limit_text.isdigit() else None,
        oom_kills=events.get("oom_kill"),
        failcnt=events.get("max"),
        cpu_usage_s=usage_us / 1e6 if usage_us is not None else None,
        periods=cpu_stat.get("nr_periods"),
        throttled_periods=cpu_stat.get("nr_throttled"),
        throttled_s=throttled_us / 1e6 if throttled_us is not None else None,
        cpu_limit_m=(int(cpu_max[0]) * 1000 / int(cpu_max[1])
                     if len(cpu_max) == 2 and cpu_max[0].isdigit() and cpu_max[1].isdigit() else None),
        unreadable=bad,
    )


# -- making cgroups (stack mode, tests) ----------------------------------------------------

def create_cgroup(relative: str, *, memory_limit_bytes: int | None = None, cpu_limit_m: float | None = None,
                  cpu_period_us: int = 100_000, root: Path = ROOT) -> Cgroup:
    """Make the cgroup (every controller it needs) and set its limits, before anything runs in it.

    Limits must be in place before the component starts: moving a running process into
    a limited cgroup does not move the memory it already holds.
    """
    cgroup = Cgroup.at(relative, root)
    try:
        for directory in cgroup.directories():
            directory.mkdir(parents=True, exist_ok=True)
        if cgroup.version == 2:
            _enable_v2_controllers(root, relative)
        if cgroup.version == 1:
            if memory_limit_bytes is not None and cgroup.memory:
                (cgroup.memory / "memory.limit_in_bytes").write_text(str(memory_limit_bytes))
            if cpu_limit_m is not None and cgroup.cpu:
                (cgroup.cpu / "cpu.cfs_period_us").write_text(str(cpu_period_us))
                (cgroup.cpu / "cpu.cfs_quota_us").write_text(str(int(cpu_limit_m * cpu_period_us / 1000)))
        else:
            if memory_limit_bytes is not None and cgroup.memory:
                (cgroup.memory / "memory.max").write_text(str(memory_limit_bytes))
            if cpu_limit_m is not None and cgroup.cpu:
                quota = int(cpu_limit_m * cpu_period_us / 1000)
                (cgroup.cpu / "cpu.max").write_text(f"{quota} {cpu_period_us}")
    except OSError as error:
        remove_cgroup(cgroup)
        raise FwloadError(f"cannot create cgroup {relative} under {root}: {error.strerror or error}",
                          "run as root on a host with cgroups mounted read-write, "
                          "or run without limits") from None
    return cgroup


def _enable_v2_controllers(root: Path, relative: str) -> None:
    """v2 offers memory/cpu files in a child only if every ancestor delegates them."""
    parts = relative.strip("/").split("/")
    for depth in range(len(parts)):
        control = root.joinpath(*parts[:depth]) / "cgroup.subtree_control"
        with contextlib.suppress(OSError):
            control.write_text("+memory +cpu")


def move_into(cgroup: Cgroup, pid: int) -> None:
    """Put a process (and so its future children) into every controller of the cgroup."""
    for directory in cgroup.directories():
        (directory / "cgroup.procs").write_text(str(pid))


def remove_cgroup(cgroup: Cgroup) -> None:
    """Remove the (empty) cgroup directories; a missing one is fine."""
    for directory in cgroup.directories():
        with contextlib.suppress(FileNotFoundError, NotADirectoryError):
            directory.rmdir()


def cgroups_writable(root: Path = ROOT) -> bool:
    """Whether this process can create memory/cpu cgroups here (root, mounted read-write)."""
    probe = f"fwload-probe-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        cgroup = create_cgroup(probe, root=root)
    except FwloadError:
        return False
    remove_cgroup(cgroup)
    return cgroup.memory is not None and (cgroup.version == 2 or cgroup.cpu is not None)
