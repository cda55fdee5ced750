"""Failures during a run become ``gap`` events (never exceptions); `health` for the readiness gate."""

from __future__ import annotations

from pathlib import Path

from fwload.collectors.kubernetes import KubernetesCollector
from tests.fakes.kube_api import FakeCluster, FakeKubeAPI, metrics_pods_path, pods_path, seed_funkwhale


def gaps(result) -> list[str]:
    return [e.data["detail"] for e in result.events if e.type == "gap" and e.data["source"] == "kubernetes"]


def test_api_server_gone_mid_run_is_a_gap(cluster: FakeCluster, fake_api: FakeKubeAPI, kubeconfig: Path):
    seed_funkwhale(cluster)
    sampler = KubernetesCollector(kubeconfig=str(kubeconfig))
    before = sampler.collect()
    fake_api.stop()
    during = sampler.collect()
    assert len(before.samples) == 6
    assert during.samples == []
    assert gaps(during) == ["pod list failed: connection refused"]


def test_metrics_server_down_mid_run_keeps_status_samples(cluster: FakeCluster, kubeconfig: Path):
    seed_funkwhale(cluster)
    sampler = KubernetesCollector(kubeconfig=str(kubeconfig), cadvisor_metrics=False)
    sampler.collect()
    cluster.metrics_api = "unavailable"
    api = cluster.pods_of("funkwhale-api")[0].name
    cluster.restart(api, "api")
    result = sampler.collect()
    assert gaps(result) == ["pod metrics list failed: 503 service unavailable"]
    assert len(result.samples) == 6 and all(s.cpu_m is None for s in result.samples)
    assert [e.type for e in result.events if e.type != "gap"] == ["restart", "oom_kill"]


def test_pod_list_error_and_rbac_change_mid_run_are_gaps(cluster: FakeCluster, kubeconfig: Path):
    seed_funkwhale(cluster)
    sampler = KubernetesCollector(kubeconfig=str(kubeconfig), cadvisor_metrics=False)
    cluster.fail(pods_path(), 500, times=1)
    failed = sampler.collect()
    cluster.forbid("pods", group="metrics.k8s.io")
    forbidden = sampler.collect()
    assert gaps(failed) == ["pod list failed: 500 injected failure 500"]
    assert gaps(forbidden) == [
        'pod metrics list failed: 403 pods.metrics.k8s.io is forbidden: '
        'User "system:serviceaccount:funkwhale:fwload" '
        'cannot list resource "pods" in API group "metrics.k8s.io" in the namespace "funkwhale"']
    assert cluster.count(metrics_pods_path()) == 1  # the failed pod list ends that interval's reads


def test_slow_api_server_is_a_timeout_gap(cluster: FakeCluster, kubeconfig: Path):
    seed_funkwhale(cluster)
    sampler = KubernetesCollector(kubeconfig=str(kubeconfig), cadvisor_metrics=False, request_timeout_s=0.3)
    cluster.delay(metrics_pods_path(), 2.0)
    result = sampler.collect()
    assert gaps(result) == ["pod metrics list failed: timed out"]
    assert len(result.samples) == 6


def test_health_reports_every_deployment_ready(cluster: FakeCluster, kubeconfig: Path):
    seed_funkwhale(cluster)
    health = KubernetesCollector(kubeconfig=str(kubeconfig)).health()
    assert [(h.component, h.alive, h.ready, h.detail) for h in health] == [
        (c, True, True, "1/1 pods ready")
        for c in ("api", "celery-beat", "celery-worker", "nginx", "postgres", "redis")]


def test_health_names_a_crash_looping_component(cluster: FakeCluster, kubeconfig: Path):
    seed_funkwhale(cluster)
    worker = cluster.pods_of("funkwhale-celery-worker")[0].name
    cluster.restart(worker, "celery-worker", waiting="CrashLoopBackOff")
    api = cluster.pods_of("funkwhale-api")[0].name
    cluster.set_ready(api, "api", False)
    health = {h.component: h for h in KubernetesCollector(kubeconfig=str(kubeconfig)).health()}
    assert (health["celery-worker"].alive, health["celery-worker"].ready) == (False, False)
    assert health["celery-worker"].detail == (
        f"0/1 pods ready: {worker}/celery-worker: CrashLoopBackOff, last terminated OOMKilled, 1 restarts")
    assert (health["api"].alive, health["api"].ready) == (True, False)
    assert health["api"].detail == f"0/1 pods ready: {api}/api: running, not ready, 0 restarts"
    assert health["redis"].ready is True


def test_health_when_deployments_cannot_be_read(cluster: FakeCluster, kubeconfig: Path):
    seed_funkwhale(cluster)
    cluster.forbid("deployments", group="apps")
    health = KubernetesCollector(kubeconfig=str(kubeconfig)).health()
    assert len(health) == 1
    assert (health[0].component, health[0].alive, health[0].ready) == ("kubernetes", False, False)
    assert health[0].detail.startswith("cannot read deployments/pods: 403 deployments.apps is forbidden")
