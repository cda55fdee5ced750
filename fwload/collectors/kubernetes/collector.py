"""The Kubernetes backend: metrics.k8s.io usage + pod status/specs (+ kubelet cAdvisor counters).

Per interval it makes exactly one PodMetrics list call and one pod list call for the
namespace (never one per pod), plus one cAdvisor read per node running the namespace's
pods when RBAC allows ``nodes/proxy``. Restart-count increases and OOMKilled terminations
become ``restart``/``oom_kill`` events once each; cAdvisor's ``container_oom_events_total``
adds the OOM kills that never restart the container (a worker under a surviving master);
a kill both sources saw is counted once (`ooms.OomKills`).
Counters are kept cumulative across container restarts; what a container had before its
first sample is history (in the columns, as the run directory's baseline), not an event.
A failed read mid-run becomes a ``gap`` event; only `check_connection` raises.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import urllib3
from kubernetes import client

from fwload.collectors.base import Collection, Collector, CollectorEvent, ComponentHealth, ResourceSample
from fwload.collectors.kubernetes import cadvisor, metrics
from fwload.collectors.kubernetes.connection import Connection, connect
from fwload.collectors.kubernetes.ooms import OomKills
from fwload.collectors.kubernetes.pods import ContainerView, PodView, component_of, pod_view
from fwload.collectors.kubernetes.problems import (
    denial,
    describe,
    forbidden_error,
    http_status,
    unauthorized_error,
    unreachable_error,
)
from fwload.errors import FwloadError, TargetError

log = logging.getLogger(__name__)

SOURCE = "kubernetes"
_CADVISOR_BLIND = (
    "OOM kills of worker processes under a surviving main process (e.g. a gunicorn or Celery worker "
    "killed while its container keeps running, so restartCount stays 0) "
    "and CPU throttling will not be recorded"
)


@dataclass
class _ContainerState:
    """What was already reported for one container, so each event is emitted once."""

    restarts: int | None = None
    terminations: set[tuple[str, str]] = field(default_factory=set)
    ooms: OomKills = field(default_factory=OomKills)
    metrics_timestamp: str = ""
    counters: dict[str, cadvisor.Accumulated] = field(default_factory=dict)


class KubernetesCollector(Collector):
    """Samples every container of the namespace's pods (optionally a label selector's)."""

    name = SOURCE
    default_interval_s = 15.0

    def __init__(
        self,
        namespace: str | None = None,
        *,
        kubeconfig: str | None = None,
        context: str | None = None,
        in_cluster: bool | None = None,
        label_selector: str | None = None,
        cadvisor_metrics: bool = True,
        interval_s: float | None = None,
        request_timeout_s: float = 10.0,
        connection: Connection | None = None,
        clock: Callable[[], float] = time.time,
    ):
        self.connection = connection or connect(kubeconfig=kubeconfig, context=context,
                                                in_cluster=in_cluster, namespace=namespace)
        self.namespace = namespace or self.connection.namespace
        self.label_selector = label_selector
        if interval_s is not None:
            self.default_interval_s = interval_s
        self._timeout = (min(3.05, request_timeout_s), request_timeout_s)
        self._clock = clock
        api = self.connection.api_client
        self._core = client.CoreV1Api(api)
        self._apps = client.AppsV1Api(api)
        self._custom = client.CustomObjectsApi(api)
        self._apis = client.ApisApi(api)
        self._metrics_version = metrics.DEFAULT_VERSION
        self._cadvisor = cadvisor_metrics
        self._state: dict[tuple[str, str], _ContainerState] = {}
        self._noticed: set[str] = set()

    # -- pre-flight ----------------------------------------------------------------------

    def check_connection(self) -> list[str]:
        """Reachable, authorised, metrics API serving, RBAC for every read; returns notices.

        The notices (what cannot be seen, e.g. no cAdvisor access) are for the caller to
        show and record as ``collector_notice`` events; `collect` does not repeat them (it
        emits only what it discovers itself, once).
        """
        ns = self.namespace
        try:
            groups = self._apis.get_api_versions(_request_timeout=self._timeout)
        except Exception as error:  # noqa: BLE001 - every way of failing gets a message
            raise self._preflight_error(error, "list the API groups") from None
        group = next((g for g in groups.groups or [] if g.name == metrics.GROUP), None)
        if group is None:
            raise _metrics_missing(self.connection.server, "the API group metrics.k8s.io is not served")
        if group.preferred_version and group.preferred_version.version:
            self._metrics_version = group.preferred_version.version
        try:
            self._list_pod_metrics()
        except Exception as error:  # noqa: BLE001
            status = http_status(error)
            if status == 404:
                raise _metrics_missing(self.connection.server,
                                       "the PodMetrics resource answers 404") from None
            if status == 503:
                raise FwloadError(
                    f"the metrics API (metrics.k8s.io) is registered but unavailable: {describe(error)}",
                    "metrics-server is down or not ready: kubectl -n kube-system get pods -l "
                    "k8s-app=metrics-server; kubectl get apiservice v1beta1.metrics.k8s.io shows why",
                ) from None
            if status == 403:
                raise forbidden_error(error, f"read pod metrics in namespace {ns}", verbs=("get", "list"),
                                      resource="pods", group=metrics.GROUP, namespace=ns) from None
            raise self._preflight_error(error, "list pod metrics") from None
        pods = self._preflight_list(self._list_pods, "list pods", "pods", "")
        self._preflight_list(self._list_deployments, "list deployments", "deployments", "apps")
        notices: list[str] = []
        views = [pod_view(p) for p in pods.get("items") or []]
        if not views:
            where = f" matching {self.label_selector!r}" if self.label_selector else ""
            notices.append(f"no pods found in namespace {ns}{where}: "
                           "nothing will be sampled until some start")
        nodes = sorted({v.node for v in views if v.node})
        if self._cadvisor and nodes:
            try:
                self._read_cadvisor(nodes[0])
            except Exception as error:  # noqa: BLE001
                notices.append(self._cadvisor_notice(error, nodes[0]))
                self._cadvisor = False
        self._noticed.update(notices)
        return notices

    def _preflight_list(self, call: Callable[[], dict[str, Any]], action: str, resource: str,
                        group: str) -> dict[str, Any]:
        try:
            return call()
        except Exception as error:  # noqa: BLE001
            if http_status(error) == 403:
                raise forbidden_error(error, f"{action} in namespace {self.namespace}", verbs=("get", "list"),
                                      resource=resource, group=group, namespace=self.namespace) from None
            raise self._preflight_error(error, action) from None

    def _preflight_error(self, error: BaseException, action: str) -> FwloadError:
        status = http_status(error)
        server, context = self.connection.server, self.connection.context
        if status == 0 or isinstance(error, (urllib3.exceptions.HTTPError, OSError)):
            return unreachable_error(error, server, context)
        if status is None:
            return TargetError(f"the Kubernetes API server at {server} gave an answer fwload cannot read "
                               f"when trying to {action}: {describe(error)}",
                               "check that the kubeconfig points at a Kubernetes API server "
                               "(kubectl cluster-info)")
        if status == 401:
            return unauthorized_error(server, context)
        if status == 403:
            found = denial(error)
            rule = found.fix(("get", "list")) if found else "grant the collector's user read access"
            return FwloadError(f"the API server refused to {action}: {describe(error)}", rule)
        return TargetError(f"the Kubernetes API server at {server} failed to {action}: {describe(error)}",
                           "retry; if it persists, check the API server's health (kubectl get --raw /readyz)")

    # -- sampling ------------------------------------------------------------------------

    def collect(self, stage: str = "") -> Collection:
        """One sample of every container; failures become ``gap`` events, never exceptions."""
        ts = self._clock()
        result = Collection()
        try:
            self._collect_into(result, ts, stage)
        except Exception as error:  # noqa: BLE001 - a run never crashes because of its collector
            log.warning("kubernetes collector failed: %s", describe(error))
            result.events.append(_gap(ts, f"collector error: {describe(error)}"))
        return result

    def _collect_into(self, result: Collection, ts: float, stage: str) -> None:
        try:
            pods = [pod_view(p) for p in self._list_pods().get("items") or []]
        except Exception as error:  # noqa: BLE001
            result.events.append(_gap(ts, f"pod list failed: {describe(error)}"))
            return
        try:
            usage = metrics.usage_by_container(self._list_pod_metrics())
        except Exception as error:  # noqa: BLE001
            usage = {}
            result.events.append(_gap(ts, f"pod metrics list failed: {describe(error)}"))
        counters = self._read_all_cadvisor(pods, ts, result)
        seen: dict[tuple[str, str], _ContainerState] = {}
        for pod in pods:
            for box in pod.containers:
                key = (pod.name, box.name)
                state = seen[key] = self._state.get(key) or _ContainerState()
                result.events.extend(self._status_events(ts, pod, box, state))
                sample = self._sample(ts, stage, pod, box, state, usage.get(key))
                if counters is not None:
                    self._apply_cadvisor(sample, state, counters.get(key), usage.get(key) is None, result)
                result.samples.append(sample)
        self._state = seen

    def _sample(self, ts: float, stage: str, pod: PodView, box: ContainerView, state: _ContainerState,
                usage: metrics.Usage | None) -> ResourceSample:
        fresh = usage is not None and usage.timestamp != state.metrics_timestamp
        if usage is not None:
            state.metrics_timestamp = usage.timestamp
        return ResourceSample(
            ts=ts, source=SOURCE, component=pod.component, pod=pod.name, container=box.name, node=pod.node,
            cpu_m=usage.cpu_m if fresh and usage else None,
            memory_bytes=usage.memory_bytes if fresh and usage else None,
            cpu_request_m=box.cpu_request_m, cpu_limit_m=box.cpu_limit_m,
            memory_request_bytes=box.memory_request_bytes, memory_limit_bytes=box.memory_limit_bytes,
            restarts=box.restarts, oom_kills=state.ooms.total,
            phase=pod.phase, ready=box.ready, stage=stage,
        )

    def _status_events(self, ts: float, pod: PodView, box: ContainerView,
                       state: _ContainerState) -> list[CollectorEvent]:
        """Restarts and OOMKilled terminations since the last sample. What a container shows at
        its first sample is its history: it sets the baseline (and the cumulative columns) only."""
        events = []
        where = {"component": pod.component, "pod": pod.name, "container": box.name}
        first = state.restarts is None
        if not first and box.restarts > (state.restarts or 0):
            events.append(CollectorEvent(ts, "restart", {**where, "restarts": box.restarts,
                                                         "reason": box.last_reason or box.waiting_reason}))
        state.restarts = box.restarts
        if box.last_reason == "OOMKilled" and box.last_termination not in state.terminations:
            state.terminations.add(box.last_termination)
            if state.ooms.ended_by_oom(box.last_container_id, box.last_finished) and not first:
                events.append(CollectorEvent(ts, "oom_kill", {**where, "count": 1, "source": "pod_status"}))
        return events

    def _apply_cadvisor(self, sample: ResourceSample, state: _ContainerState,
                        found: cadvisor.ContainerCounters | None, no_metrics: bool,
                        result: Collection) -> None:
        if found is None:
            if state.counters:
                sample.oom_kills = state.ooms.total
                sample.throttled_periods = int(state.counters["throttled_periods"].total)
                sample.periods = int(state.counters["periods"].total)
                sample.throttled_s = state.counters["throttled_seconds"].total
            return
        first = not state.counters
        increases = {}
        for key in ("oom_events", "periods", "throttled_periods", "throttled_seconds"):
            counter = state.counters.setdefault(key, cadvisor.Accumulated())
            increases[key] = counter.update(found.instance, found.values.get(key, 0.0))
        kills = state.ooms.cadvisor_increase(found.instance, increases["oom_events"], sample.ts)
        if kills > 0 and not first:
            result.events.append(CollectorEvent(sample.ts, "oom_kill", {
                "component": sample.component, "pod": sample.pod, "container": sample.container,
                "count": kills, "source": "cadvisor"}))
        sample.oom_kills = state.ooms.total
        sample.throttled_periods = int(state.counters["throttled_periods"].total)
        sample.periods = int(state.counters["periods"].total)
        sample.throttled_s = round(state.counters["throttled_seconds"].total, 6)
        if "rss_bytes" in found.values:
            sample.memory_anon_bytes = int(found.values["rss_bytes"])
        if found.values.get("max_usage_bytes"):
            sample.memory_peak_bytes = int(found.values["max_usage_bytes"])
        if no_metrics and "working_set_bytes" in found.values:
            sample.memory_bytes = int(found.values["working_set_bytes"])

    def _read_all_cadvisor(self, pods: list[PodView], ts: float,
                           result: Collection) -> dict[tuple[str, str], cadvisor.ContainerCounters] | None:
        if not self._cadvisor:
            return None
        found: dict[tuple[str, str], cadvisor.ContainerCounters] = {}
        for node in sorted({p.node for p in pods if p.node}):
            try:
                found.update(self._read_cadvisor(node))
            except Exception as error:  # noqa: BLE001
                if http_status(error) == 403:
                    self._cadvisor = False
                    notice = self._cadvisor_notice(error, node)
                    if notice not in self._noticed:
                        self._noticed.add(notice)
                        result.events.append(CollectorEvent(ts, "collector_notice",
                                                            {"source": SOURCE, "detail": notice}))
                    return None
                result.events.append(_gap(ts, f"cAdvisor metrics of node {node} failed: {describe(error)}"))
        return found

    def _cadvisor_notice(self, error: BaseException, node: str) -> str:
        found = denial(error)
        if found is not None or http_status(error) == 403:
            user = found.user if found else "the collector's user"
            grant = found.fix(("get",), "fwload-cadvisor") if found else (
                'add the ClusterRole rule {apiGroups: [""], resources: ["nodes/proxy"], verbs: ["get"]}')
            return (f"cannot read the kubelets' cAdvisor metrics: RBAC denies get nodes/proxy to {user}; "
                    f"{_CADVISOR_BLIND}. To see them, {grant}")
        return (f"cannot read the cAdvisor metrics of node {node} ({describe(error)}); {_CADVISOR_BLIND}")

    # -- readiness -----------------------------------------------------------------------

    def health(self) -> list[ComponentHealth]:
        """One entry per Deployment: alive (a pod with every container running) and ready
        (as many ready pods as replicas wanted, rollout observed). Unreadable → one entry
        named ``kubernetes`` saying why, so the readiness gate keeps waiting and reports it."""
        try:
            deployments = self._list_deployments().get("items") or []
            pods = [pod_view(p) for p in self._list_pods().get("items") or []]
        except Exception as error:  # noqa: BLE001
            return [ComponentHealth(SOURCE, alive=False, ready=False,
                                    detail=f"cannot read deployments/pods: {describe(error)}")]
        health = []
        for deployment in sorted(deployments, key=lambda d: d["metadata"]["name"]):
            health.append(_deployment_health(deployment, pods))
        return health

    # -- API calls -----------------------------------------------------------------------

    def _json(self, call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        response = call(*args, _preload_content=False, _request_timeout=self._timeout, **kwargs)
        try:
            return json.loads(response.data)
        finally:
            response.release_conn()

    def _list_pods(self) -> dict[str, Any]:
        return self._json(self._core.list_namespaced_pod, self.namespace, label_selector=self.label_selector)

    def _list_pod_metrics(self) -> dict[str, Any]:
        return self._json(self._custom.list_namespaced_custom_object, metrics.GROUP, self._metrics_version,
                          self.namespace, "pods", label_selector=self.label_selector)

    def _list_deployments(self) -> dict[str, Any]:
        return self._json(self._apps.list_namespaced_deployment, self.namespace)

    def _read_cadvisor(self, node: str) -> dict[tuple[str, str], cadvisor.ContainerCounters]:
        response = self._core.connect_get_node_proxy_with_path(
            node, "metrics/cadvisor", _preload_content=False, _request_timeout=self._timeout)
        try:
            text = response.data.decode("utf-8", "replace")
        finally:
            response.release_conn()
        return cadvisor.parse_cadvisor(text, self.namespace)

    def describe(self) -> dict[str, Any]:
        return {
            "backend": self.name, "interval_s": self.default_interval_s, "namespace": self.namespace,
            "label_selector": self.label_selector, "server": self.connection.server,
            "context": self.connection.context, "credentials": self.connection.source,
            "metrics_api": f"{metrics.GROUP}/{self._metrics_version}", "cadvisor": self._cadvisor,
        }

    def close(self) -> None:
        self.connection.api_client.close()


def _gap(ts: float, detail: str) -> CollectorEvent:
    return CollectorEvent(ts, "gap", {"source": SOURCE, "detail": detail})


def _metrics_missing(server: str, why: str) -> FwloadError:
    return FwloadError(
        f"the metrics API is not installed on {server} ({why}): metrics-server is missing",
        "install metrics-server (helm install metrics-server metrics-server/metrics-server -n kube-system, "
        "or your distribution's addon, e.g. minikube addons enable metrics-server), "
        "then check kubectl top pods -n <namespace>",
    )


def _deployment_health(deployment: dict[str, Any], pods: list[PodView]) -> ComponentHealth:
    meta, spec, status = deployment["metadata"], deployment.get("spec") or {}, deployment.get("status") or {}
    name = meta["name"]
    labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or meta.get("labels") or {}
    component = component_of(labels, None, name)
    wanted = spec.get("replicas", 1)
    mine = [p for p in pods if p.owner_deployment == name]
    ready = [p for p in mine if p.phase == "Running" and p.containers and all(c.ready for c in p.containers)]
    alive = any(p.containers and all(c.running for c in p.containers) for p in mine)
    problems = []
    for pod in mine:
        for box in pod.containers:
            if not box.ready:
                why = box.waiting_reason or ("running, not ready" if box.running else "not running")
                last = f", last terminated {box.last_reason}" if box.last_reason else ""
                problems.append(f"{pod.name}/{box.name}: {why}{last}, {box.restarts} restarts")
    rolled_out = status.get("observedGeneration", 0) >= meta.get("generation", 0)
    if not rolled_out:
        problems.insert(0, "rollout not observed yet")
    detail = f"{len(ready)}/{wanted} pods ready" + (": " + "; ".join(problems) if problems else "")
    return ComponentHealth(component, alive=alive, ready=rolled_out and wanted > 0 and len(ready) >= wanted,
                           detail=detail)
