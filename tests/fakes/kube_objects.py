"""The mutable objects of the fake cluster and their JSON, in the real API's shapes.

Shapes follow ``shared/k8s-api-shapes.md`` §2–§5: list items carry no kind/apiVersion,
zero/false/empty fields are omitted (``readyReplicas`` absent rather than 0), every field
the official client requires is present, quantities stay strings as given.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

BASE_TIME = datetime(2026, 11, 20, 9, 41, 7, tzinfo=UTC)
_SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
_HASH_ALPHABET = "456789bcdf"


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def template_hash(name: str) -> str:
    """A pod-template-hash in the Deployment controller's alphabet (deterministic per name)."""
    digest = int(hashlib.sha1(name.encode()).hexdigest(), 16)
    return "".join(_HASH_ALPHABET[(digest >> (4 * i)) % len(_HASH_ALPHABET)] for i in range(9))


def pod_suffix(rng: random.Random) -> str:
    return "".join(rng.choice(_SUFFIX_ALPHABET) for _ in range(5))


def container_id(rng: random.Random) -> str:
    return "containerd://" + "".join(rng.choice("0123456789abcdef") for _ in range(64))


@dataclass
class Resources:
    """Requests and limits as the API returns them: canonical quantity strings."""

    requests: dict[str, str] = field(default_factory=dict)
    limits: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {}
        if self.limits:
            body["limits"] = dict(self.limits)
        if self.requests:
            body["requests"] = dict(self.requests)
        return body


@dataclass
class CadvisorCounters:
    """The kubelet cAdvisor series of one container instance (reset when it restarts)."""

    oom_events: int = 0
    cfs_periods: int = 0
    cfs_throttled_periods: int = 0
    cfs_throttled_seconds: float = 0.0
    cpu_usage_seconds: float = 0.0
    working_set_bytes: int = 0
    rss_bytes: int = 0
    max_usage_bytes: int = 0


@dataclass
class FakeContainer:
    name: str
    image: str
    resources: Resources = field(default_factory=Resources)
    restart_count: int = 0
    ready: bool = True
    waiting_reason: str = ""
    waiting_message: str = ""
    last_terminated: dict[str, Any] | None = None
    container_id: str = ""
    started_at: datetime = BASE_TIME
    usage: dict[str, str] | None = None
    cadvisor: CadvisorCounters = field(default_factory=CadvisorCounters)

    @property
    def running(self) -> bool:
        return not self.waiting_reason

    def spec_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"name": self.name, "image": self.image}
        resources = self.resources.to_json()
        body["resources"] = resources
        body.update(
            terminationMessagePath="/dev/termination-log",
            terminationMessagePolicy="File",
            imagePullPolicy="IfNotPresent",
        )
        return body

    def status_json(self) -> dict[str, Any]:
        if self.waiting_reason:
            waiting: dict[str, Any] = {"reason": self.waiting_reason}
            if self.waiting_message:
                waiting["message"] = self.waiting_message
            state: dict[str, Any] = {"waiting": waiting}
        else:
            state = {"running": {"startedAt": rfc3339(self.started_at)}}
        body: dict[str, Any] = {
            "name": self.name,
            "state": state,
            "lastState": {"terminated": dict(self.last_terminated)} if self.last_terminated else {},
            "ready": self.ready,
            "restartCount": self.restart_count,
            "image": "docker.io/" + self.image,
            "imageID": "docker.io/" + self.image.split(":")[0] + "@sha256:" + "4c1d" * 16,
            "containerID": self.container_id,
            "started": self.running,
        }
        if not self.running:
            body.pop("started")
        resources = self.resources.to_json()
        if resources:
            body["resources"] = resources
        return body


@dataclass
class FakePod:
    name: str
    namespace: str
    labels: dict[str, str]
    containers: list[FakeContainer]
    node: str = "worker-1"
    phase: str = "Running"
    owner_replicaset: str | None = None
    uid: str = field(default_factory=lambda: str(uuid.uuid4()))
    created: datetime = BASE_TIME
    metrics_timestamp: datetime | None = None
    metrics_window: str = "15.212s"

    def container(self, name: str) -> FakeContainer:
        for container in self.containers:
            if container.name == name:
                return container
        raise KeyError(f"pod {self.name} has no container {name!r}")

    @property
    def ready(self) -> bool:
        return self.phase == "Running" and all(c.ready for c in self.containers)

    def to_json(self) -> dict[str, Any]:
        metadata: dict[str, Any] = {
            "name": self.name,
            "namespace": self.namespace,
            "uid": self.uid,
            "resourceVersion": "184402",
            "generation": 1,
            "creationTimestamp": rfc3339(self.created),
            "labels": dict(self.labels),
        }
        if self.owner_replicaset:
            metadata["generateName"] = self.owner_replicaset + "-"
            metadata["ownerReferences"] = [{
                "apiVersion": "apps/v1", "kind": "ReplicaSet", "name": self.owner_replicaset,
                "uid": str(uuid.uuid5(uuid.NAMESPACE_URL, self.owner_replicaset)),
                "controller": True, "blockOwnerDeletion": True,
            }]
        ready = "True" if self.ready else "False"
        unready = [c.name for c in self.containers if not c.ready]

        def condition(kind: str, status: str) -> dict[str, Any]:
            body = {"type": kind, "status": status, "lastProbeTime": None,
                    "lastTransitionTime": rfc3339(self.created)}
            if status == "False":
                body["reason"] = "ContainersNotReady"
                body["message"] = f"containers with unready status: [{' '.join(unready)}]"
            return body

        return {
            "metadata": metadata,
            "spec": {
                "containers": [c.spec_json() for c in self.containers],
                "restartPolicy": "Always",
                "terminationGracePeriodSeconds": 30,
                "dnsPolicy": "ClusterFirst",
                "serviceAccountName": "default",
                "serviceAccount": "default",
                "nodeName": self.node,
                "securityContext": {},
                "schedulerName": "default-scheduler",
                "enableServiceLinks": True,
                "preemptionPolicy": "PreemptLowerPriority",
            },
            "status": {
                "observedGeneration": 1,
                "phase": self.phase,
                "conditions": [
                    condition("PodReadyToStartContainers", "True"),
                    condition("Initialized", "True"),
                    condition("Ready", ready),
                    condition("ContainersReady", ready),
                    condition("PodScheduled", "True"),
                ],
                "hostIP": "172.18.0.3",
                "hostIPs": [{"ip": "172.18.0.3"}],
                "podIP": "10.244.1.17",
                "podIPs": [{"ip": "10.244.1.17"}],
                "startTime": rfc3339(self.created),
                "containerStatuses": [c.status_json() for c in self.containers],
                "qosClass": "Burstable",
            },
        }

    def has_metrics(self) -> bool:
        """metrics-server lists a pod only when every container has two points."""
        return (self.metrics_timestamp is not None and self.phase == "Running"
                and all(c.usage is not None and c.running for c in self.containers))

    def metrics_json(self, now: datetime) -> dict[str, Any]:
        assert self.metrics_timestamp is not None
        return {
            "metadata": {"name": self.name, "namespace": self.namespace,
                         "creationTimestamp": rfc3339(now), "labels": dict(self.labels)},
            "timestamp": rfc3339(self.metrics_timestamp),
            "window": self.metrics_window,
            "containers": [{"name": c.name, "usage": dict(c.usage or {})} for c in self.containers],
        }


@dataclass
class FakeDeployment:
    name: str
    namespace: str
    labels: dict[str, str]
    containers: list[FakeContainer]
    replicas: int = 1
    generation: int = 1
    observed_generation: int = 1

    @property
    def replicaset(self) -> str:
        return f"{self.name}-{template_hash(self.name)}"

    def to_json(self, pods: list[FakePod]) -> dict[str, Any]:
        ready = sum(1 for p in pods if p.ready)
        status: dict[str, Any] = {"observedGeneration": self.observed_generation}
        if pods:
            status["replicas"] = len(pods)
            status["updatedReplicas"] = len(pods)
        if ready:
            status["readyReplicas"] = ready
            status["availableReplicas"] = ready
        if len(pods) - ready:
            status["unavailableReplicas"] = len(pods) - ready
        available = ready >= self.replicas
        status["conditions"] = [
            {"type": "Progressing", "status": "True", "lastUpdateTime": rfc3339(BASE_TIME),
             "lastTransitionTime": rfc3339(BASE_TIME), "reason": "NewReplicaSetAvailable",
             "message": f'ReplicaSet "{self.replicaset}" has successfully progressed.'},
            {"type": "Available", "status": "True" if available else "False",
             "lastUpdateTime": rfc3339(BASE_TIME), "lastTransitionTime": rfc3339(BASE_TIME),
             "reason": "MinimumReplicasAvailable" if available else "MinimumReplicasUnavailable",
             "message": "Deployment has minimum availability." if available
             else "Deployment does not have minimum availability."},
        ]
        selector = {k: v for k, v in self.labels.items() if k != "pod-template-hash"}
        return {
            "metadata": {
                "name": self.name, "namespace": self.namespace,
                "uid": str(uuid.uuid5(uuid.NAMESPACE_URL, self.namespace + "/" + self.name)),
                "resourceVersion": "184399", "generation": self.generation,
                "creationTimestamp": rfc3339(BASE_TIME), "labels": dict(selector),
                "annotations": {"deployment.kubernetes.io/revision": "1"},
            },
            "spec": {
                "replicas": self.replicas,
                "selector": {"matchLabels": dict(selector)},
                "template": {
                    "metadata": {"labels": dict(selector)},
                    "spec": {
                        "containers": [c.spec_json() for c in self.containers],
                        "restartPolicy": "Always", "terminationGracePeriodSeconds": 30,
                        "dnsPolicy": "ClusterFirst", "securityContext": {},
                        "schedulerName": "default-scheduler",
                    },
                },
                "strategy": {"type": "RollingUpdate",
                             "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}},
                "revisionHistoryLimit": 10,
                "progressDeadlineSeconds": 600,
            },
            "status": status,
        }


def ingress_json(name: str, namespace: str, host: str | None, service: str, port: int | str,
                 ingress_class: str = "traefik") -> dict[str, Any]:
    rule: dict[str, Any] = {"http": {"paths": [{
        "path": "/", "pathType": "Prefix",
        "backend": {"service": {"name": service,
                                "port": {"number": port} if isinstance(port, int) else {"name": port}}},
    }]}}
    if host:
        rule = {"host": host, **rule}
    return {
        "metadata": {"name": name, "namespace": namespace,
                     "uid": str(uuid.uuid5(uuid.NAMESPACE_URL, "ing/" + name)),
                     "resourceVersion": "183950", "generation": 1,
                     "creationTimestamp": rfc3339(BASE_TIME),
                     "labels": {"app.kubernetes.io/name": "funkwhale"}},
        "spec": {"ingressClassName": ingress_class, "rules": [rule]},
        "status": {"loadBalancer": {"ingress": [{"ip": "172.18.0.2"}]}},
    }


def status_json(code: int, reason: str, message: str,
                details: dict[str, Any] | None = None) -> dict[str, Any]:
    """A metav1.Status error body; ``details`` is omitted when empty (list calls, 401)."""
    body: dict[str, Any] = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                            "message": message, "reason": reason}
    if details:
        body["details"] = details
    body["code"] = code
    return body


def later(moment: datetime, seconds: float) -> datetime:
    return moment + timedelta(seconds=seconds)
