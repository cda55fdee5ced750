"""The Kubernetes collector against the fake API, through the official client and a kubeconfig."""

from __future__ import annotations

from pathlib import Path

import pytest

from fwload.collectors.kubernetes import KubernetesCollector
from fwload.collectors.kubernetes.pods import component_of, deployment_of
from tests.fakes.kube_api import (
    DOCUMENTED_RESOURCES,
    FakeCluster,
    Resources,
    metrics_pods_path,
    pods_path,
    seed_funkwhale,
    seed_scale,
)

MiB = 1024 * 1024


def collector(kubeconfig: Path, **settings) -> KubernetesCollector:
    settings.setdefault("cadvisor_metrics", False)
    return KubernetesCollector(kubeconfig=str(kubeconfig), **settings)


def by_component(samples):
    return {s.component: s for s in samples}


def test_samples_carry_usage_limits_and_status_value_by_value(cluster: FakeCluster, kubeconfig: Path):
    seed_funkwhale(cluster)
    api = cluster.pods_of("funkwhale-api")[0]
    cluster.set_usage(api.name, "api", cpu="212345678n", memory="131072Ki", window="15.212s")
    redis = cluster.pods_of("funkwhale-redis")[0]
    cluster.set_usage(redis.name, "redis", cpu="0", memory="3412Ki")
    postgres = cluster.pods_of("funkwhale-postgres")[0]
    cluster.set_usage(postgres.name, "postgres", cpu="1234u", memory="123456789")
    sampler = collector(kubeconfig, namespace="funkwhale")
    sampler.collect(stage="before")
    worker = cluster.pods_of("funkwhale-celery-worker")[0]
    cluster.restart(worker.name, "celery-worker", reason="OOMKilled", waiting="CrashLoopBackOff")
    beat = cluster.pods_of("funkwhale-celery-beat")[0]
    cluster.restart(beat.name, "celery-beat", reason="Error", exit_code=1)
    cluster.scrape()
    cluster.set_usage(api.name, "api", cpu="212345678n", memory="131072Ki", window="15.212s")
    cluster.set_usage(redis.name, "redis", cpu="0", memory="3412Ki")
    cluster.set_usage(postgres.name, "postgres", cpu="1234u", memory="123456789")

    result = sampler.collect(stage="warmup")

    samples = by_component(result.samples)
    assert sorted(samples) == sorted(DOCUMENTED_RESOURCES)
    s = samples["api"]
    assert (s.source, s.pod, s.container) == ("kubernetes", api.name, "api")
    assert (s.node, s.stage) == ("worker-1", "warmup")
    assert s.cpu_m == pytest.approx(212.345678)
    assert s.memory_bytes == 128 * MiB
    assert (s.cpu_request_m, s.cpu_limit_m) == (10.0, 500.0)
    assert (s.memory_request_bytes, s.memory_limit_bytes) == (32 * MiB, 128 * MiB)
    assert (s.restarts, s.oom_kills, s.phase, s.ready) == (0, 0, "Running", True)
    assert s.throttled_periods is None and s.respawns is None
    assert samples["redis"].cpu_m == 0.0 and samples["redis"].memory_bytes == 3412 * 1024
    assert samples["postgres"].cpu_m == pytest.approx(1.234)
    assert samples["postgres"].memory_bytes == 123456789
    assert samples["postgres"].cpu_limit_m == 1000.0  # served as the canonical "1"
    w = samples["celery-worker"]
    assert (w.restarts, w.oom_kills, w.ready) == (1, 1, False)
    assert w.cpu_m is None and w.memory_bytes is None  # absent from PodMetrics after the kill: not zero
    b = samples["celery-beat"]
    assert (b.restarts, b.oom_kills, b.ready) == (1, 0, True)

    events = [(e.type, e.data) for e in result.events]
    assert events == [
        ("restart", {"component": "celery-beat", "pod": beat.name, "container": "celery-beat",
                     "restarts": 1, "reason": "Error"}),
        ("restart", {"component": "celery-worker", "pod": worker.name, "container": "celery-worker",
                     "restarts": 1, "reason": "OOMKilled"}),
        ("oom_kill", {"component": "celery-worker", "pod": worker.name, "container": "celery-worker",
                      "count": 1, "source": "pod_status"}),
    ]


def test_restarts_and_oom_kills_are_reported_once_each(cluster: FakeCluster, kubeconfig: Path):
    seed_funkwhale(cluster)
    worker = cluster.pods_of("funkwhale-celery-worker")[0].name
    sampler = collector(kubeconfig)
    sampler.collect()
    cluster.restart(worker, "celery-worker")
    first = sampler.collect()
    again = sampler.collect()
    cluster.restart(worker, "celery-worker")
    cluster.restart(worker, "celery-worker", reason="Error", exit_code=1)
    third = sampler.collect()

    assert [e.type for e in first.events] == ["restart", "oom_kill"]
    assert again.events == []
    assert [(e.type, e.data.get("restarts"), e.data.get("reason")) for e in third.events] == [
        ("restart", 3, "Error")]  # the second kill's record was overwritten before this read
    sample = by_component(third.samples)["celery-worker"]
    assert (sample.restarts, sample.oom_kills) == (3, 1)


def test_restarts_before_the_first_sample_are_history_in_the_columns_not_events(cluster: FakeCluster,
                                                                               kubeconfig: Path):
    seed_funkwhale(cluster)
    api = cluster.pods_of("funkwhale-api")[0].name
    for _ in range(3):
        cluster.restart(api, "api")
    sampler = collector(kubeconfig)
    first = sampler.collect()
    cluster.restart(api, "api", reason="Error", exit_code=1)
    second = sampler.collect()
    assert first.events == []
    assert [(s.restarts, s.oom_kills) for s in first.samples if s.component == "api"] == [(3, 1)]
    assert [(e.type, e.data["restarts"]) for e in second.events] == [("restart", 4)]


def test_one_metrics_list_and_one_pod_list_per_interval_for_200_pods(cluster: FakeCluster, kubeconfig: Path):
    seed_scale(cluster, pods=200, nodes=4)
    sampler = collector(kubeconfig, cadvisor_metrics=True)
    cluster.reset_counts()
    results = [sampler.collect() for _ in range(3)]

    assert [len(r.samples) for r in results] == [200, 200, 200]
    assert cluster.count(metrics_pods_path()) == 3
    assert cluster.count(pods_path()) == 3
    assert sum(cluster.requests.values()) == 3 + 3 + 3 * 4  # plus one cAdvisor read per node
    assert not [p for p in cluster.requests if p.startswith(metrics_pods_path() + "/")]
    assert results[0].samples[0].memory_bytes == 14520 * 1024


def test_unchanged_metrics_timestamp_is_not_a_new_sample(cluster: FakeCluster, kubeconfig: Path):
    seed_funkwhale(cluster)
    sampler = collector(kubeconfig)
    first = by_component(sampler.collect().samples)["api"]
    repeat = by_component(sampler.collect().samples)["api"]
    cluster.scrape()
    fresh = by_component(sampler.collect().samples)["api"]

    assert first.cpu_m == 2.0 and first.memory_bytes == 24 * MiB
    assert repeat.cpu_m is None and repeat.memory_bytes is None
    assert repeat.restarts == 0 and repeat.ready is True
    assert fresh.cpu_m == 2.0 and fresh.memory_bytes == 24 * MiB


def test_label_selector_is_sent_with_both_lists(cluster: FakeCluster, kubeconfig: Path):
    seed_funkwhale(cluster)
    result = collector(kubeconfig, label_selector="app.kubernetes.io/component in (api,nginx)").collect()
    assert sorted(s.component for s in result.samples) == ["api", "nginx"]
    for path in (pods_path(), metrics_pods_path()):
        assert cluster.queries[path]["labelSelector"] == ["app.kubernetes.io/component in (api,nginx)"]


def test_component_comes_from_labels_then_the_owning_deployment(cluster: FakeCluster, kubeconfig: Path):
    cluster.add_pod("by-name", {"c": Resources()}, labels={"app.kubernetes.io/name": "redis"},
                    usage={"cpu": "1m", "memory": "1Mi"})
    cluster.add_pod("by-app", {"c": Resources()}, labels={"app": "legacy"})
    cluster.add_deployment("funkwhale-celery-worker", {"worker": Resources()}, labels={"tier": "x"})
    cluster.add_pod("bare", {"c": Resources()}, labels={})

    components = {s.pod: s.component for s in collector(kubeconfig).collect().samples}

    deployed = cluster.pods_of("funkwhale-celery-worker")[0].name
    assert components == {"by-name": "redis", "by-app": "legacy", deployed: "funkwhale-celery-worker",
                          "bare": "bare"}


def test_deployment_name_is_the_replicaset_name_without_the_template_hash():
    assert deployment_of("funkwhale-api-7d9c6b5f4", "7d9c6b5f4") == "funkwhale-api"
    assert deployment_of("metrics-server-7d9c65958", None) == "metrics-server"
    assert component_of({"app.kubernetes.io/component": "api", "app": "x"}, "a-b-1", "p") == "api"


def test_namespace_comes_from_the_kubeconfig_context(cluster: FakeCluster, fake_api, tmp_path: Path):
    cluster.add_deployment("other-api", {"api": Resources()}, component="api", namespace="staging",
                           usage={"cpu": "5m", "memory": "10Mi"})
    config = fake_api.write_kubeconfig(tmp_path / "kc", namespace="staging")
    sampler = collector(config)
    result = sampler.collect()
    assert sampler.namespace == "staging"
    assert [s.component for s in result.samples] == ["api"]
    assert sampler.describe()["namespace"] == "staging"
    assert "test-token" not in repr(sampler.describe())
