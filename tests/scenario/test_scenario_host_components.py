"""``collector.components`` for ``backend: host``: exactly one spec per component, readable errors."""

from __future__ import annotations

from fwload.scenario.host import HostComponent
from fwload.scenario.loader import load_scenario, scenario_from_text

HOST = """collector:
  backend: host
  components:
    api: {systemd: funkwhale-server.service}
    postgres: {docker: funkwhale-postgres-1}
    redis: {cgroup: /sys/fs/cgroup/system.slice/redis-server.service}
    nginx: {pidfile: /run/nginx.pid}
    celery-beat: {pid: 4321}
"""


def test_each_kind_of_component_is_accepted_and_handed_to_the_collector_as_one_key(write, minimal):
    scenario = load_scenario(write(minimal + HOST))
    assert scenario.collector.host_components() == {
        "api": {"systemd": "funkwhale-server.service"}, "postgres": {"docker": "funkwhale-postgres-1"},
        "redis": {"cgroup": "/sys/fs/cgroup/system.slice/redis-server.service"},
        "nginx": {"pidfile": "/run/nginx.pid"}, "celery-beat": {"pid": 4321}}


def test_the_resolved_scenario_keeps_only_the_given_key_and_reads_back_the_same(write, minimal):
    scenario = load_scenario(write(minimal + HOST))
    resolved = scenario.dump_resolved()
    assert "api:\n      systemd: funkwhale-server.service\n    postgres:" in resolved
    assert scenario_from_text(resolved).collector == scenario.collector


def test_two_keys_or_a_misspelt_one_are_named_with_the_allowed_ones(problem_of, minimal):
    problem = problem_of(minimal + "collector:\n  backend: host\n  components:\n"
                         "    api: {systemd: a.service, pid: 3}\n    nginx: {sytemd: nginx.service}\n")
    assert "x.yaml: collector.components.api: give exactly one of systemd, docker, podman, cgroup, pid, pidfile " \
           "(got systemd, pid)" in problem
    assert "x.yaml: collector.components.nginx.sytemd: unknown key (did you mean 'systemd'?); " \
           "allowed: systemd, docker, podman, cgroup, pid, pidfile" in problem


def test_backend_host_without_components_and_components_without_host_are_refused(problem_of, minimal):
    assert "x.yaml: collector.components: backend host needs components" in problem_of(
        minimal + "collector: {backend: host}\n")
    assert "x.yaml: collector.components: only backend host reads components, not backend kubernetes: " \
           "set backend: host" in problem_of(minimal + "collector: {backend: kubernetes, components: {api: {pid: 1}}}\n")


def test_bad_values_are_named(problem_of, minimal):
    problem = problem_of(minimal + "collector: {backend: host, components: {'a b': {pid: 1}}}\n")
    assert "x.yaml: collector.components: component name 'a b': use letters, digits" in problem
    problem = problem_of(minimal + "collector: {backend: host, components: {api: {pid: 0}, nginx: {docker: ''}}}\n")
    assert "x.yaml: collector.components.api.pid: should be greater than 0 (got 0)" in problem
    assert "x.yaml: collector.components.nginx.docker: should match pattern" in problem


def test_every_spec_key_is_described():
    assert all(field.description for field in HostComponent.model_fields.values())
