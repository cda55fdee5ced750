"""From the answers of one round of range queries to `ResourceSample`s and `CollectorEvent`s.

One sample per container per evaluation time, with the same columns and the same event
rules as the Kubernetes backend: counters kept cumulative across container restarts (a drop
is a reset), what a container shows at its first point is its history (in the columns, not
an event), a restart-count increase is a ``restart`` event, and an OOM kill is counted once
whether cAdvisor's ``container_oom_events_total`` saw it, kube-state-metrics' last terminated
reason did, or both (within one rate window of each other: the two exporters are scraped
apart). The state lives across calls, so a live run's successive small windows and one
after-the-fact window of the whole run give the same rows and events.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from fwload.collectors.base import Collection, CollectorEvent, ResourceSample
from fwload.collectors.components import COMPONENT_LABELS, component_of
from fwload.collectors.counters import Accumulated
from fwload.collectors.prometheus.api import Series
from fwload.collectors.prometheus.queries import KSM

SOURCE = "prometheus"
COUNTERS = ("oom_events", "periods", "throttled_periods", "throttled_seconds")
PRESENCE = ("cpu", "working_set", "rss", "restarts", "ready", "oom_events")
"""A container has a sample at a time when one of these has a point there."""
_KSM_LABEL = {"label_" + re.sub(r"[^A-Za-z0-9_]", "_", key): key for key in (*COMPONENT_LABELS, "pod-template-hash")}
_GENERATED = re.compile(r"^(?P<base>.+?)(?:-[a-z0-9]{6,10})?-[a-z0-9]{5}$")
_ORDINAL = re.compile(r"^(?P<base>.+)-\d+$")

Key = tuple[str, str]


@dataclass(slots=True)
class Pod:
    component: str
    node: str = ""
    labelled: bool = False


@dataclass(slots=True)
class _Container:
    restarts: int | None = None
    counters: dict[str, dict[str, Accumulated]] = field(default_factory=dict)
    """counter -> cAdvisor ``id`` (one container instance) -> its cumulative count."""
    status_kills: int = 0
    shared: int = 0
    unmatched: list[tuple[str, float]] = field(default_factory=list)
    """Kills seen by one source and not yet by the other: (source, ts)."""


def name_prefix(pod: str) -> str:
    """A pod name without what its controller generated: ``api-7d9c6b5f4-x2k9z`` -> ``api``,
    ``postgres-0`` -> ``postgres`` (used when neither labels nor owners are exported)."""
    for pattern in (_GENERATED, _ORDINAL):
        match = pattern.match(pod)
        if match:
            return match.group("base")
    return pod


class Assembler:
    """Keeps what was already reported for every container, so each event is emitted once."""

    def __init__(self, namespace: str, *, match_window_s: float):
        self.namespace = namespace
        self.match_window_s = match_window_s
        self.pods: dict[str, Pod] = {}
        self._containers: dict[Key, _Container] = {}
        self._label_notice_given = False

    # -- pods --------------------------------------------------------------------------------

    def learn_pods(self, labels: list[Series], info: list[Series]) -> list[str]:
        """Map pods to components from kube_pod_labels and kube_pod_info; returns a notice the
        first time pods are seen without any component label."""
        latest_labels = _latest_by_pod(labels)
        latest_info = _latest_by_pod(info)
        for pod in set(latest_labels) | set(latest_info):
            found = {_KSM_LABEL[k]: v for k, v in latest_labels.get(pod, {}).items() if k in _KSM_LABEL and v}
            owner = latest_info.get(pod, {})
            kind, name = owner.get("created_by_kind", ""), owner.get("created_by_name", "")
            fallback = name if name and kind not in ("", "<none>", "Node") else name_prefix(pod)
            component = component_of(found, name if kind == "ReplicaSet" else None, fallback)
            known = self.pods.get(pod)
            self.pods[pod] = Pod(component, owner.get("node") or (known.node if known else ""),
                                 labelled=any(k in found for k in COMPONENT_LABELS))
        if self._label_notice_given or not self.pods or any(p.labelled for p in self.pods.values()):
            return []
        self._label_notice_given = True
        how = ("the Deployments and StatefulSets owning them (kube_pod_info)" if latest_info
               else "the pod names without their generated suffixes")
        return [f"{KSM} exports no component label of the pods in namespace {self.namespace} (since v2.0 "
                "kube_pod_labels carries only the labels named in kube-state-metrics --metric-labels-allowlist): components are "
                f"named after {how}. To use app.kubernetes.io/component as the Kubernetes backend does, run "
                "kube-state-metrics with --metric-labels-allowlist=pods=[app.kubernetes.io/component,"
                "app.kubernetes.io/name]"]

    def component(self, pod: str) -> Pod:
        known = self.pods.get(pod)
        if known is None:
            known = self.pods[pod] = Pod(name_prefix(pod))
        return known

    # -- samples -----------------------------------------------------------------------------

    def feed(self, answers: dict[str, list[Series]], stage: Callable[[float], str] | str = "") -> Collection:
        """Samples and events of every container at every evaluation time in ``answers``
        (metric key -> series; a metric that failed or is absent is simply not there)."""
        result = Collection()
        for notice in self.learn_pods(answers.get("labels", []), answers.get("info", [])):
            result.events.append(CollectorEvent(_first_ts(answers), "collector_notice",
                                                {"source": SOURCE, "detail": notice}))
        values = {key: _by_container(answers.get(key, [])) for key in ("cpu", "working_set", "rss", "restarts", "ready")}
        instances = {key: _by_instance(answers.get(key, [])) for key in COUNTERS}
        resources = {key: _resources(answers.get(key, [])) for key in ("requests", "limits")}
        reasons = _by_container(answers.get("last_terminated", []), label="reason")
        phases = _by_pod(answers.get("phase", []), label="phase")
        at: dict[float, set[Key]] = defaultdict(set)
        for key in PRESENCE:
            for container, points in (values[key] if key in values else instances[key]).items():
                for ts in points:
                    at[ts].add(container)
        stage_of = stage if callable(stage) else (lambda _ts, fixed=stage: fixed)
        for ts in sorted(at):
            for pod, name in sorted(at[ts]):
                result.samples.append(self._sample(ts, pod, name, values, instances, resources, reasons,
                                                   phases, stage_of(ts), result.events))
        return result

    def _sample(self, ts: float, pod: str, name: str, values: dict[str, dict[Key, dict[float, float]]],
                instances: dict[str, dict[Key, dict[float, dict[str, float]]]],
                resources: dict[str, dict[Key, dict[float, dict[str, float]]]],
                reasons: dict[Key, dict[float, str]], phases: dict[str, dict[float, str]], stage: str,
                events: list[CollectorEvent]) -> ResourceSample:
        key = (pod, name)
        known = self.component(pod)
        state = self._containers.setdefault(key, _Container())

        def value(metric: str) -> float | None:
            return values[metric].get(key, {}).get(ts)

        where = {"component": known.component, "pod": pod, "container": name}
        first_counters = not state.counters
        for counter in COUNTERS:
            readings = instances[counter].get(key, {}).get(ts)
            if not readings:
                continue
            mine = state.counters.setdefault(counter, {})
            increase = sum(mine.setdefault(instance, Accumulated()).update(instance, reading)
                           for instance, reading in readings.items())
            if counter == "oom_events" and increase > 0 and not first_counters:
                kills = int(increase) - self._match(state, "cadvisor", ts)
                if kills > 0:
                    events.append(CollectorEvent(ts, "oom_kill", {**where, "count": kills, "source": "cadvisor"}))
        reason = reasons.get(key, {}).get(ts, "")
        restarts = value("restarts")
        if restarts is not None:
            count = int(restarts)
            first = state.restarts is None
            if not first and count > (state.restarts or 0):
                events.append(CollectorEvent(ts, "restart", {**where, "restarts": count, "reason": reason}))
                if reason == "OOMKilled":
                    state.status_kills += 1
                    if not self._match(state, "pod_status", ts):
                        events.append(CollectorEvent(ts, "oom_kill", {**where, "count": 1, "source": "pod_status"}))
            elif first and reason == "OOMKilled" and count > 0:
                state.status_kills += 1
            state.restarts = count
        own = resources["requests"].get(key, {}).get(ts, {})
        cap = resources["limits"].get(key, {}).get(ts, {})
        ready = value("ready")
        counted = state.counters
        cpu = value("cpu")
        memory, rss = value("working_set"), value("rss")
        totals = {counter: sum(one.total for one in counted[counter].values()) for counter in counted}
        oom_kills = None
        if "oom_events" in totals or state.restarts is not None:
            oom_kills = int(totals.get("oom_events", 0)) + state.status_kills - state.shared
        return ResourceSample(
            ts=ts, source=SOURCE, component=known.component, pod=pod, container=name, node=known.node,
            cpu_m=None if cpu is None else round(cpu * 1000, 3),
            memory_bytes=None if memory is None else int(memory),
            memory_anon_bytes=None if rss is None else int(rss),
            cpu_request_m=own.get("cpu"), cpu_limit_m=cap.get("cpu"),
            memory_request_bytes=_int(own.get("memory")), memory_limit_bytes=_int(cap.get("memory")),
            restarts=state.restarts,
            oom_kills=oom_kills,
            throttled_periods=int(totals["throttled_periods"]) if "throttled_periods" in totals else None,
            periods=int(totals["periods"]) if "periods" in totals else None,
            throttled_s=round(totals["throttled_seconds"], 6) if "throttled_seconds" in totals else None,
            phase=phases.get(pod, {}).get(ts, ""), ready=None if ready is None else ready > 0, stage=stage,
        )

    def _match(self, state: _Container, source: str, ts: float) -> int:
        """1 when the other source saw a kill of this container within the match window (the
        same kill, counted once from now on), else 0 and this one waits for its match."""
        state.unmatched = [(s, t) for s, t in state.unmatched if ts - t <= self.match_window_s]
        for index, (seen_by, _) in enumerate(state.unmatched):
            if seen_by != source:
                del state.unmatched[index]
                state.shared += 1
                return 1
        state.unmatched.append((source, ts))
        return 0


def usage_rows(assembler: Assembler, answers: dict[str, list[Series]]) -> list[tuple[object, ...]]:
    """History rows (`schema.RESOURCE_HISTORY_COLUMNS`): CPU and memory only."""
    assembler.learn_pods(answers.get("labels", []), answers.get("info", []))
    cpu, memory = _by_container(answers.get("cpu", [])), _by_container(answers.get("working_set", []))
    rows = []
    for key in sorted(set(cpu) | set(memory)):
        pod, name = key
        component = assembler.component(pod).component
        mine_cpu, mine_memory = cpu.get(key, {}), memory.get(key, {})
        for ts in sorted(set(mine_cpu) | set(mine_memory)):
            used, held = mine_cpu.get(ts), mine_memory.get(ts)
            rows.append((ts, SOURCE, component, pod, name, None if used is None else round(used * 1000, 3),
                         None if held is None else int(held)))
    rows.sort(key=lambda row: row[0])
    return rows


def _int(value: float | None) -> int | None:
    return None if value is None else int(value)


def _first_ts(answers: dict[str, list[Series]]) -> float:
    times = [series.points[0][0] for found in answers.values() for series in found if series.points]
    return min(times) if times else 0.0


def _finite(points: Iterable[tuple[float, float]]) -> dict[float, float]:
    return {ts: value for ts, value in points if not math.isnan(value)}


def _by_container(found: list[Series], label: str = "") -> dict[Key, dict[float, float]] | dict[Key, dict[float, str]]:
    """``{(pod, container): {ts: value}}`` (or ``{ts: labels[label]}`` for one-hot state series)."""
    table: dict[Key, dict[float, object]] = defaultdict(dict)
    for series in found:
        key = (series.labels.get("pod", ""), series.labels.get("container", ""))
        if not key[0] or not key[1]:
            continue
        points = _finite(series.points)
        if label:
            table[key].update({ts: series.labels.get(label, "") for ts in points})
        else:
            table[key].update(points)
    return table  # type: ignore[return-value]


def _by_instance(found: list[Series]) -> dict[Key, dict[float, dict[str, float]]]:
    """``{(pod, container): {ts: {id: value}}}`` for raw cAdvisor counters."""
    table: dict[Key, dict[float, dict[str, float]]] = defaultdict(lambda: defaultdict(dict))
    for series in found:
        key = (series.labels.get("pod", ""), series.labels.get("container", ""))
        if not key[0] or not key[1]:
            continue
        instance = series.labels.get("id", "")
        for ts, value in _finite(series.points).items():
            table[key][ts][instance] = value
    return table


def _by_pod(found: list[Series], label: str) -> dict[str, dict[float, str]]:
    table: dict[str, dict[float, str]] = defaultdict(dict)
    for series in found:
        pod = series.labels.get("pod", "")
        if pod:
            table[pod].update({ts: series.labels.get(label, "") for ts in _finite(series.points)})
    return table


def _resources(found: list[Series]) -> dict[Key, dict[float, dict[str, float]]]:
    """kube_pod_container_resource_requests/limits in fwload's units: millicores and bytes."""
    table: dict[Key, dict[float, dict[str, float]]] = defaultdict(lambda: defaultdict(dict))
    for series in found:
        labels = series.labels
        key = (labels.get("pod", ""), labels.get("container", ""))
        resource, unit = labels.get("resource", ""), labels.get("unit", "")
        if not key[0] or resource not in ("cpu", "memory"):
            continue
        factor = 1000.0 if resource == "cpu" and unit in ("core", "") else 1.0
        for ts, value in _finite(series.points).items():
            table[key][ts][resource] = round(value * factor, 3)
    return table


def _latest_by_pod(found: list[Series]) -> dict[str, dict[str, str]]:
    """Each pod's labels on its most recent point (a pod relabelled mid-window takes the last)."""
    latest: dict[str, tuple[float, dict[str, str]]] = {}
    for series in found:
        pod = series.labels.get("pod", "")
        if not pod or not series.points:
            continue
        ts = series.points[-1][0]
        if pod not in latest or ts >= latest[pod][0]:
            latest[pod] = (ts, series.labels)
    return {pod: labels for pod, (_, labels) in latest.items()}
