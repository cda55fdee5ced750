"""Benchmark 5, collector (host): CPU time per sample of the host backend with 200 components.

As root on a host with writable cgroups, the bench makes 200 real cgroups (each with a
memory and CPU limit and one sleeping process in it) and names them ``{cgroup: ...}``; elsewhere
it lays out 200 cgroup v2 directories with the kernel's files under a temporary root. The CPU
time is the sampling thread's own, over the same number of samples as the Kubernetes backend.
The baseline reads the same cgroups with the bare reader (`read_cgroup`), the floor any
cgroup collector pays; the host backend adds one process-table scan per sample and the
per-component tracking (main process, workers, restarts).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from bench.errors import BenchError
from bench.sizes import Sizes
from bench.table import Row

NAME = "collector"
INTERVAL_S = 2.0
MiB = 1024 * 1024


def run(sizes: Sizes, kube_ms_per_sample: float) -> list[Row]:
    from fwload.collectors.host import HostCollector
    from fwload.common.cgroups import Cgroup, read_cgroup

    count = sizes.pods
    with _components(count) as (components, root, kind):
        collector = HostCollector(components, cgroup_root=root)
        collector.check_connection()
        collector.collect()  # first-sample baselines
        spent = 0.0
        for _ in range(sizes.collector_samples):
            started = time.thread_time()
            result = collector.collect()
            spent += time.thread_time() - started
            if len(result.samples) != count or any(s.phase != "Running" for s in result.samples):
                raise BenchError(f"the host collector sampled {len(result.samples)} running components of {count}")
        cgroups = [Cgroup.from_path(dirs[0], root) for dirs in collector.describe()["cgroups"].values()]
        if len(cgroups) != count:
            raise BenchError(f"the host collector found {len(cgroups)} cgroups of {count}")
        raw = 0.0
        for _ in range(sizes.collector_samples):
            started = time.thread_time()
            for cgroup in cgroups:
                read_cgroup(cgroup)
            raw += time.thread_time() - started
    n = sizes.collector_samples
    per_sample, raw_per_sample = spent / n * 1000, raw / n * 1000
    return [
        Row(NAME, f"host: CPU per sample of {count} components ({kind}) as a share of one core at a "
            f"{INTERVAL_S:g} s interval", f"{per_sample:.1f} ms / {INTERVAL_S:g} s", "1 core",
            per_sample / 1000 / INTERVAL_S),
        Row(NAME, f"host: CPU ms per sample of {count} components vs bare reads of their cgroups",
            f"{per_sample:.1f} ms", f"{raw_per_sample:.1f} ms", per_sample / raw_per_sample),
        Row(NAME, f"host vs kubernetes: CPU ms per sample, {count} components vs {count} pods",
            f"{per_sample:.1f} ms", f"{kube_ms_per_sample:.1f} ms", per_sample / kube_ms_per_sample),
    ]


@contextlib.contextmanager
def _components(count: int) -> Iterator[tuple[dict[str, dict[str, str]], Path, str]]:
    from fwload.common.cgroups import ROOT, cgroups_writable

    if cgroups_writable():
        with _real_cgroups(count) as components:
            yield components, ROOT, "real cgroups"
        return
    with tempfile.TemporaryDirectory(prefix="fwload-bench-cgroups-") as folder, _sleepers(count) as pids:
        root = Path(folder)
        (root / "cgroup.controllers").write_text("cpuset cpu io memory pids\n")
        components = {}
        for index, pid in enumerate(pids):
            directory = root / "bench" / f"c{index}"
            directory.mkdir(parents=True)
            for name, text in _V2_FILES.items():
                (directory / name).write_text(text)
            (directory / "cgroup.procs").write_text(f"{pid}\n")
            components[f"c{index}"] = {"cgroup": str(directory)}
        yield components, root, "cgroup v2 directories"


@contextlib.contextmanager
def _real_cgroups(count: int) -> Iterator[dict[str, dict[str, str]]]:
    from fwload.common.cgroups import Cgroup, create_cgroup, move_into, remove_cgroup

    parent = f"fwload-bench-{uuid.uuid4().hex[:8]}"
    made: list[Cgroup] = [create_cgroup(parent)]
    processes: list[subprocess.Popen[bytes]] = []
    try:
        components = {}
        for index in range(count):
            cgroup = create_cgroup(f"{parent}/c{index}", memory_limit_bytes=64 * MiB, cpu_limit_m=100)
            made.append(cgroup)
            processes.append(subprocess.Popen(["sleep", "3600"], preexec_fn=lambda c=cgroup: move_into(c, os.getpid())))
            components[f"c{index}"] = {"cgroup": str(cgroup.memory)}
        yield components
    finally:
        for process in processes:
            process.kill()
            process.wait(10)
        for cgroup in reversed(made):
            for _ in range(100):
                try:
                    remove_cgroup(cgroup)
                    break
                except OSError:
                    time.sleep(0.05)


@contextlib.contextmanager
def _sleepers(count: int) -> Iterator[list[int]]:
    processes = [subprocess.Popen(["sleep", "3600"]) for _ in range(count)]
    try:
        yield [p.pid for p in processes]
    finally:
        for process in processes:
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGKILL)
            process.wait(10)


_V2_FILES = {
    "memory.current": "52428800\n", "memory.peak": "60000000\n", "memory.max": "67108864\n",
    "memory.stat": "anon 41943040\nfile 8388608\nkernel 2097152\nshmem 0\nsock 0\n",
    "memory.events": "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\noom_group_kill 0\n",
    "cpu.stat": "usage_usec 1500000\nuser_usec 1000000\nsystem_usec 500000\nnr_periods 100\n"
                "nr_throttled 3\nthrottled_usec 20000\n",
    "cpu.max": "10000 100000\n",
}
"""The files (and their shape) a cgroup v2 kernel offers for a limited cgroup."""
