"""``fwload host detect``: systemd units (fake systemctl), compose containers (fake docker), the cgroup
tree when systemd cannot be asked, and real processes listening on a port."""

from __future__ import annotations

import hashlib
import socket
import subprocess
import sys
import textwrap

import pytest
import yaml
from typer.testing import CliRunner

import fwload.cli.host  # noqa: F401 - registers `fwload host`
from fwload.cli.app import app
from fwload.collectors.host.containers import PROJECT_LABEL, SERVICE_LABEL
from fwload.collectors.host.detect import as_yaml, detect
from fwload.scenario.collector import CollectorSettings
from tests.fakes.host_tools import Container, Unit, install


@pytest.fixture
def host(tmp_path, monkeypatch):
    return install(tmp_path / "bin", tmp_path / "host.json", monkeypatch)


def _compose(project: str, service: str) -> dict[str, str]:
    return {PROJECT_LABEL: project, SERVICE_LABEL: service}


def test_the_debian_units_are_proposed_as_systemd_components_and_parse_as_a_scenario_section(host):
    for unit in ("funkwhale-server.service", "funkwhale-worker.service", "funkwhale-beat.service",
                 "nginx.service", "postgresql.service", "postgresql@15-main.service", "redis-server.service"):
        host.units[unit] = Unit(main_pid=1)
    host.units["postgresql.service"] = Unit(active_state="active", sub_state="exited")
    host.units["funkwhale-beat.service"] = Unit(active_state="failed", sub_state="failed", result="oom-kill")
    host.write()
    result = CliRunner().invoke(app, ["host", "detect"])

    assert result.exit_code == 0, result.output
    section = yaml.safe_load(result.stdout)["collector"]
    assert section == {"backend": "host", "components": {
        "nginx": {"systemd": "nginx.service"},
        "api": {"systemd": "funkwhale-server.service"},
        "postgres": {"systemd": "postgresql@15-main.service"},
        "redis": {"systemd": "redis-server.service"},
        "celery-worker": {"systemd": "funkwhale-worker.service"},
        "celery-beat": {"systemd": "funkwhale-beat.service"},
    }}, "postgresql@ runs the server (postgresql.service is a oneshot); a failed unit is still the one"
    CollectorSettings.model_validate(section)
    assert "#   celery-beat: systemd unit funkwhale-beat.service (failed)" in result.stdout
    assert "found all 6 components" in result.stderr


def test_a_compose_project_is_proposed_by_its_service_names_when_systemd_does_not_run(host, tmp_path):
    host.systemd_running = False
    for service in ("api", "celeryworker", "celerybeat", "front", "postgres", "redis", "typesense"):
        host.containers[service] = Container(id=hashlib.sha256(service.encode()).hexdigest(),
                                             name=f"funkwhale-{service}-1",
                                             labels=_compose("funkwhale", service))
    host.containers["other"] = Container(id="e" * 64, name="blog-redis-1", labels=_compose("blog", "redis"))
    host.write()
    found = detect(cgroup_root=tmp_path / "no-cgroups", ports={}, engines=["docker", "podman"])

    assert {name: f.spec for name, f in found.found.items()} == {
        "api": {"docker": "funkwhale-api-1"}, "celery-worker": {"docker": "funkwhale-celeryworker-1"},
        "celery-beat": {"docker": "funkwhale-celerybeat-1"}, "nginx": {"docker": "funkwhale-front-1"},
        "postgres": {"docker": "funkwhale-postgres-1"}, "redis": {"docker": "funkwhale-redis-1"}}
    assert found.notes[0].startswith("systemd: systemctl list-units failed: System has not been booted")
    assert "docker: several compose projects run Funkwhale services; proposed 'funkwhale', not blog" in found.notes


def test_without_systemd_the_units_cgroups_are_proposed(host, tmp_path):
    host.systemd_running = False
    host.engine_running = False
    host.write()
    root = tmp_path / "cgroup"
    (root / "cgroup.controllers").parent.mkdir(parents=True)
    (root / "cgroup.controllers").write_text("cpu memory\n")
    for unit, procs in (("funkwhale-server.service", "12\n"), ("nginx.service", "")):
        (root / "system.slice" / unit).mkdir(parents=True)
        (root / "system.slice" / unit / "cgroup.procs").write_text(procs)
    found = detect(cgroup_root=root, ports={}, engines=["docker"])

    assert {name: f.spec for name, f in found.found.items()} == {
        "api": {"cgroup": str(root / "system.slice/funkwhale-server.service")},
        "nginx": {"cgroup": str(root / "system.slice/nginx.service")}}
    assert found.found["nginx"].how == "cgroup of unit nginx.service (empty)"
    assert found.missing == ["postgres", "redis", "celery-worker", "celery-beat"]
    assert any(note.startswith("docker: docker ps failed: Cannot connect to the Docker daemon") for note in found.notes)


LISTENER = """
    import os, socket, sys, time
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    worker = os.fork()
    if worker == 0:
        while True:
            time.sleep(1)
    print(server.getsockname()[1], worker, flush=True)
    while True:
        time.sleep(1)
"""


def test_a_process_listening_on_the_api_port_is_proposed_as_its_master_pid(host, tmp_path):
    host.systemd_running = False
    host.engine_running = False
    host.write()
    listener = subprocess.Popen([sys.executable, "-c", textwrap.dedent(LISTENER)],
                                stdout=subprocess.PIPE, text=True)
    try:
        port, worker = map(int, listener.stdout.readline().split())
        found = detect(cgroup_root=tmp_path, ports={port: "api"}, engines=[])
    finally:
        subprocess.run(["pkill", "-KILL", "-P", str(listener.pid)], check=False)
        listener.kill()
        listener.wait(10)

    assert worker != listener.pid, "the worker holds the socket too, and is not proposed"
    assert found.found["api"].spec == {"pid": listener.pid}
    text = as_yaml(found, socket.gethostname())
    assert yaml.safe_load(text)["collector"]["components"] == {"api": {"pid": listener.pid}}
    assert "# not found: nginx, postgres, redis, celery-worker, celery-beat; name each by hand" in text


def test_nothing_found_is_said_and_proposes_no_section(host, tmp_path):
    host.systemd_running = False
    host.engine_running = False
    host.write()
    found = detect(cgroup_root=tmp_path, ports={}, engines=["docker"])
    text = as_yaml(found, "box")
    assert "collector:" not in text and "# nothing to propose" in text
    assert yaml.safe_load(text) is None
