"""The Resources tab: the newest sample of each container, against its limit and its request.

A person watching a test wants the present state of each component (is memory creeping
to its limit? did something restart?), so each row is the latest `ResourceSample` the
collector delivered, with its age. Restarts and OOM kills are shown twice: the
collector's cumulative counters (as ``kubectl get pods`` shows them) and the incidents
seen since the test started or the stats were reset, counted from the collector's
events the way the analysis counts them (per source, the source that saw more). Below the
table, a chart per component shows its last minutes (`history`, drawn by
``static/resource-history.js``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from fwload.collectors.base import ResourceSample
from fwload.limits import ComponentLimits, limits_for
from fwload.recording.live import ComponentPoint
from fwload.webui import formatting as fmt

DOCUMENTED_MARK = "(doc.)"
NO_LIMITS = ComponentLimits(None, None, None, None)

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


def of_limit(used: float | None, live: float | None, documented: float | None) -> str:
    """The share of the live limit (or request); else of the documented one, marked "doc." as in the report."""
    if live:
        return fmt.percent(share(used, live))
    text = fmt.percent(share(used, documented))
    return text if text == fmt.UNKNOWN else f"{text} {DOCUMENTED_MARK}"


def resource_rows(samples: Sequence[ResourceSample], events: Iterable[dict[str, Any]], since: float,
                  now: float, documented: Mapping[str, ComponentLimits] | None = None) -> list[dict[str, str]]:
    """The tab's rows, one per container, formatted for display.

    A container without live limits (the local stand-in: nothing enforces one) is compared with
    its component's documented limits (`fwload.limits.limits_for`), as the report compares it.
    """
    incidents = incident_counts(events, since)
    rows = []
    for sample in samples:
        seen = incidents.get((sample.component, sample.pod)) or incidents.get((sample.component, "")) or {}
        doc = limits_for(sample.component, dict(documented or {})) or NO_LIMITS
        rows.append({
            "name": f"{sample.component}/{sample.pod}/{sample.container}",
            "component": sample.component,
            "container": sample.pod if sample.pod == sample.container else f"{sample.pod} / {sample.container}",
            "cpu": fmt.millicores(sample.cpu_m),
            "cpu_of_limit": of_limit(sample.cpu_m, sample.cpu_limit_m, doc.cpu_limit_m),
            "cpu_of_request": of_limit(sample.cpu_m, sample.cpu_request_m, doc.cpu_request_m),
            "memory": fmt.mebibytes(sample.memory_bytes),
            "memory_of_limit": of_limit(sample.memory_bytes, sample.memory_limit_bytes, doc.memory_limit_bytes),
            "memory_of_request": of_limit(sample.memory_bytes, sample.memory_request_bytes, doc.memory_request_bytes),
            "restarts": fmt.count(sample.restarts),
            "oom_kills": fmt.count(sample.oom_kills),
            "incidents": _incidents_text(seen),
            "state": _state(sample),
            "age": f"{max(now - sample.ts, 0):.0f} s ago",
        })
    return rows


def history(points: Mapping[str, Iterable[ComponentPoint]], latest: Sequence[ResourceSample], since: float,
            documented: Mapping[str, ComponentLimits] | None = None) -> list[dict[str, Any]]:
    """Per component, its CPU and memory at each collector tick since ``since``, and the limit to draw
    (the live one summed over its containers, else the documented one), for the tab's charts."""
    charts = []
    for component in sorted(points):
        series = [[p.ts, p.cpu_m, p.memory_bytes] for p in points[component] if p.ts >= since]
        if not series:
            continue
        containers = [sample for sample in latest if sample.component == component]
        cpu, memory, source = _live_limit(containers, "cpu_limit_m"), _live_limit(containers, "memory_limit_bytes"), "live"
        if cpu is None and memory is None:
            doc = limits_for(component, dict(documented or {})) or NO_LIMITS
            cpu, memory, source = doc.cpu_limit_m, doc.memory_limit_bytes, "documented"
        charts.append({"component": component, "points": series, "cpu_limit_m": cpu, "memory_limit_bytes": memory,
                       "limits": source if cpu is not None or memory is not None else ""})
    return charts


def _live_limit(containers: Sequence[ResourceSample], name: str) -> float | None:
    values = [getattr(sample, name) for sample in containers]
    return float(sum(values)) if values and all(value for value in values) else None


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
