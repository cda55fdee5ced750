"""Benchmark 5, collector: CPU time per sample of the Kubernetes backend with 200 pods, and its calls;
the host backend's rows (`bench.host_collector`: 200 components) and the Prometheus backend's
(`bench.prometheus`: 200 pods) beside them, in the same run, each compared with the Kubernetes one.

The collector samples the loopback fake API server (`tests.fakes.kube_api`, seeded with
``seed_scale``: 200 pods over 4 nodes) through the official client, as in a real run; its
CPU time is the sampling thread's own (the fake server runs in another thread). The
baseline fetches the same answers with a bare urllib3 pool and parses them (json / text):
the floor any collector pays. The fake's request counters prove one PodMetrics list and one
pod list per sample (one sample per interval is what `CollectorLoop` takes), never one per pod.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import urllib3

from bench import host_collector, prometheus
from bench.errors import BenchError
from bench.sizes import Sizes
from bench.table import Row

NAME = "collector"
NODES = 4


def _raw_sample(pool: urllib3.PoolManager, base: str, token: str, paths: list[str]) -> None:
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    for path in paths:
        body = pool.request("GET", base + path, headers=headers).data
        if path.endswith("cadvisor"):
            body.decode("utf-8", "replace")
        else:
            json.loads(body)


def run(sizes: Sizes) -> list[Row]:
    from fwload.collectors.kubernetes import KubernetesCollector
    from tests.fakes.kube_api import FakeCluster, FakeKubeAPI, metrics_pods_path, pods_path, seed_scale

    cluster = FakeCluster()
    seed_scale(cluster, pods=sizes.pods, nodes=NODES)
    with FakeKubeAPI(cluster) as api, tempfile.TemporaryDirectory(prefix="fwload-bench-kube-") as folder:
        collector = KubernetesCollector(kubeconfig=str(api.write_kubeconfig(Path(folder) / "kubeconfig")),
                                        cadvisor_metrics=True)
        collector.collect()  # connection set up, first-sample history
        cluster.reset_counts()
        spent, samples = 0.0, 0
        for _ in range(sizes.collector_samples):
            cluster.scrape()
            started = time.thread_time()
            result = collector.collect()
            spent += time.thread_time() - started
            samples += len(result.samples)
        counts = dict(cluster.requests)
        collector.close()
        nodes = [f"worker-{index}" for index in range(NODES)]
        paths = [pods_path(), metrics_pods_path(), *(f"/api/v1/nodes/{node}/proxy/metrics/cadvisor" for node in nodes)]
        pool = urllib3.PoolManager()
        _raw_sample(pool, api.url, cluster.token, paths)
        raw = 0.0
        for _ in range(sizes.collector_samples):
            started = time.thread_time()
            _raw_sample(pool, api.url, cluster.token, paths)
            raw += time.thread_time() - started
    n = sizes.collector_samples
    if samples != n * sizes.pods:
        raise BenchError(f"the collector returned {samples} samples, expected {n} x {sizes.pods}")
    per_pod = sum(count for path, count in counts.items() if path.startswith(metrics_pods_path() + "/"))
    metrics_calls = counts.get(metrics_pods_path(), 0) / n
    pod_calls = counts.get(pods_path(), 0) / n
    per_sample, raw_per_sample = spent / n * 1000, raw / n * 1000
    interval = 15.0
    prometheus_rows, prometheus_per_sample = prometheus.run(sizes)
    return [
        *host_collector.run(sizes, kube_ms_per_sample=per_sample),
        Row(NAME, f"CPU per sample of {sizes.pods} pods as a share of one core at a {interval:g} s interval",
            f"{per_sample:.1f} ms / {interval:g} s", "1 core", per_sample / 1000 / interval),
        Row(NAME, f"CPU ms per sample of {sizes.pods} pods vs bare fetch + parse of the same answers",
            f"{per_sample:.1f} ms", f"{raw_per_sample:.1f} ms", per_sample / raw_per_sample),
        Row(NAME, "PodMetrics list calls per sample (per-pod metrics calls: "
            f"{per_pod})", f"{metrics_calls:g}", "1", metrics_calls, "= 1, no per-pod call",
            metrics_calls == 1 and per_pod == 0),
        Row(NAME, f"pod list calls per sample (plus cAdvisor reads: {counts.get(paths[2], 0) / n:g} per node)",
            f"{pod_calls:g}", "1", pod_calls, "= 1", pod_calls == 1),
        *prometheus_rows,
        Row(NAME, f"Prometheus vs Kubernetes backend: CPU ms per sample of {sizes.pods} pods",
            f"{prometheus_per_sample:.1f} ms", f"{per_sample:.1f} ms", prometheus_per_sample / per_sample),
    ]
