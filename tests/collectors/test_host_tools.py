"""The host backend's systemd, Docker and Podman components, through fake ``systemctl``/``docker``/
``podman`` executables (tests.fakes.host_tools: the real tools' output) whose units and
containers are real processes in real cgroups this test made."""

from __future__ import annotations

import os

import pytest

from fwload.collectors.host import HostCollector
from fwload.common.cgroups import Cgroup, move_into
from fwload.errors import UsageError
from tests.collectors.spawn import needs_cgroups, start
from tests.fakes.host_tools import Container, Unit, install

SLEEPER = "import time\nwhile True:\n    time.sleep(1)\n"
MiB = 1024 * 1024


@pytest.fixture
def host(tmp_path, monkeypatch):
    return install(tmp_path / "bin", tmp_path / "host.json", monkeypatch)


def _relative(cgroup: Cgroup) -> str:
    return "/" + str(cgroup.memory).split("/memory/", 1)[-1] if cgroup.version == 1 else \
        "/" + str(cgroup.memory).removeprefix("/sys/fs/cgroup/")


@needs_cgroups
def test_a_unit_restarted_by_systemd_is_one_restart_and_its_cgroup_is_read(host, children, make_cgroup):
    cgroup = make_cgroup(memory_limit_bytes=64 * MiB, cpu_limit_m=500)
    first = start(children, SLEEPER, preexec_fn=lambda: move_into(cgroup, os.getpid()))
    host.units["funkwhale-server.service"] = Unit(main_pid=first.pid, control_group=_relative(cgroup))
    host.write()
    sampler = HostCollector({"api": {"systemd": "funkwhale-server.service"}})
    assert sampler.check_connection() == []
    baseline = sampler.collect()
    first.proc.kill()
    first.proc.wait(10)
    second = start(children, SLEEPER, preexec_fn=lambda: move_into(cgroup, os.getpid()))
    host.units["funkwhale-server.service"] = Unit(main_pid=second.pid, control_group=_relative(cgroup), restarts=1)
    host.write()
    restarted = sampler.collect()
    quiet = sampler.collect()

    sample = baseline.samples[0]
    assert (sample.source, sample.phase, sample.restarts) == ("host", "Running", 0)
    assert (sample.memory_limit_bytes, sample.cpu_limit_m) == (64 * MiB, 500.0)
    assert sample.memory_bytes > 0 and sample.oom_kills == 0
    assert [(e.type, e.data["restarts"], e.data["detail"]) for e in restarted.events] == [
        ("restart", 1, f"new root process {second.pid}")], "NRestarts 0 -> 1 and a new MainPID: one restart"
    assert quiet.events == [] and quiet.samples[0].restarts == 1
    shows = [call for call in host.read_calls() if call[:2] == ["systemctl", "show"]]
    assert len(shows) == 4, "one systemctl show per pre-flight and per sample, not one per component"


@needs_cgroups
def test_restarts_systemd_counted_between_two_samples_are_all_counted(host, children, make_cgroup):
    cgroup = make_cgroup()
    first = start(children, SLEEPER, preexec_fn=lambda: move_into(cgroup, os.getpid()))
    host.units["funkwhale-worker.service"] = Unit(main_pid=first.pid, control_group=_relative(cgroup), restarts=4)
    host.write()
    sampler = HostCollector({"celery-worker": {"systemd": "funkwhale-worker.service"}})
    sampler.collect()
    first.proc.kill()
    first.proc.wait(10)
    third = start(children, SLEEPER, preexec_fn=lambda: move_into(cgroup, os.getpid()))
    host.units["funkwhale-worker.service"] = Unit(main_pid=third.pid, control_group=_relative(cgroup), restarts=6)
    host.write()
    result = sampler.collect()

    assert [e.data["detail"] for e in result.events] == [f"new root process {third.pid}", "restart count 4 -> 6"]
    assert result.samples[0].restarts == 2


def test_a_unit_the_oom_killer_ended_is_dead_with_systemds_reason(host):
    host.units["funkwhale-beat.service"] = Unit(main_pid=0, active_state="failed", sub_state="failed",
                                                result="oom-kill")
    host.write()
    sampler = HostCollector({"celery-beat": {"systemd": "funkwhale-beat.service"}})
    assert sampler.check_connection() == []
    (health,) = sampler.health()
    assert (health.alive, health.ready) == (False, False)
    assert health.detail == ("systemd unit funkwhale-beat.service: failed (failed), Result=oom-kill: "
                             "the kernel OOM-killed it")
    result = sampler.collect()
    assert result.samples[0].phase == "dead" and [e.type for e in result.events] == ["startup_failure"]


def test_a_oneshot_unit_that_runs_no_process_says_which_unit_to_name(host):
    host.units["postgresql.service"] = Unit(main_pid=0, active_state="active", sub_state="exited")
    host.write()
    (health,) = HostCollector({"postgres": {"systemd": "postgresql.service"}}).health()
    assert not health.alive and "name the unit that runs the server, e.g. postgresql@15-main.service" in health.detail


def test_an_unknown_unit_or_no_systemd_is_one_error_naming_the_component(host):
    sampler = HostCollector({"api": {"systemd": "funkwhale-server.service"}, "nginx": {"systemd": "nginx.service"}})
    host.units["nginx.service"] = Unit(main_pid=os.getpid())
    host.write()
    with pytest.raises(UsageError) as unknown:
        sampler.check_connection()
    assert unknown.value.problem == ("component api {systemd: funkwhale-server.service}: no such unit "
                                     "(systemctl show: LoadState=not-found)")
    assert unknown.value.fix.startswith("check the unit's name")
    host.systemd_running = False
    host.write()
    with pytest.raises(UsageError) as offline:
        sampler.check_connection()
    assert offline.value.problem.startswith("component api {systemd: funkwhale-server.service}: systemctl show "
                                            "failed: System has not been booted with systemd as init system")
    assert "component nginx {systemd: nginx.service}" in offline.value.problem
    assert offline.value.fix.startswith("{systemd: …} needs systemd running on this machine")


@needs_cgroups
def test_a_container_restarted_by_docker_is_one_restart(host, children, make_cgroup):
    cgroup = make_cgroup(memory_limit_bytes=96 * MiB)
    first = start(children, SLEEPER, preexec_fn=lambda: move_into(cgroup, os.getpid()))
    host.containers["pg"] = Container(id="f00d" * 16, name="funkwhale-postgres-1", pid=first.pid)
    host.write()
    sampler = HostCollector({"postgres": {"docker": "funkwhale-postgres-1"}})
    assert sampler.check_connection() == []
    before = sampler.collect()
    first.proc.kill()
    first.proc.wait(10)
    second = start(children, SLEEPER, preexec_fn=lambda: move_into(cgroup, os.getpid()))
    host.containers["pg"] = Container(id="f00d" * 16, name="funkwhale-postgres-1", pid=second.pid, restarts=1)
    host.write()
    after = sampler.collect()

    assert before.samples[0].memory_limit_bytes == 96 * MiB and before.samples[0].phase == "Running"
    assert [(e.type, e.data["detail"]) for e in after.events] == [("restart", f"new root process {second.pid}")]
    assert after.samples[0].restarts == 1
    (health,) = sampler.health()
    assert health.detail == f"docker container funkwhale-postgres-1: running, main process {second.pid}"


def test_an_exited_container_is_dead_with_its_oom_kill(host):
    host.containers["w"] = Container(id="beef" * 16, name="funkwhale-celeryworker-1", status="exited",
                                     oom_killed=True, exit_code=137)
    host.write()
    (health,) = HostCollector({"celery-worker": {"docker": "beef" * 3}}).health()
    assert (health.alive, health.detail) == (False, "docker container beefbeefbeef: exited, exit code 137, "
                                                    "OOMKilled: the kernel OOM-killed it")


def test_no_such_container_or_no_engine_is_one_error_naming_the_component(host):
    host.containers["api"] = Container(id="cafe" * 16, name="api-1", pid=os.getpid(), engine="podman")
    host.write()
    sampler = HostCollector({"api": {"podman": "api-1"}, "redis": {"docker": "funkwhale-redis-1"}})
    with pytest.raises(UsageError) as missing:
        sampler.check_connection()
    assert missing.value.problem == ("component redis {docker: funkwhale-redis-1}: no such container "
                                     "(docker inspect found none)")
    host.engine_running = False
    host.write()
    with pytest.raises(UsageError) as down:
        sampler.check_connection()
    assert down.value.problem.startswith("component api {podman: api-1}: podman inspect failed: Cannot connect")
    assert down.value.fix.startswith("run fwload as the user whose containers these are")


def test_a_tool_that_fails_mid_run_is_a_gap_not_a_crash(host):
    host.units["nginx.service"] = Unit(main_pid=os.getpid())
    host.write()
    sampler = HostCollector({"nginx": {"systemd": "nginx.service"}, "self": {"pid": os.getpid()}})
    sampler.check_connection()
    host.systemd_running = False
    host.write()
    result = sampler.collect()
    assert [s.component for s in result.samples] == ["self"]
    assert [(e.type, e.data["detail"].split(":")[0]) for e in result.events] == [("gap", "nginx")]
