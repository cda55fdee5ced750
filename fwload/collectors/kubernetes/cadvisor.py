"""The kubelet's cAdvisor counters, read through the API server's node proxy.

They show what metrics.k8s.io and pod status cannot: an OOM kill of a worker process
under a surviving main process (the container does not restart, so ``restartCount``
stays 0) and CFS throttling. ``GET /api/v1/nodes/<node>/proxy/metrics/cadvisor`` needs
``get`` on ``nodes/proxy`` (a ClusterRole). The body covers every container on the node,
so lines of other namespaces are dropped as text before the Prometheus parser sees them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from prometheus_client.parser import text_string_to_metric_families

from fwload.collectors.counters import Accumulated

__all__ = ["SERIES", "Accumulated", "ContainerCounters", "parse_cadvisor", "proxy_path"]

SERIES = {
    "container_oom_events_total": "oom_events",
    "container_cpu_cfs_periods_total": "periods",
    "container_cpu_cfs_throttled_periods_total": "throttled_periods",
    "container_cpu_cfs_throttled_seconds_total": "throttled_seconds",
    "container_memory_working_set_bytes": "working_set_bytes",
    "container_memory_rss": "rss_bytes",
    "container_memory_max_usage_bytes": "max_usage_bytes",
}
_NOT_CONTAINERS = ("", "POD")
_NOT_A_CONTAINER = re.compile(r'[{,]container="(?:POD)?"')


def proxy_path(node: str) -> str:
    return f"/api/v1/nodes/{node}/proxy/metrics/cadvisor"


@dataclass(slots=True)
class ContainerCounters:
    """One container instance's series. ``instance`` (the cgroup id) changes on restart."""

    instance: str
    values: dict[str, float] = field(default_factory=dict)


def _relevant_lines(text: str, namespace: str) -> str:
    """The wanted series of the namespace's containers, chosen as text: the parser costs
    ~50 µs a line and a node's body has thousands (pod-level and pause series included)."""
    marker = f'namespace="{namespace}"'
    kept = []
    for line in text.splitlines():
        if line.startswith("#"):
            parts = line.split(None, 3)
            if len(parts) >= 3 and parts[1] == "TYPE" and parts[2] in SERIES:
                kept.append(line)
        elif marker in line and line.split("{", 1)[0] in SERIES and not _NOT_A_CONTAINER.search(line):
            kept.append(line)
    return "\n".join(kept) + "\n"


def parse_cadvisor(text: str, namespace: str) -> dict[tuple[str, str], ContainerCounters]:
    """``{(pod, container): ContainerCounters}`` for the namespace's containers (pod-level,
    pause and root-cgroup series skipped)."""
    found: dict[tuple[str, str], ContainerCounters] = {}
    for family in text_string_to_metric_families(_relevant_lines(text, namespace)):
        for sample in family.samples:
            key = SERIES.get(sample.name)
            labels = sample.labels
            container = labels.get("container", "")
            if key is None or container in _NOT_CONTAINERS or labels.get("namespace") != namespace:
                continue
            entry = found.setdefault((labels.get("pod", ""), container),
                                     ContainerCounters(labels.get("id") or labels.get("name", "")))
            entry.values[key] = sample.value
    return found
