"""metrics.k8s.io PodMetrics: usage per container, read once per interval for the namespace.

metrics-server keeps two points per container and serves the same bytes until its next
scrape (~15 s), so a reading is new only when the pod's ``timestamp`` changed; a pod
missing from the list has no sample (new, restarted, not running) — never zero usage.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import durationpy

from fwload.collectors.kubernetes.pods import byte_count, millicores

GROUP = "metrics.k8s.io"
DEFAULT_VERSION = "v1beta1"


@dataclass(slots=True, frozen=True)
class Usage:
    """One container's usage: CPU averaged over ``window_s``, memory = working set at ``timestamp``."""

    cpu_m: float | None
    memory_bytes: int | None
    timestamp: str
    window_s: float | None


def window_seconds(window: str | None) -> float | None:
    """Go durations such as ``15.212s`` or ``1m0s`` (``kubernetes.utils.parse_duration`` rejects decimals)."""
    if not window:
        return None
    try:
        return durationpy.from_str(window).total_seconds()
    except Exception:  # noqa: BLE001 - an odd window must not cost the sample
        return None


def usage_by_container(metrics_list: Mapping[str, Any]) -> dict[tuple[str, str], Usage]:
    """``{(pod, container): Usage}`` from a PodMetricsList body."""
    usage: dict[tuple[str, str], Usage] = {}
    for item in metrics_list.get("items") or []:
        pod = (item.get("metadata") or {}).get("name", "")
        timestamp = item.get("timestamp", "")
        window = window_seconds(item.get("window"))
        for container in item.get("containers") or []:
            numbers = container.get("usage") or {}
            usage[(pod, container.get("name", ""))] = Usage(
                cpu_m=millicores(numbers.get("cpu")),
                memory_bytes=byte_count(numbers.get("memory")),
                timestamp=timestamp,
                window_s=window,
            )
    return usage
