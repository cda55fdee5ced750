"""Components in their own cgroups: OOM kills under a surviving parent, throttling, charge (the
processes backend; the throttling test also the host backend, which reads the same cgroup)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fwload.collectors.host import HostCollector
from fwload.collectors.processes import ProcessCollector
from fwload.common.cgroups import Cgroup, move_into, read_cgroup
from fwload.errors import UsageError
from tests.collectors.spawn import StepClock, needs_cgroups, start

MiB = 1024 * 1024

OOM_IN_WORKER = """
    import os, sys
    sys.stdin.readline()
    pid = os.fork()
    if pid == 0:
        chunks = []
        while True:
            chunks.append(bytearray(b"x") * (1 << 20))
    _, status = os.waitpid(pid, 0)
    print(os.WTERMSIG(status) if os.WIFSIGNALED(status) else -1, flush=True)
    sys.stdin.readline()
"""


@needs_cgroups
def test_worker_oom_killed_in_the_cgroup_is_counted_while_the_parent_survives(children, make_cgroup):
    cgroup = make_cgroup(memory_limit_bytes=48 * MiB)
    parent = start(children, OOM_IN_WORKER, preexec_fn=lambda: move_into(cgroup, os.getpid()))
    assert Cgroup.of_pid(parent.pid).memory == cgroup.memory
    sampler = ProcessCollector({"api": parent.pid}, cgroups={"api": cgroup})
    assert sampler.check_connection() == []
    before = sampler.collect()
    parent.send()
    signal_number = int(parent.line())
    after = sampler.collect()

    assert signal_number == 9
    assert before.samples[0].oom_kills == 0 and before.events == []
    sample = after.samples[0]
    assert (sample.oom_kills, sample.restarts, sample.phase, sample.ready) == (1, 0, "Running", True)
    assert sample.memory_limit_bytes == 48 * MiB
    assert 40 * MiB <= sample.memory_peak_bytes <= 48 * MiB
    assert sample.memory_bytes < 40 * MiB and sample.memory_anon_bytes < sample.memory_bytes
    assert [(e.type, e.data) for e in after.events] == [("oom_kill", {
        "component": "api", "pod": "api", "container": "api", "count": 1, "source": "cgroup"})]
    assert read_cgroup(cgroup).failcnt > 0


BURN = """
    import sys, time
    sys.stdin.readline()
    start = time.process_time()
    while time.process_time() - start < 0.1:
        pass
    print(time.process_time() - start, flush=True)
    sys.stdin.readline()
"""


@needs_cgroups
@pytest.mark.parametrize("backend", ["processes", "host"])
def test_cpu_quota_shows_as_throttling_and_cgroup_cpu(children, make_cgroup, backend):
    cgroup = make_cgroup(cpu_limit_m=100)
    burner = start(children, BURN, preexec_fn=lambda: move_into(cgroup, os.getpid()))
    clock = StepClock(0.0, 10.0)
    sampler = (ProcessCollector({"api": burner.pid}, cgroups={"api": cgroup}, clock=clock) if backend == "processes"
               else HostCollector({"api": {"pid": burner.pid}}, clock=clock))
    sampler.collect()
    burner.send()
    burned_s = float(burner.line())
    sample = sampler.collect().samples[0]

    assert sample.cpu_limit_m == 100.0
    assert sample.throttled_periods >= 1 and sample.periods >= sample.throttled_periods
    assert sample.throttled_s > 0
    assert sample.cpu_m * 10.0 / 1000 >= burned_s
    assert sample.source == backend and sample.memory_limit_bytes is None


def test_a_missing_cgroup_fails_the_preflight(tmp_path: Path):
    missing = Cgroup(2, tmp_path / "x", tmp_path / "x", None)
    sampler = ProcessCollector({"api": os.getpid()}, cgroups={"api": missing})
    with pytest.raises(UsageError) as caught:
        sampler.check_connection()
    assert caught.value.problem == f"the cgroup of component api does not exist: {tmp_path / 'x'}"


def test_v2_files_are_read_like_v1(tmp_path: Path):
    files = {
        "memory.current": "134217728\n", "memory.peak": "140000000\n", "memory.max": "134217728\n",
        "memory.stat": "anon 120000000\nfile 10000000\nkernel 400000\n",
        "memory.events": "low 0\nhigh 0\nmax 57\noom 3\noom_kill 3\noom_group_kill 0\n",
        "cpu.stat": "usage_usec 75000000\nuser_usec 70000000\nsystem_usec 5000000\nnr_periods 1507\n"
                    "nr_throttled 1468\nthrottled_usec 125700000\n",
        "cpu.max": "50000 100000\n",
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    reading = read_cgroup(Cgroup(2, tmp_path, tmp_path, tmp_path))
    assert (reading.memory_bytes, reading.anon_bytes, reading.peak_bytes, reading.limit_bytes) == (
        134217728, 120000000, 140000000, 134217728)
    assert (reading.oom_kills, reading.failcnt) == (3, 57)
    assert (reading.cpu_usage_s, reading.cpu_limit_m) == (75.0, 500.0)
    assert (reading.periods, reading.throttled_periods, reading.throttled_s) == (1507, 1468, 125.7)
    (tmp_path / "memory.max").write_text("max\n")
    (tmp_path / "cpu.max").write_text("max 100000\n")
    unlimited = read_cgroup(Cgroup(2, tmp_path, tmp_path, tmp_path))
    assert unlimited.limit_bytes is None and unlimited.cpu_limit_m is None


def test_the_current_process_cgroup_is_found():
    cgroup = Cgroup.of_pid(os.getpid())
    assert cgroup.exists()
    assert read_cgroup(cgroup).memory_bytes is not None
