"""A scripted cluster written as the series cAdvisor and kube-state-metrics really export.

Metric names, label sets and units follow the kubelet's ``/metrics/cadvisor`` endpoint as
kube-prometheus-stack scrapes it (job ``kubelet``, ``metrics_path``, ``id`` = the container's
cgroup, plus the pod-level ``container=""`` and pause ``container="POD"`` series fwload must
ignore) and kube-state-metrics v2 (``resource``/``unit`` labels, ``kube_pod_labels`` with only
allow-listed labels, one-hot ``kube_pod_status_phase``). `openmetrics` renders samples of every
container every scrape interval, for ``promtool tsdb create-blocks-from openmetrics``
(timestamps in seconds, one family's samples together, ``# EOF`` last).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

KSM = {"job": "kube-state-metrics", "instance": "10.244.0.7:8080", "service": "kube-state-metrics"}
KUBELET = {"job": "kubelet", "metrics_path": "/metrics/cadvisor", "service": "kubelet", "endpoint": "https-metrics"}
MIB = 1024**2


@dataclass
class Box:
    """One container of one pod, with its usage and what happens to it."""

    namespace: str
    deployment: str
    container: str
    component: str = ""
    node: str = "node-1"
    cpu_cores: float = 0.1
    memory_bytes: int = 100 * MIB
    rss_bytes: int = 80 * MIB
    cpu_request_m: float | None = 100
    cpu_limit_m: float | None = None
    memory_request_bytes: int | None = 128 * MIB
    memory_limit_bytes: int | None = 256 * MIB
    worker_ooms: list[float] = field(default_factory=list)
    """Kills of a worker process: the container lives on (cAdvisor counts them, KSM does not)."""
    oom_restarts: list[float] = field(default_factory=list)
    """The container's main process was OOM-killed and the container restarted."""
    throttled_share: float = 0.0
    labelled: bool = True
    """False: kube_pod_labels without any pod label, kube-state-metrics' default since v2.0."""
    crash_looping: int = 0
    """Restarts so far of a container OOM-killed at every start (waiting in CrashLoopBackOff):
    kube-state-metrics only, cAdvisor has no running container to report."""

    @property
    def template_hash(self) -> str:
        return hashlib.sha1(self.deployment.encode()).hexdigest()[:9]

    @property
    def pod(self) -> str:
        return f"{self.deployment}-{self.template_hash}-{hashlib.sha1(self.container.encode()).hexdigest()[:5]}"

    @property
    def uid(self) -> str:
        return hashlib.md5(self.pod.encode()).hexdigest()

    def instance(self, ts: float) -> int:
        return sum(1 for restart in self.oom_restarts if restart <= ts)

    def cgroup(self, instance: int) -> str:
        cid = hashlib.sha256(f"{self.pod}/{self.container}/{instance}".encode()).hexdigest()
        return f"/kubepods/burstable/pod{self.uid}/{cid}"


def _labels(values: dict[str, object]) -> str:
    return "{" + ",".join(f'{key}="{value}"' for key, value in values.items()) + "}"


def _times(start: float, end: float, every: float) -> list[float]:
    count = int((end - start) // every)
    return [round(start + index * every, 3) for index in range(count + 1)]


def _scrapes(box: Box, times: list[float]) -> Iterable[tuple[float, int, bool, float]]:
    """(ts, instance, ending, started_at): ``ending`` on an instance's last scrape before its restart."""
    for index, ts in enumerate(times):
        instance = box.instance(ts)
        nxt = times[index + 1] if index + 1 < len(times) else None
        ending = nxt is not None and box.instance(nxt) > instance
        started = times[0] if instance == 0 else box.oom_restarts[instance - 1]
        yield ts, instance, ending, started


def openmetrics(boxes: list[Box], start: float, end: float, every: float | Callable[[float], float], *,
                omit: Iterable[str] = (), duplicate_kubelet: bool = False) -> str:
    """OpenMetrics text for ``boxes`` from ``start`` to ``end``, one scrape every ``every`` seconds
    (or ``every(ts)``: the gap after ts); ``omit`` drops metric families; ``duplicate_kubelet``
    scrapes cAdvisor twice (two jobs), as clusters with two scrape configs do."""
    if callable(every):
        times, ts = [], start
        while ts <= end:
            times.append(round(ts, 3))
            ts += every(ts)
    else:
        times = _times(start, end, every)
    families: dict[str, list[str]] = {}

    def emit(name: str, labels: dict[str, object], value: float, ts: float) -> None:
        if name not in omit:
            families.setdefault(name, []).append(f"{name}{_labels(labels)} {float(value)!r} {ts:.3f}")

    for box in boxes:
        base = {"namespace": box.namespace, "pod": box.pod}
        jobs = [{**KUBELET, "instance": box.node, "node": box.node}]
        if duplicate_kubelet:
            jobs.append({**KUBELET, "job": "kubernetes-nodes-cadvisor", "instance": box.node, "node": box.node})
        for ts, instance, ending, started in _scrapes(box, times):
            alive = ts - started
            kills = sum(1 for kill in box.worker_ooms if started <= kill <= ts)
            if ending:
                kills += 1  # the kill that ends this instance, read before its cgroup is removed
            memory = box.memory_bytes
            periods = int(alive * 10)
            for job in jobs if not box.crash_looping else []:
                own = {**base, "container": box.container, "id": box.cgroup(instance),
                       "name": box.cgroup(instance).rsplit("/", 1)[1], "image": f"docker.io/{box.container}:1", **job}
                pod_level = {**base, "container": "", "id": f"/kubepods/burstable/pod{box.uid}", **job}
                pause = {**base, "container": "POD", "id": f"/kubepods/burstable/pod{box.uid}/pause", **job}
                emit("container_cpu_usage_seconds_total", {**own, "cpu": "total"}, box.cpu_cores * alive, ts)
                emit("container_cpu_usage_seconds_total", {**pod_level, "cpu": "total"}, 9 * box.cpu_cores * alive, ts)
                emit("container_cpu_usage_seconds_total", {**pause, "cpu": "total"}, 0.001 * alive, ts)
                emit("container_memory_working_set_bytes", own, memory, ts)
                emit("container_memory_working_set_bytes", pod_level, 9 * memory, ts)
                emit("container_memory_working_set_bytes", pause, 512 * 1024, ts)
                emit("container_memory_rss", own, box.rss_bytes, ts)
                emit("container_oom_events_total", own, kills, ts)
                emit("container_oom_events_total", pod_level, 99, ts)
                if box.cpu_limit_m is not None:
                    emit("container_cpu_cfs_periods_total", own, periods, ts)
                    emit("container_cpu_cfs_throttled_periods_total", own, int(periods * box.throttled_share), ts)
                    emit("container_cpu_cfs_throttled_seconds_total", own, periods * box.throttled_share * 0.05, ts)
            ksm = {**base, "uid": box.uid, **KSM}
            one = {**ksm, "container": box.container}
            for resource, unit, request, limit in (
                    ("cpu", "core", box.cpu_request_m, box.cpu_limit_m),
                    ("memory", "byte", box.memory_request_bytes, box.memory_limit_bytes)):
                scale = 1000.0 if resource == "cpu" else 1.0
                if request is not None:
                    emit("kube_pod_container_resource_requests",
                         {**one, "node": box.node, "resource": resource, "unit": unit}, request / scale, ts)
                if limit is not None:
                    emit("kube_pod_container_resource_limits",
                         {**one, "node": box.node, "resource": resource, "unit": unit}, limit / scale, ts)
            emit("kube_pod_container_status_restarts_total", one, box.crash_looping or instance, ts)
            if instance or box.crash_looping:
                emit("kube_pod_container_status_last_terminated_reason", {**one, "reason": "OOMKilled"}, 1, ts)
            if box.crash_looping:
                emit("kube_pod_container_status_waiting_reason", {**one, "reason": "CrashLoopBackOff"}, 1, ts)
            emit("kube_pod_container_status_ready", one, 0 if box.crash_looping else 1, ts)
            emit("kube_pod_container_status_running", one, 0 if box.crash_looping else 1, ts)
            for phase in ("Pending", "Running", "Succeeded", "Failed", "Unknown"):
                emit("kube_pod_status_phase", {**ksm, "phase": phase}, 1 if phase == "Running" else 0, ts)
            pod_labels = {"label_app_kubernetes_io_component": box.component or box.deployment,
                          "label_app_kubernetes_io_name": "funkwhale",
                          "label_pod_template_hash": box.template_hash} if box.labelled else {}
            emit("kube_pod_labels", {**ksm, **pod_labels}, 1, ts)
            emit("kube_pod_info", {**ksm, "node": box.node, "host_ip": "10.0.0.1", "pod_ip": "10.244.0.9",
                                   "created_by_kind": "ReplicaSet",
                                   "created_by_name": f"{box.deployment}-{box.template_hash}",
                                   "priority_class": "", "host_network": "false"}, 1, ts)
    lines = []
    for samples in families.values():
        lines.extend(_grouped(samples))
    return "\n".join([*lines, "# EOF"]) + "\n"


def _grouped(samples: list[str]) -> list[str]:
    """A family's samples series by series, each in time order (as OpenMetrics wants them)."""
    series: dict[str, list[str]] = {}
    for line in samples:
        series.setdefault(line.rsplit(" ", 2)[0], []).append(line)
    return [line for lines in series.values() for line in lines]
