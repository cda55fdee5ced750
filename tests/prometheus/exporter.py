"""A small exporter that publishes a real process as one Kubernetes container, for Prometheus to scrape.

The figures are the process tree's own (psutil, read at every scrape): CPU seconds as
cAdvisor's ``container_cpu_usage_seconds_total``, resident memory as the working set; the
labels and the kube-state-metrics families (requests and limits with ``resource``/``unit``,
restarts, readiness, phase, ``kube_pod_labels``, ``kube_pod_info``) have the shapes of the
real exporters (see `shapes`). Pod-level and pause series are published too, as the kubelet
does, so the collector's filtering is exercised. It serves on 127.0.0.1 and a free port in a
thread of the test process, through prometheus-client's own HTTP server.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from types import TracebackType
from typing import Self

import psutil
from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import Metric
from prometheus_client.registry import Collector

from tests.prometheus.shapes import KSM, KUBELET


class ProcessAsContainer(Collector):
    """One container (``component`` in ``namespace``) whose usage is process ``pid``'s tree."""

    def __init__(self, pid: int, *, namespace: str, component: str, requests: dict[str, float],
                 limits: dict[str, float], omit: Iterable[str] = ()):
        self.pid = pid
        self.namespace = namespace
        self.component = component
        self.pod = f"{component}-6d5f8c7b9-x2k9z"
        self.requests, self.limits = requests, limits
        self.omit = set(omit)

    def _usage(self) -> tuple[float, int]:
        root = psutil.Process(self.pid)
        cpu, rss = 0.0, 0
        for process in [root, *root.children(recursive=True)]:
            try:
                times = process.cpu_times()
                cpu += times.user + times.system
                rss += process.memory_info().rss
            except psutil.NoSuchProcess:
                continue
        return cpu, rss

    def collect(self) -> Iterator[Metric]:
        cpu, rss = self._usage()
        kubelet = {**KUBELET, "instance": "node-1", "node": "node-1"}
        base = {"namespace": self.namespace, "pod": self.pod}
        cgroup = f"/kubepods/burstable/pod1234/{self.component}"
        own = {**base, "container": self.component, "id": cgroup, "name": self.component, **kubelet}
        pod_level = {**base, "container": "", "id": "/kubepods/burstable/pod1234", **kubelet}
        pause = {**base, "container": "POD", "id": "/kubepods/burstable/pod1234/pause", **kubelet}

        def family(kind: str, name: str, rows: list[tuple[dict[str, str], float]]) -> Metric | None:
            """One family; its series may carry different label sets, as the kubelet's do."""
            if name in self.omit or not rows:
                return None
            metric = Metric(name.removesuffix("_total") if kind == "counter" else name, name.replace("_", " "), kind)
            for values, value in rows:
                metric.add_sample(name, values, value)
            return metric

        ksm = {**base, "uid": "1234", **KSM}
        one = {**ksm, "container": self.component}
        resources = [({**one, "node": "node-1", "resource": resource, "unit": unit}, value)
                     for resource, unit in (("cpu", "core"), ("memory", "byte"))
                     for value in [self.requests.get(resource)] if value is not None]
        limits = [({**one, "node": "node-1", "resource": resource, "unit": unit}, value)
                  for resource, unit in (("cpu", "core"), ("memory", "byte"))
                  for value in [self.limits.get(resource)] if value is not None]
        families = [
            family("counter", "container_cpu_usage_seconds_total",
                   [(own, cpu), (pod_level, cpu), (pause, 0.01)]),
            family("gauge", "container_memory_working_set_bytes",
                   [(own, rss), (pod_level, rss + 1), (pause, 4096)]),
            family("gauge", "container_memory_rss", [(own, rss)]),
            family("counter", "container_oom_events_total", [(own, 0), (pod_level, 0)]),
            family("gauge", "kube_pod_container_resource_requests", resources),
            family("gauge", "kube_pod_container_resource_limits", limits),
            family("counter", "kube_pod_container_status_restarts_total", [(one, 0)]),
            family("gauge", "kube_pod_container_status_ready", [(one, 1)]),
            family("gauge", "kube_pod_container_status_running", [(one, 1)]),
            family("gauge", "kube_pod_status_phase",
                   [({**ksm, "phase": phase}, 1 if phase == "Running" else 0)
                    for phase in ("Pending", "Running", "Succeeded", "Failed", "Unknown")]),
            family("gauge", "kube_pod_labels",
                   [({**ksm, "label_app_kubernetes_io_component": self.component,
                      "label_app_kubernetes_io_name": "funkwhale"}, 1)]),
            family("gauge", "kube_pod_info",
                   [({**ksm, "node": "node-1", "created_by_kind": "ReplicaSet",
                      "created_by_name": f"{self.component}-6d5f8c7b9"}, 1)]),
        ]
        yield from (metric for metric in families if metric is not None)


class Exporter:
    """``with Exporter(collector) as exporter:`` serves ``exporter.target`` (host:port) until the block ends."""

    def __init__(self, collector: Collector):
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(collector)
        self._server = None
        self.target = ""

    def __enter__(self) -> Self:
        self._server, _ = start_http_server(0, addr="127.0.0.1", registry=self.registry)
        self.target = f"127.0.0.1:{self._server.server_port}"
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
