"""Pods as the collector needs them: component, node, and each container's spec and status.

Pods are read as the API's JSON (``_preload_content=False``) rather than as the client's
typed models: deserialising 200 full pods into models costs far more CPU than the rest of
a collection, and the collector runs inside Locust's event loop. Field names are the
wire's camelCase (k8s-api-shapes.md §3).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fwload.quantity import parse_quantity

from fwload.collectors.components import COMPONENT_LABELS, component_of, deployment_of

__all__ = ["COMPONENT_LABELS", "ContainerView", "PodView", "byte_count", "component_of", "deployment_of",
           "millicores", "pod_view"]


def millicores(quantity: str | None) -> float | None:
    if quantity is None:
        return None
    return float(parse_quantity(quantity) * 1000)


def byte_count(quantity: str | None) -> int | None:
    if quantity is None:
        return None
    return int(parse_quantity(quantity).to_integral_value())


@dataclass(slots=True)
class ContainerView:
    """One container of a pod: spec resources and the status fields the collector uses."""

    name: str
    cpu_request_m: float | None = None
    cpu_limit_m: float | None = None
    memory_request_bytes: int | None = None
    memory_limit_bytes: int | None = None
    restarts: int = 0
    ready: bool = False
    running: bool = False
    waiting_reason: str = ""
    container_id: str = ""
    last_reason: str = ""
    last_exit_code: int | None = None
    last_finished: str = ""
    last_container_id: str = ""

    @property
    def last_termination(self) -> tuple[str, str]:
        """What identifies one termination, so it is reported once however often it is read."""
        return (self.last_container_id, self.last_finished)


@dataclass(slots=True)
class PodView:
    name: str
    component: str
    node: str
    phase: str
    owner_deployment: str | None
    containers: list[ContainerView]


def pod_view(pod: Mapping[str, Any]) -> PodView:
    """Read one PodList item (JSON) into the fields a sample and the readiness gate need."""
    meta = pod.get("metadata") or {}
    labels = meta.get("labels") or {}
    owner = next((o.get("name") for o in meta.get("ownerReferences") or []
                  if o.get("kind") == "ReplicaSet" and o.get("controller")), None)
    name = meta.get("name", "")
    spec = pod.get("spec") or {}
    status = pod.get("status") or {}
    statuses = {s.get("name"): s for s in status.get("containerStatuses") or []}
    containers = []
    for container in spec.get("containers") or []:
        resources = container.get("resources") or {}
        requests, limits = resources.get("requests") or {}, resources.get("limits") or {}
        view = ContainerView(
            name=container.get("name", ""),
            cpu_request_m=millicores(requests.get("cpu")),
            cpu_limit_m=millicores(limits.get("cpu")),
            memory_request_bytes=byte_count(requests.get("memory")),
            memory_limit_bytes=byte_count(limits.get("memory")),
        )
        _read_status(view, statuses.get(view.name))
        containers.append(view)
    return PodView(
        name=name,
        component=component_of(labels, owner, name),
        node=spec.get("nodeName", ""),
        phase=status.get("phase", ""),
        owner_deployment=deployment_of(owner, labels.get("pod-template-hash")) if owner else None,
        containers=containers,
    )


def _read_status(view: ContainerView, status: Mapping[str, Any] | None) -> None:
    if not status:
        return
    state = status.get("state") or {}
    view.restarts = int(status.get("restartCount") or 0)
    view.ready = bool(status.get("ready"))
    view.running = "running" in state
    view.waiting_reason = (state.get("waiting") or {}).get("reason", "")
    view.container_id = status.get("containerID", "")
    terminated = (status.get("lastState") or {}).get("terminated") or {}
    if terminated:
        view.last_reason = terminated.get("reason", "")
        view.last_exit_code = terminated.get("exitCode")
        view.last_finished = terminated.get("finishedAt", "")
        view.last_container_id = terminated.get("containerID", "")
