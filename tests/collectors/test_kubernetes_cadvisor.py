"""Kubelet cAdvisor counters through the node proxy: throttling, OOM kills that do not restart."""

from __future__ import annotations

from pathlib import Path

import pytest

from fwload.collectors.kubernetes import KubernetesCollector
from fwload.collectors.kubernetes.cadvisor import Accumulated, parse_cadvisor, proxy_path
from fwload.collectors.kubernetes.ooms import OomKills
from tests.fakes.kube_api import FakeCluster, Resources, cadvisor_text, seed_funkwhale

MiB = 1024 * 1024


def api_sample(result):
    return next(s for s in result.samples if s.component == "api")


def test_parser_keeps_the_namespace_containers_and_skips_pod_pause_and_root_series(cluster: FakeCluster):
    seed_funkwhale(cluster)
    cluster.add_deployment("coredns", {"coredns": Resources()}, component="dns", namespace="kube-system")
    api = cluster.pods_of("funkwhale-api")[0]
    cluster.set_cadvisor(api.name, "api", oom_events=2, cfs_periods=1507, cfs_throttled_periods=1468,
                         cfs_throttled_seconds=125.7, working_set_bytes=127 * MiB, rss_bytes=126 * MiB,
                         max_usage_bytes=128 * MiB)

    found = parse_cadvisor(cadvisor_text(list(cluster.pods.values())), "funkwhale")

    containers = sorted(c for _, c in found)
    assert containers == ["api", "celery-beat", "celery-worker", "nginx", "postgres", "redis"]
    counters = found[(api.name, "api")]
    assert counters.values == {
        "oom_events": 2, "periods": 1507, "throttled_periods": 1468, "throttled_seconds": 125.7,
        "working_set_bytes": 127 * MiB, "rss_bytes": 126 * MiB, "max_usage_bytes": 128 * MiB,
    }
    assert counters.instance.endswith(api.containers[0].container_id.split("//")[1])


API_POD = "funkwhale-api-7d9c6b5f4-x2x8q"
API_IMAGE = 'image="docker.io/funkwhale/api:1.4.0"'
KUBELET_EXCERPT = (
    "# HELP container_oom_events_total Count of out of memory events observed for the container\n"
    "# TYPE container_oom_events_total counter\n"
    'container_oom_events_total{container="",'
    'id="/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1.slice",'
    f'image="",name="",namespace="funkwhale",pod="{API_POD}"}} 64 1732097000000\n'
    'container_oom_events_total{container="api",id="/kubepods.slice/x/cri-containerd-9b2f.scope",'
    f'{API_IMAGE},name="9b2f",namespace="funkwhale",pod="{API_POD}"}} 64 1732097000000\n'
    'container_oom_events_total{container="api",id="/kubepods.slice/y/cri-containerd-1111.scope",'
    f'{API_IMAGE},name="1111",namespace="other",pod="funkwhale-api-7d9c6b5f4-zzzzz"}} 5 1732097000000\n'
    "# TYPE container_cpu_cfs_throttled_seconds_total counter\n"
    'container_cpu_cfs_throttled_seconds_total{container="api",'
    'id="/kubepods.slice/x/cri-containerd-9b2f.scope",'
    f'{API_IMAGE},name="9b2f",namespace="funkwhale",pod="{API_POD}"}} 1.257e+02\n'
)


def test_parser_reads_a_real_kubelet_excerpt():
    found = parse_cadvisor(KUBELET_EXCERPT, "funkwhale")
    assert list(found) == [(API_POD, "api")]
    assert found[(API_POD, "api")].values == {"oom_events": 64, "throttled_seconds": 125.7}


def test_counters_stay_cumulative_across_a_container_restart():
    counter = Accumulated()
    readings = (("a", 5), ("a", 7), ("b", 2), ("b", 1))
    increases = [counter.update(instance, value) for instance, value in readings]
    assert increases == [5, 2, 2, 1]
    assert counter.total == 10


def test_worker_oom_kills_without_restart_and_throttling_reach_the_samples(cluster: FakeCluster,
                                                                           kubeconfig: Path):
    seed_funkwhale(cluster)
    api = cluster.pods_of("funkwhale-api")[0].name
    cluster.set_cadvisor(api, "api", oom_events=0, cfs_periods=100, cfs_throttled_periods=10,
                         cfs_throttled_seconds=1.5, rss_bytes=100 * MiB)
    sampler = KubernetesCollector(kubeconfig=str(kubeconfig))
    first = sampler.collect()
    cluster.set_cadvisor(api, "api", oom_events=3, cfs_periods=250, cfs_throttled_periods=150,
                         cfs_throttled_seconds=20.25, rss_bytes=126 * MiB, max_usage_bytes=128 * MiB)
    second = sampler.collect()

    s1, s2 = api_sample(first), api_sample(second)
    assert (s1.oom_kills, s1.periods, s1.throttled_periods, s1.throttled_s) == (0, 100, 10, 1.5)
    assert (s2.oom_kills, s2.periods, s2.throttled_periods, s2.throttled_s) == (3, 250, 150, 20.25)
    assert (s2.restarts, s2.memory_anon_bytes, s2.memory_peak_bytes) == (0, 126 * MiB, 128 * MiB)
    assert first.events == []
    assert [(e.type, e.data) for e in second.events] == [("oom_kill", {
        "component": "api", "pod": api, "container": "api", "count": 3, "source": "cadvisor"})]


def test_a_restart_resets_cadvisor_but_not_the_cumulative_columns(cluster: FakeCluster, kubeconfig: Path):
    seed_funkwhale(cluster)
    api = cluster.pods_of("funkwhale-api")[0].name
    cluster.set_cadvisor(api, "api", oom_events=2, cfs_periods=100, cfs_throttled_periods=40,
                         cfs_throttled_seconds=4.0)
    sampler = KubernetesCollector(kubeconfig=str(kubeconfig), clock=cluster.now)
    sampler.collect()
    cluster.scrape()
    cluster.restart(api, "api")  # OOMKilled: counters of the new container start at zero
    cluster.set_cadvisor(api, "api", cfs_periods=30, cfs_throttled_periods=3, cfs_throttled_seconds=0.5,
                         working_set_bytes=90 * MiB)
    result = sampler.collect()

    sample = api_sample(result)
    assert (sample.restarts, sample.oom_kills) == (1, 3)  # 2 worker kills (cAdvisor) + the container's own
    assert (sample.periods, sample.throttled_periods, sample.throttled_s) == (130, 43, 4.5)
    assert sample.cpu_m is None and sample.memory_bytes == 90 * MiB  # not in PodMetrics: cAdvisor's
    assert [(e.type, e.data.get("source")) for e in result.events] == [
        ("restart", None), ("oom_kill", "pod_status")]


def test_cadvisor_403_mid_run_gives_exactly_one_notice_and_stops_asking(cluster: FakeCluster,
                                                                         kubeconfig: Path):
    seed_funkwhale(cluster)
    cluster.add_deployment("other", {"x": Resources()}, component="x", node="worker-2")
    sampler = KubernetesCollector(kubeconfig=str(kubeconfig))
    cluster.forbid("nodes/proxy")
    results = [sampler.collect() for _ in range(3)]

    notices = [e for r in results for e in r.events if e.type == "collector_notice"]
    assert len(notices) == 1 and notices[0].data["source"] == "kubernetes"
    detail = notices[0].data["detail"]
    assert "RBAC denies get nodes/proxy to system:serviceaccount:funkwhale:fwload" in detail
    assert "OOM kills of worker processes under a surviving main process" in detail
    assert "CPU throttling" in detail
    assert '{apiGroups: [""], resources: ["nodes/proxy"], verbs: ["get"]}' in detail
    assert "kubectl create clusterrole fwload-cadvisor --verb=get --resource=nodes/proxy" in detail
    assert cluster.count(proxy_path("worker-1")) == 1 and cluster.count(proxy_path("worker-2")) == 0
    assert all(len(r.samples) == 7 for r in results)
    assert all(s.throttled_periods is None for r in results for s in r.samples)
    assert not [e for r in results for e in r.events if e.type == "gap"]


def test_cadvisor_403_in_preflight_is_one_notice_that_collect_does_not_repeat(cluster: FakeCluster,
                                                                             kubeconfig: Path):
    seed_funkwhale(cluster)
    cluster.forbid("nodes/proxy")
    sampler = KubernetesCollector(kubeconfig=str(kubeconfig))
    notices = sampler.check_connection()
    events = [e for _ in range(2) for e in sampler.collect().events]
    assert len(notices) == 1 and "RBAC denies get nodes/proxy" in notices[0]
    assert events == []
    assert cluster.count(proxy_path("worker-1")) == 1
    assert sampler.describe()["cadvisor"] is False


@pytest.mark.parametrize("status", [500, 503])
def test_cadvisor_failure_mid_run_is_a_gap_and_samples_still_come(cluster: FakeCluster, kubeconfig: Path,
                                                                   status: int):
    seed_funkwhale(cluster)
    sampler = KubernetesCollector(kubeconfig=str(kubeconfig))
    cluster.fail(proxy_path("worker-1"), status, times=1)
    broken = sampler.collect()
    healed = sampler.collect()
    assert [(e.type, e.data["detail"]) for e in broken.events] == [
        ("gap", f"cAdvisor metrics of node worker-1 failed: {status} injected failure {status}")]
    assert len(broken.samples) == 6 and broken.samples[0].throttled_periods is None
    assert healed.events == [] and healed.samples[0].throttled_periods == 0


def test_oom_kills_before_the_first_read_are_a_baseline_not_an_event(cluster: FakeCluster, kubeconfig: Path):
    seed_funkwhale(cluster)
    api = cluster.pods_of("funkwhale-api")[0].name
    cluster.set_cadvisor(api, "api", oom_events=5)
    sampler = KubernetesCollector(kubeconfig=str(kubeconfig))
    first = sampler.collect()
    cluster.set_cadvisor(api, "api", oom_events=7)
    second = sampler.collect()
    assert first.events == [] and api_sample(first).oom_kills == 5
    assert [(e.type, e.data["count"]) for e in second.events] == [("oom_kill", 2)]
    assert api_sample(second).oom_kills == 7


CGROUP = "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1f.slice/cri-containerd-{}.scope"
FINISHED = "2026-11-20T10:00:05Z"
FINISHED_TS = 1795168805.0


def test_a_kill_seen_by_pod_status_and_by_a_late_cadvisor_read_counts_once_in_either_order():
    status_first = OomKills()
    assert status_first.ended_by_oom("containerd://9b2f", FINISHED) == 1
    assert status_first.cadvisor_increase(CGROUP.format("9b2f"), 1, read_at=FINISHED_TS + 3) == 0
    cadvisor_first = OomKills()
    assert cadvisor_first.cadvisor_increase(CGROUP.format("9b2f"), 1, read_at=FINISHED_TS + 1) == 1
    assert cadvisor_first.ended_by_oom("containerd://9b2f", FINISHED) == 0
    assert status_first.total == cadvisor_first.total == 1


def test_worker_kills_read_before_the_container_ended_are_kills_of_their_own():
    ooms = OomKills()
    assert ooms.cadvisor_increase(CGROUP.format("9b2f"), 2, read_at=FINISHED_TS - 15) == 2
    assert ooms.ended_by_oom("containerd://9b2f", FINISHED) == 1
    assert ooms.cadvisor_increase(CGROUP.format("9b2f"), 0, read_at=FINISHED_TS + 15) == 0
    assert ooms.cadvisor_increase(CGROUP.format("77aa"), 1, read_at=FINISHED_TS + 30) == 1  # the new container
    assert ooms.total == 4


def test_a_late_read_with_the_ending_kill_and_another_worker_kill_keeps_the_worker_kill():
    ooms = OomKills()
    assert ooms.ended_by_oom("containerd://9b2f", FINISHED) == 1
    assert ooms.cadvisor_increase(CGROUP.format("9b2f"), 2, read_at=FINISHED_TS + 1) == 1
    assert ooms.cadvisor_increase(CGROUP.format("9b2f"), 1, read_at=FINISHED_TS + 2) == 1
    assert ooms.total == 3
