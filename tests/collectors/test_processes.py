"""The local-processes backend against real process trees spawned here."""

from __future__ import annotations

import os
import signal

import psutil
import pytest

from fwload.collectors.processes import ProcessCollector
from fwload.errors import UsageError
from tests.collectors.spawn import StepClock, start

MiB = 1024 * 1024


WORKERS = """
    import os, sys, time
    workers = set()
    def spawn():
        pid = os.fork()
        if pid == 0:
            while True:
                time.sleep(1)
        workers.add(pid)
        return pid
    spawn(); spawn()
    print("workers", *sorted(workers), flush=True)
    while True:
        pid, _ = os.wait()
        workers.discard(pid)
        print("respawned", pid, spawn(), flush=True)
"""


def test_worker_killed_and_replaced_under_a_surviving_parent_is_one_respawn(children):
    parent = start(children, WORKERS)
    workers = [int(p) for p in parent.line().split()[1:]]
    sampler = ProcessCollector({"api": parent.pid})
    baseline = sampler.collect()
    os.kill(workers[0], signal.SIGKILL)
    _, dead, new = parent.line().split()
    after = sampler.collect()
    quiet = sampler.collect()

    assert int(dead) == workers[0]
    assert baseline.samples[0].respawns == 0 and baseline.events == []
    sample = after.samples[0]
    assert (sample.component, sample.pod, sample.container) == ("api", "api", "api")
    assert (sample.respawns, sample.restarts, sample.phase, sample.ready) == (1, 0, "Running", True)
    assert [(e.type, e.data) for e in after.events] == [("respawn", {
        "component": "api", "count": 1,
        "detail": f"worker pid {dead} replaced by {new} under pid {parent.pid}"})]
    assert quiet.events == [] and quiet.samples[0].respawns == 1


SLOW_RESPAWN = """
    import os, sys, time
    def spawn():
        pid = os.fork()
        if pid == 0:
            while True:
                time.sleep(1)
        return pid
    print(spawn(), flush=True)
    os.wait()
    print("dead", flush=True)
    sys.stdin.readline()
    print(spawn(), flush=True)
    while True:
        time.sleep(1)
"""


def test_a_worker_replaced_an_interval_after_it_died_is_still_one_respawn(children):
    parent = start(children, SLOW_RESPAWN)
    worker = int(parent.line())
    sampler = ProcessCollector({"celery-worker": parent.pid})
    sampler.collect()
    os.kill(worker, signal.SIGKILL)
    parent.line()
    between = sampler.collect()
    parent.send()
    replacement = int(parent.line())
    after = sampler.collect()

    assert between.events == [] and between.samples[0].respawns == 0
    assert [(e.type, e.data["detail"]) for e in after.events] == [
        ("respawn", f"worker pid {worker} replaced by {replacement} under pid {parent.pid}")]
    assert after.samples[0].respawns == 1


def test_child_churn_of_postgres_is_not_a_respawn(children):
    parent = start(children, WORKERS)
    workers = [int(p) for p in parent.line().split()[1:]]
    sampler = ProcessCollector({"postgres": parent.pid})
    sampler.collect()
    os.kill(workers[0], signal.SIGKILL)
    parent.line()
    result = sampler.collect()
    assert result.events == [] and result.samples[0].respawns == 0


BURN_IN_CHILD = """
    import os, sys, time
    sys.stdin.readline()
    pid = os.fork()
    if pid == 0:
        end = time.process_time() + 0.3
        while time.process_time() < end:
            pass
        os._exit(0)
    _, _, usage = os.wait4(pid, 0)
    print(usage.ru_utime + usage.ru_stime, flush=True)
    sys.stdin.readline()
"""


def test_cpu_includes_a_child_that_exited_between_samples(children):
    parent = start(children, BURN_IN_CHILD)
    sampler = ProcessCollector({"standin": parent.pid}, clock=StepClock(100.0, 110.0))
    first = sampler.collect()
    parent.send()
    child_cpu_s = float(parent.line())
    second = sampler.collect()

    assert first.samples[0].cpu_m is None
    measured_s = second.samples[0].cpu_m * 10.0 / 1000
    tick = os.sysconf("SC_CLK_TCK") ** -1  # /proc counts CPU time in clock ticks; wait4 in microseconds
    assert child_cpu_s >= 0.3
    assert child_cpu_s - 3 * tick <= measured_s < child_cpu_s + 0.2


SHARED_MEMORY = """
    import os, sys, time
    block = bytearray(b"x") * (64 << 20)
    for _ in range(3):
        if os.fork() == 0:
            while True:
                time.sleep(1)
    print("ready", flush=True)
    while True:
        time.sleep(1)
"""


def test_memory_of_forked_workers_is_pss_not_the_rss_sum(children):
    parent = start(children, SHARED_MEMORY)
    parent.line()
    sample = ProcessCollector({"celery-worker": parent.pid}).collect().samples[0]
    tree = [psutil.Process(parent.pid), *psutil.Process(parent.pid).children(recursive=True)]
    rss_sum = sum(p.memory_info().rss for p in tree)

    assert len(tree) == 4
    assert 64 * MiB < sample.memory_bytes < rss_sum / 2
    assert sample.oom_kills is None and sample.throttled_periods is None  # no cgroup: not known


SLEEPER = "import time\nwhile True:\n    time.sleep(1)\n"


def test_dead_root_is_phase_dead_and_reported_once(children):
    process = start(children, SLEEPER)
    sampler = ProcessCollector({"celery-beat": process.pid})
    alive = sampler.collect()
    process.proc.kill()
    process.proc.wait(10)
    dead = sampler.collect("load")
    still = sampler.collect("load")

    assert (alive.samples[0].phase, alive.samples[0].ready) == ("Running", True)
    gone = dead.samples[0]
    assert (gone.phase, gone.ready, gone.memory_bytes) == ("dead", False, None)
    assert [(e.type, e.data) for e in dead.events] == [("startup_failure", {
        "component": "celery-beat", "stage": "load",
        "detail": f"root process {process.pid} of celery-beat is gone"})]
    assert still.events == []
    assert [(h.component, h.alive, h.ready) for h in sampler.health()] == [("celery-beat", False, False)]


def test_a_new_root_pid_from_the_supervisor_is_a_restart(children):
    current = {"pid": start(children, SLEEPER).pid}
    sampler = ProcessCollector(lambda: {"api": current["pid"]})
    sampler.collect()
    children[0].proc.kill()
    children[0].proc.wait(10)
    current["pid"] = start(children, SLEEPER).pid
    result = sampler.collect()

    assert [(e.type, e.data) for e in result.events] == [("restart", {
        "component": "api", "pod": "api", "container": "api", "restarts": 1, "reason": "exited",
        "detail": f"new root process {current['pid']}"})]
    assert (result.samples[0].restarts, result.samples[0].phase) == (1, "Running")
    health = sampler.health()[0]
    assert (health.alive, health.detail) == (True, f"pid {current['pid']} running, 0 child processes")


def test_documented_limits_fill_the_same_columns_as_kubernetes(children):
    process = start(children, SLEEPER)
    limits = {"api": {"cpu_request_m": 10, "cpu_limit_m": 500, "memory_request_bytes": 32 * MiB,
                      "memory_limit_bytes": 128 * MiB}}
    sample = ProcessCollector({"api": process.pid}, limits=limits).collect().samples[0]
    assert (sample.cpu_request_m, sample.cpu_limit_m) == (10.0, 500.0)
    assert (sample.memory_request_bytes, sample.memory_limit_bytes) == (32 * MiB, 128 * MiB)
    with pytest.raises(UsageError) as caught:
        ProcessCollector({"api": process.pid}, limits={"api": {"memory_limit": 1}})
    assert caught.value.problem == "unknown limit key(s) memory_limit for component api"


def test_components_without_a_cgroup_get_one_preflight_notice(children):
    process = start(children, SLEEPER)
    sampler = ProcessCollector({"standin": process.pid})
    notices = sampler.check_connection()
    assert notices == ["no cgroup for standin: memory is the sum of PSS over each process tree, "
                       "OOM kills and CPU throttling are not known "
                       "(start components in their own cgroups to see them)"]
    assert sampler.collect().events == []  # the caller records the preflight notices


def test_bad_roots_are_a_usage_error():
    with pytest.raises(UsageError):
        ProcessCollector([1234])  # type: ignore[arg-type]
