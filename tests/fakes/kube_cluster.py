"""The state a fake API server serves, changed by tests between requests (thread-safe).

`FakeCluster` holds pods, Deployments, Ingresses and metrics, and the failure modes to
switch on (RBAC 403s, metrics API absent/unavailable, injected errors, slow answers);
it counts the requests it received so tests can check how a client calls.
"""

from __future__ import annotations

import random
import re
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tests.fakes.kube_objects import (
    BASE_TIME,
    FakeContainer,
    FakeDeployment,
    FakePod,
    Resources,
    container_id,
    ingress_json,
    later,
    pod_suffix,
    rfc3339,
)

METRICS_GV = "metrics.k8s.io/v1beta1"
COMPONENT_LABEL = "app.kubernetes.io/component"

DOCUMENTED_RESOURCES: dict[str, Resources] = {
    "redis": Resources({"cpu": "10m", "memory": "32Mi"}, {"cpu": "500m", "memory": "128Mi"}),
    "postgres": Resources({"cpu": "20m", "memory": "64Mi"}, {"cpu": "1", "memory": "256Mi"}),
    "api": Resources({"cpu": "10m", "memory": "32Mi"}, {"cpu": "500m", "memory": "128Mi"}),
    "celery-beat": Resources({"cpu": "10m", "memory": "32Mi"}, {"cpu": "500m", "memory": "128Mi"}),
    "celery-worker": Resources({"cpu": "10m", "memory": "32Mi"}, {"cpu": "500m", "memory": "128Mi"}),
    "nginx": Resources({"cpu": "15m", "memory": "64Mi"}, {"cpu": "750m", "memory": "256Mi"}),
}
"""The seed's documented requests/limits (DESIGN §2) in the canonical form the API returns."""

_IMAGES = {"redis": "redis:7-alpine", "postgres": "postgres:15-alpine", "nginx": "funkwhale/front:1.4.0"}


def pods_path(namespace: str = "funkwhale") -> str:
    return f"/api/v1/namespaces/{namespace}/pods"


def metrics_pods_path(namespace: str = "funkwhale") -> str:
    return f"/apis/{METRICS_GV}/namespaces/{namespace}/pods"


@dataclass
class ExecCall:
    """One exec request as the server received it."""

    namespace: str
    pod: str
    container: str
    command: list[str]
    stdin: bytes = b""
    protocol: str = ""


@dataclass
class ExecResult:
    """What the fake container answers: output, then exit code (or an internal error)."""

    stdout: str | bytes = ""
    stderr: str | bytes = ""
    exit_code: int = 0
    error: str | None = None


@dataclass
class _Failure:
    status: int
    body: str | None
    remaining: int | None


@dataclass
class FakeCluster:
    """Everything the fake API serves; tests mutate it between requests (thread-safe)."""

    namespace: str = "funkwhale"
    token: str = "test-token"
    user: str = "system:serviceaccount:funkwhale:fwload"
    metrics_api: str = "ok"
    """``ok`` | ``absent`` (never installed: 404, group missing) | ``unavailable`` (503
    ``service unavailable``) | ``proxy_error`` (503 with the aggregator's dial error)."""
    exec_protocols: tuple[str, ...] = ("v5.channel.k8s.io", "v4.channel.k8s.io")
    exec_handler: Callable[[ExecCall], ExecResult] | None = None
    seed: int = 0
    pods: dict[tuple[str, str], FakePod] = field(default_factory=dict)
    deployments: dict[tuple[str, str], FakeDeployment] = field(default_factory=dict)
    ingresses: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    exec_calls: list[ExecCall] = field(default_factory=list)
    requests: Counter[str] = field(default_factory=Counter)
    queries: dict[str, dict[str, list[str]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.lock = threading.RLock()
        self._rng = random.Random(self.seed)
        self._forbidden: set[tuple[str, str, str | None]] = set()
        self._failures: dict[str, _Failure] = {}
        self._delays: dict[str, float] = {}
        self._scrape_time: datetime = later(BASE_TIME, 60)

    # -- building the cluster ------------------------------------------------------------

    def add_deployment(
        self,
        name: str,
        containers: dict[str, Resources] | None = None,
        *,
        component: str | None = None,
        replicas: int = 1,
        labels: dict[str, str] | None = None,
        image: str = "funkwhale/api:1.4.0",
        node: str = "worker-1",
        namespace: str | None = None,
        usage: dict[str, str] | None = None,
    ) -> FakeDeployment:
        """A Deployment and its ``replicas`` running, ready pods (named as the controller does)."""
        namespace = namespace or self.namespace
        if labels is None:
            labels = {"app.kubernetes.io/name": "funkwhale"}
            if component:
                labels[COMPONENT_LABEL] = component
        containers = containers or {component or name: Resources()}
        specs = [FakeContainer(c, image, res) for c, res in containers.items()]
        with self.lock:
            deployment = FakeDeployment(name, namespace, dict(labels), specs, replicas=replicas)
            self.deployments[(namespace, name)] = deployment
            for _ in range(replicas):
                self.add_pod(
                    f"{deployment.replicaset}-{pod_suffix(self._rng)}",
                    {c.name: c.resources for c in specs},
                    labels={**labels, "pod-template-hash": deployment.replicaset.rsplit("-", 1)[1]},
                    owner_replicaset=deployment.replicaset, image=image, node=node,
                    namespace=namespace, usage=usage,
                )
        return deployment

    def add_pod(
        self,
        name: str,
        containers: dict[str, Resources],
        *,
        labels: dict[str, str] | None = None,
        owner_replicaset: str | None = None,
        image: str = "funkwhale/api:1.4.0",
        node: str = "worker-1",
        namespace: str | None = None,
        usage: dict[str, str] | None = None,
        phase: str = "Running",
    ) -> FakePod:
        """A running pod; ``usage`` (e.g. ``{"cpu": "3m", "memory": "96Mi"}``) gives every
        container metrics at once, otherwise the pod is absent from PodMetrics until `set_usage`."""
        namespace = namespace or self.namespace
        with self.lock:
            pod = FakePod(
                name, namespace, dict(labels or {}),
                [FakeContainer(c, image, res, container_id=container_id(self._rng))
                 for c, res in containers.items()],
                node=node, owner_replicaset=owner_replicaset, phase=phase,
            )
            self.pods[(namespace, name)] = pod
            if usage is not None:
                for container in pod.containers:
                    container.usage = dict(usage)
                pod.metrics_timestamp = self._scrape_time
        return pod

    def add_ingress(self, name: str = "funkwhale", *, host: str | None = "funkwhale.example.test",
                    service: str = "funkwhale-nginx", port: int | str = 80,
                    namespace: str | None = None) -> dict[str, Any]:
        namespace = namespace or self.namespace
        body = ingress_json(name, namespace, host, service, port)
        with self.lock:
            self.ingresses[(namespace, name)] = body
        return body

    def pod(self, name: str, namespace: str | None = None) -> FakePod:
        return self.pods[(namespace or self.namespace, name)]

    def pods_of(self, deployment: str, namespace: str | None = None) -> list[FakePod]:
        dep = self.deployments[(namespace or self.namespace, deployment)]
        return [p for p in self.pods.values()
                if p.namespace == dep.namespace and p.owner_replicaset == dep.replicaset]

    def remove_pod(self, name: str, namespace: str | None = None) -> None:
        with self.lock:
            del self.pods[(namespace or self.namespace, name)]

    # -- changing state ------------------------------------------------------------------

    def set_usage(self, pod: str, container: str, cpu: str, memory: str, *,
                  window: str | None = None, namespace: str | None = None) -> None:
        """New metrics-server numbers for one container, stamped with the current scrape."""
        with self.lock:
            target = self.pod(pod, namespace)
            target.container(container).usage = {"cpu": cpu, "memory": memory}
            target.metrics_timestamp = self._scrape_time
            if window:
                target.metrics_window = window

    def now(self) -> float:
        """The nodes' clock (epoch seconds), for a collector that must agree with ``finishedAt``."""
        with self.lock:
            return self._scrape_time.timestamp()

    def scrape(self, seconds: float = 15.0) -> None:
        """Advance metrics-server's clock: every pod with metrics gets a new ``timestamp``."""
        with self.lock:
            self._scrape_time = later(self._scrape_time, seconds)
            for pod in self.pods.values():
                if pod.metrics_timestamp is not None:
                    pod.metrics_timestamp = self._scrape_time

    def restart(self, pod: str, container: str, *, reason: str = "OOMKilled", exit_code: int = 137,
                waiting: str | None = None, namespace: str | None = None) -> None:
        """The container terminated (``reason``) and the kubelet restarted it.

        As on a real node: ``restartCount`` +1, ``lastState.terminated`` records the end,
        a new container ID, cAdvisor counters restart from zero, and the pod drops out of
        PodMetrics until `set_usage`. ``waiting`` (e.g. ``CrashLoopBackOff``) leaves it not running.
        """
        with self.lock:
            target = self.pod(pod, namespace)
            box = target.container(container)
            finished = later(self._scrape_time, -1)
            box.last_terminated = {
                "exitCode": exit_code, "reason": reason, "startedAt": rfc3339(box.started_at),
                "finishedAt": rfc3339(finished), "containerID": box.container_id,
            }
            box.restart_count += 1
            box.container_id = container_id(self._rng)
            box.started_at = finished
            box.cadvisor = type(box.cadvisor)()
            box.usage = None
            box.waiting_reason = waiting or ""
            box.waiting_message = (
                f"back-off 40s restarting failed container={container} "
                f"pod={pod}_{target.namespace}({target.uid})"
                if waiting == "CrashLoopBackOff" else "")
            box.ready = waiting is None
            target.metrics_timestamp = None

    def set_ready(self, pod: str, container: str, ready: bool, *, namespace: str | None = None) -> None:
        with self.lock:
            self.pod(pod, namespace).container(container).ready = ready

    def set_cadvisor(self, pod: str, container: str, *, namespace: str | None = None,
                     **counters: Any) -> None:
        """Set the kubelet's cAdvisor counters of the container's current instance."""
        with self.lock:
            box = self.pod(pod, namespace).container(container)
            for key, value in counters.items():
                if not hasattr(box.cadvisor, key):
                    raise AttributeError(f"no cAdvisor counter {key!r}")
                setattr(box.cadvisor, key, value)

    # -- failure modes -------------------------------------------------------------------

    def forbid(self, resource: str, *, group: str = "", verb: str | None = None) -> None:
        """RBAC denies ``verb`` (or every verb) on ``resource`` (``pods``, ``pods/exec``,
        ``nodes/proxy``, ``deployments`` with group ``apps`` ...) from now on."""
        with self.lock:
            self._forbidden.add((group, resource, verb))

    def allow(self, resource: str, *, group: str = "", verb: str | None = None) -> None:
        with self.lock:
            self._forbidden.discard((group, resource, verb))

    def fail(self, path_prefix: str, status: int = 500, *, body: str | None = None,
             times: int | None = None) -> None:
        """Answer requests under ``path_prefix`` with ``status`` (a Status JSON, or ``body``
        as text/plain) ``times`` times, or until `heal`."""
        with self.lock:
            self._failures[path_prefix] = _Failure(status, body, times)

    def delay(self, path_prefix: str, seconds: float) -> None:
        """Hold answers under ``path_prefix`` for ``seconds`` (to provoke client timeouts)."""
        with self.lock:
            self._delays[path_prefix] = seconds

    def heal(self) -> None:
        with self.lock:
            self._failures.clear()
            self._delays.clear()
            self._forbidden.clear()

    # -- observing the client ------------------------------------------------------------

    def count(self, path: str) -> int:
        """Requests received for exactly this path (query string excluded)."""
        with self.lock:
            return self.requests[path]

    def reset_counts(self) -> None:
        with self.lock:
            self.requests.clear()
            self.queries.clear()

    # -- used by the server --------------------------------------------------------------

    def _is_forbidden(self, group: str, resource: str, verb: str) -> bool:
        return (group, resource, None) in self._forbidden or (group, resource, verb) in self._forbidden

    def _failure_for(self, path: str) -> _Failure | None:
        for prefix, failure in self._failures.items():
            if path.startswith(prefix):
                if failure.remaining is not None:
                    failure.remaining -= 1
                    if failure.remaining <= 0:
                        del self._failures[prefix]
                return failure
        return None

    def _delay_for(self, path: str) -> float:
        return next((s for prefix, s in self._delays.items() if path.startswith(prefix)), 0.0)


def seed_funkwhale(cluster: FakeCluster, *, usage: dict[str, str] | None = None) -> dict[str, FakeDeployment]:
    """The seed's decomposition: six ready Deployments at the documented limits, one Ingress."""
    usage = usage or {"cpu": "2m", "memory": "24Mi"}
    made = {}
    for component, resources in DOCUMENTED_RESOURCES.items():
        made[component] = cluster.add_deployment(
            f"funkwhale-{component}", {component: resources}, component=component,
            image=_IMAGES.get(component, "funkwhale/api:1.4.0"), usage=usage,
        )
    cluster.add_ingress()
    return made


def seed_scale(cluster: FakeCluster, *, pods: int = 200, per_deployment: int = 5, nodes: int = 4) -> None:
    """Many small Deployments spread over ``nodes`` nodes, all with metrics (for benchmarks)."""
    resources = Resources({"cpu": "10m", "memory": "32Mi"}, {"cpu": "500m", "memory": "128Mi"})
    for index in range(pods // per_deployment):
        cluster.add_deployment(f"svc-{index}", {"app": resources}, component=f"svc-{index}",
                               replicas=per_deployment, node=f"worker-{index % nodes}",
                               usage={"cpu": "7338891n", "memory": "14520Ki"})


# -- label selectors ---------------------------------------------------------------------

_SET_RE = re.compile(r"^\s*([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)\s*$")


def _split_selector(text: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for char in text:
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
            continue
        depth += char == "("
        depth -= char == ")"
        current += char
    parts.append(current)
    return [p.strip() for p in parts if p.strip()]


def selector_matches(selector: str, labels: dict[str, str]) -> bool:
    """Equality (``=``, ``==``, ``!=``), existence (``k``, ``!k``) and set (``in``, ``notin``)."""
    for term in _split_selector(selector):
        if match := _SET_RE.match(term):
            key, op, values = match.group(1), match.group(2), {v.strip() for v in match.group(3).split(",")}
            if (labels.get(key) in values) != (op == "in"):
                return False
        elif "!=" in term:
            key, value = (s.strip() for s in term.split("!=", 1))
            if labels.get(key) == value:
                return False
        elif "=" in term:
            key, value = (s.strip() for s in term.replace("==", "=").split("=", 1))
            if labels.get(key) != value:
                return False
        elif term.startswith("!"):
            if term[1:] in labels:
                return False
        elif term not in labels:
            return False
    return True
