"""The Resources tab: the newest sample of each container, against its limit and its request.

A person watching a test wants the present state of each component (is memory creeping
to its limit? did something restart?), so each row is the latest `ResourceSample` the
collector delivered, with its age. Restarts and OOM kills are shown twice: the
collector's cumulative counters (as ``kubectl get pods`` shows them) and the incidents
seen since the test started or the stats were reset, counted from the collector's
events the way the analysis counts them (per source, the source that saw more).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from fwload.collectors.base import ResourceSample
from fwload.webui import formatting as fmt

COLUMNS = (
    ("component", "Component"),
    ("container", "Pod / container"),
    ("cpu", "CPU"),
    ("cpu_of_limit", "CPU % of limit"),
    ("cpu_of_request", "CPU % of request"),
    ("memory", "Memory"),
    ("memory_of_limit", "Memory % of limit"),
    ("memory_of_request", "Memory % of request"),
    ("restarts", "Restarts"),
    ("oom_kills", "OOM kills"),
    ("incidents", "Since start / reset"),
    ("state", "State"),
    ("age", "Sampled"),
)

_INCIDENTS = (("restart", "restart"), ("oom_kill", "OOM kill"), ("respawn", "respawn"))


def share(used: float | None, of: float | None) -> float | None:
    """``used / of``, or None when either is unknown or there is no limit/request set."""
    if used is None or not of:
        return None
    return used / of


def incident_counts(events: Iterable[dict[str, Any]], since: float) -> dict[tuple[str, str], dict[str, float]]:
    """Per (component, pod) and event type, the incidents seen at or after ``since``.

    OOM kills may be reported by two sources for one kill (pod status and cAdvisor): per
    container the larger of the sources' totals is kept, never their sum.
    """
    by_source: dict[tuple[str, str, str], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for event in events:
        kind = event.get("type")
        if kind not in dict(_INCIDENTS) or float(event.get("ts", 0)) < since:
            continue
        count = event.get("count")
        amount = float(count) if isinstance(count, int | float) and not isinstance(count, bool) and count > 0 else 1.0
        key = (str(event.get("component", "")), str(event.get("pod", "")), kind)
        by_source[key][str(event.get("source", ""))] += amount
    counts: dict[tuple[str, str], dict[str, float]] = defaultdict(dict)
    for (component, pod, kind), sources in by_source.items():
        counts[(component, pod)][kind] = max(sources.values())
    return counts


def resource_rows(samples: Sequence[ResourceSample], events: Iterable[dict[str, Any]], since: float,
                  now: float) -> list[dict[str, str]]:
    """The tab's rows, one per container, formatted for display."""
    incidents = incident_counts(events, since)
    rows = []
    for sample in samples:
        seen = incidents.get((sample.component, sample.pod)) or incidents.get((sample.component, "")) or {}
        rows.append({
            "name": f"{sample.component}/{sample.pod}/{sample.container}",
            "component": sample.component,
            "container": sample.pod if sample.pod == sample.container else f"{sample.pod} / {sample.container}",
            "cpu": fmt.millicores(sample.cpu_m),
            "cpu_of_limit": fmt.percent(share(sample.cpu_m, sample.cpu_limit_m)),
            "cpu_of_request": fmt.percent(share(sample.cpu_m, sample.cpu_request_m)),
            "memory": fmt.mebibytes(sample.memory_bytes),
            "memory_of_limit": fmt.percent(share(sample.memory_bytes, sample.memory_limit_bytes)),
            "memory_of_request": fmt.percent(share(sample.memory_bytes, sample.memory_request_bytes)),
            "restarts": fmt.count(sample.restarts),
            "oom_kills": fmt.count(sample.oom_kills),
            "incidents": _incidents_text(seen),
            "state": _state(sample),
            "age": f"{max(now - sample.ts, 0):.0f} s ago",
        })
    return rows


def notice_row(text: str) -> dict[str, str]:
    """A single row that explains an empty table (no collector, no sample yet)."""
    return {"name": "notice", "component": text, **{key: "" for key, _ in COLUMNS if key != "component"}}


def _incidents_text(seen: dict[str, float]) -> str:
    parts = [f"{seen[kind]:.0f} {label}{'s' if seen[kind] != 1 else ''}"
             for kind, label in _INCIDENTS if seen.get(kind)]
    return ", ".join(parts) if parts else "none"


def _state(sample: ResourceSample) -> str:
    ready = {True: "ready", False: "not ready"}.get(sample.ready, "")  # type: ignore[arg-type]
    return ", ".join(part for part in (sample.phase, ready) if part) or fmt.UNKNOWN
