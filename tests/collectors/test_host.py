"""The host backend against real processes in cgroups this test makes: OOM kills under a surviving
parent, restarts, dead components, wrong specs and unreadable cgroup files (CPU throttling:
test_cgroups.py, for both backends)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from fwload.collectors import make_collector
from fwload.collectors.host import HostCollector
from fwload.common.cgroups import Cgroup, move_into
from fwload.errors import UsageError
from tests.collectors.spawn import needs_cgroups, start

MiB = 1024 * 1024
REPO = Path(__file__).resolve().parents[2]

MASTER_WITH_A_HUNGRY_WORKER = """
    import os, sys, time
    read_end, write_end = os.pipe()
    worker = os.fork()
    if worker == 0:
        os.read(read_end, 1)
        chunks = []
        while True:
            chunks.append(bytearray(b"x") * (1 << 20))
    print(worker, flush=True)
    sys.stdin.readline()
    os.write(write_end, b"x")
    _, status = os.waitpid(worker, 0)
    replacement = os.fork()
    if replacement == 0:
        while True:
            time.sleep(1)
    print(os.WTERMSIG(status) if os.WIFSIGNALED(status) else -1, replacement, flush=True)
    while True:
        time.sleep(1)
"""


@needs_cgroups
def test_a_worker_oom_killed_under_a_surviving_master_is_one_oom_kill_and_one_respawn(children, make_cgroup):
    cgroup = make_cgroup(memory_limit_bytes=48 * MiB)
    master = start(children, MASTER_WITH_A_HUNGRY_WORKER, preexec_fn=lambda: move_into(cgroup, os.getpid()))
    worker = int(master.line())
    sampler = make_collector("host", components={"api": {"cgroup": str(cgroup.memory)}})
    assert sampler.check_connection() == []
    before = sampler.collect()
    master.send()
    signal_number, replacement = map(int, master.line().split())
    after = sampler.collect()

    assert signal_number == 9, "the kernel's OOM killer ended the worker"
    assert before.events == [] and (before.samples[0].oom_kills, before.samples[0].respawns) == (0, 0)
    sample = after.samples[0]
    assert (sample.source, sample.component, sample.pod, sample.container) == ("host", "api", "api", "api")
    assert (sample.oom_kills, sample.respawns, sample.restarts) == (1, 1, 0)
    assert (sample.phase, sample.ready) == ("Running", True), "the master survived"
    assert sample.memory_limit_bytes == 48 * MiB, "the live limit is the cgroup's own"
    assert 40 * MiB <= sample.memory_peak_bytes <= 48 * MiB
    assert [(e.type, e.data) for e in after.events] == [
        ("oom_kill", {"component": "api", "pod": "api", "container": "api", "count": 1, "source": "cgroup"}),
        ("respawn", {"component": "api", "count": 1,
                     "detail": f"worker pid {worker} replaced by {replacement} under pid {master.pid}"}),
    ]
    (health,) = sampler.health()
    assert (health.alive, health.ready) == (True, True)
    assert health.detail == f"cgroup {cgroup.memory}: main process {master.pid}"
    assert sampler.describe()["cgroups"] == {"api": [str(d) for d in cgroup.directories()]}


SLEEPER = "import time\nwhile True:\n    time.sleep(1)\n"


def test_a_pidfile_naming_a_new_process_is_a_restart_and_a_process_gone_is_one_at_once(children, tmp_path):
    pidfile = tmp_path / "nginx.pid"
    first = start(children, SLEEPER)
    pidfile.write_text(f"{first.pid}\n")
    sampler = HostCollector({"nginx": {"pidfile": str(pidfile)}})
    assert sampler.check_connection() == [] and sampler.collect().events == []
    first.proc.kill()
    first.proc.wait(10)
    second = start(children, SLEEPER)
    pidfile.write_text(f"{second.pid}\n")
    replaced = sampler.collect()
    second.proc.kill()
    second.proc.wait(10)
    gone = sampler.collect("load")
    still_gone = sampler.collect("load")
    third = start(children, SLEEPER)
    pidfile.write_text(f"{third.pid}\n")
    back = sampler.collect("load")

    where = {"component": "nginx", "pod": "nginx", "container": "nginx"}
    assert [(e.type, e.data) for e in replaced.events] == [("restart", {
        **where, "restarts": 1, "reason": "exited", "detail": f"new root process {second.pid}"})]
    assert [(e.type, e.data) for e in gone.events] == [
        ("restart", {**where, "restarts": 2, "reason": "exited", "detail": f"root process {second.pid} is gone"}),
        ("startup_failure", {"component": "nginx", "stage": "load",
                             "detail": f"process {second.pid} (from {pidfile}) is not running"}),
    ]
    assert (gone.samples[0].phase, gone.samples[0].ready, gone.samples[0].restarts) == ("dead", False, 2)
    assert still_gone.events == [] and back.events == [], "the exit was counted once, when it happened"
    assert (back.samples[0].phase, back.samples[0].restarts) == ("Running", 2)


@needs_cgroups
def test_a_component_oom_killed_at_start_is_dead_with_its_oom_kills_named(make_cgroup):
    cgroup = make_cgroup(memory_limit_bytes=16 * MiB)
    hungry = subprocess.Popen([sys.executable, "-c", "chunks = []\nwhile True:\n    chunks.append(b'x' * (1 << 20))"],
                              preexec_fn=lambda: move_into(cgroup, os.getpid()))
    assert hungry.wait(30) == -9
    sampler = HostCollector({"celery-worker": {"cgroup": str(cgroup.memory)}})
    assert sampler.check_connection() == [], "the cgroup exists: the spec is right, the component is dead"
    (health,) = sampler.health()
    detail = f"cgroup {cgroup.memory} holds no process (1 OOM kill(s) counted in its cgroup)"
    assert (health.component, health.alive, health.ready, health.detail) == ("celery-worker", False, False, detail)
    result = sampler.collect()
    assert (result.samples[0].phase, result.samples[0].oom_kills) == ("dead", 1)
    assert [(e.type, e.data["detail"]) for e in result.events] == [("startup_failure", detail)]


def test_wrong_specs_are_one_error_naming_each_component_and_its_spec(children, tmp_path):
    gone = start(children, SLEEPER)
    gone.proc.kill()
    gone.proc.wait(10)
    garbage = tmp_path / "garbage.pid"
    garbage.write_text("not a pid\n")
    missing_cgroup = "/sys/fs/cgroup/fwload-no-such-cgroup"
    sampler = HostCollector({
        "api": {"pid": gone.pid},
        "redis": {"cgroup": missing_cgroup},
        "nginx": {"pidfile": str(tmp_path / "missing.pid")},
        "celery-beat": {"pidfile": str(garbage)},
    })
    with pytest.raises(UsageError) as caught:
        sampler.check_connection()
    problems = caught.value.problem.split("; ")
    assert problems[0] == f"component api {{pid: {gone.pid}}}: no such process (not running)"
    assert problems[1].startswith(f"component redis {{cgroup: {missing_cgroup}}}: no such cgroup (")
    assert problems[2] == (f"component nginx {{pidfile: {tmp_path / 'missing.pid'}}}: cannot read the pidfile: "
                           "No such file or directory")
    assert problems[3] == f"component celery-beat {{pidfile: {garbage}}}: the pidfile holds 'not a pid', not a process id"
    assert caught.value.status == 2 and "cat /proc/<pid>/cgroup" in caught.value.fix


def test_a_spec_with_two_keys_or_none_is_refused_when_the_collector_is_built():
    with pytest.raises(UsageError) as caught:
        HostCollector({"api": {"pid": 1, "systemd": "funkwhale-server.service"}})
    assert caught.value.problem.startswith("host component api: ")
    with pytest.raises(UsageError):
        HostCollector({})


UNPRIVILEGED = """
    import json, os, sys
    from fwload.collectors.host import HostCollector
    import psutil, fwload.collectors.tracking  # imported while still root
    os.setgid(65534)
    os.setuid(65534)
    sampler = HostCollector({"api": {"cgroup": sys.argv[1]}})
    print(json.dumps(sampler.check_connection()), flush=True)
    for _ in range(2):
        sys.stdin.readline()
        result = sampler.collect()
        sample = result.samples[0]
        print(json.dumps({"events": [[e.type, e.data.get("detail", "")] for e in result.events],
                          "memory": sample.memory_bytes, "anon": sample.memory_anon_bytes,
                          "oom_kills": sample.oom_kills, "phase": sample.phase}), flush=True)
"""


@needs_cgroups
@pytest.mark.skipif(os.geteuid() != 0, reason="dropping to another user needs root")
def test_an_unreadable_cgroup_file_is_said_once_and_sampling_goes_on(children, make_cgroup):
    cgroup = make_cgroup()
    start(children, SLEEPER, preexec_fn=lambda: move_into(cgroup, os.getpid()))
    assert cgroup.memory is not None
    stat_file = cgroup.memory / ("memory.stat")
    events_file = cgroup.memory / ("memory.oom_control" if cgroup.version == 1 else "memory.events")
    stat_file.chmod(0o600)
    child = subprocess.Popen([sys.executable, "-c", textwrap.dedent(UNPRIVILEGED), str(cgroup.memory)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=REPO,
                             env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        notices = json.loads(child.stdout.readline())
        child.stdin.write("go\n")
        child.stdin.flush()
        first = json.loads(child.stdout.readline())
        events_file.chmod(0o600)
        child.stdin.write("go\n")
        child.stdin.flush()
        second = json.loads(child.stdout.readline())
    finally:
        child.kill()
        child.wait(10)

    assert len(notices) == 1
    assert notices[0].startswith(f"cannot read {stat_file} (Permission denied) for api {{cgroup: {cgroup.memory}}}")
    assert first["events"] == [], "said once, before the load"
    assert first["phase"] == "Running" and first["memory"] > 0 and first["anon"] is None
    assert first["oom_kills"] == 0
    assert [kind for kind, _ in second["events"]] == ["collector_notice"]
    assert second["events"][0][1].startswith(f"cannot read {events_file} (Permission denied)")
    assert second["oom_kills"] is None and second["memory"] > 0


def test_cgroup_paths_are_taken_as_directories_or_as_proc_paths(tmp_path):
    v1 = tmp_path / "v1"
    for controller in ("memory", "cpu", "cpuacct"):
        (v1 / controller / "system.slice" / "redis-server.service").mkdir(parents=True)
    expected = Cgroup.at("system.slice/redis-server.service", v1)
    assert Cgroup.from_path(str(v1 / "memory/system.slice/redis-server.service"), v1) == expected
    assert Cgroup.from_path(str(v1 / "cpu,cpuacct/system.slice/redis-server.service"), v1) == expected
    assert Cgroup.from_path("/system.slice/redis-server.service", v1) == expected
    v2 = tmp_path / "v2"
    (v2 / "system.slice").mkdir(parents=True)
    (v2 / "cgroup.controllers").write_text("cpu memory\n")
    unified = Cgroup.from_path(str(v2 / "system.slice/redis-server.service"), v2)
    assert unified == Cgroup(2, *(v2 / "system.slice/redis-server.service",) * 3)
