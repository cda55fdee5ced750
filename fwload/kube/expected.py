"""What ``k8s/base`` says the live namespace should hold, as plain values to compare with.

Deployments are matched by their ``app.kubernetes.io/component`` label, not by name, so a
team may rename or prefix them (kustomize ``namePrefix``) and still be checked.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fwload.errors import UsageError
from fwload.limits import (
    COMPONENTS,
    ComponentLimits,
    base_documents,
    component_container,
    deployment_component,
    documented_limits,
)


@dataclass(frozen=True, slots=True)
class ExpectedComponent:
    component: str
    deployment: str
    container: str
    limits: ComponentLimits


@dataclass(frozen=True, slots=True)
class ExpectedIngress:
    """The way in: an Ingress of this class sending ``/`` to the nginx Service."""

    name: str
    class_name: str
    component: str
    service: str
    ports: frozenset[str]
    """The backend port as the Ingress may write it: the Service port's number or name."""


@dataclass(frozen=True, slots=True)
class Expected:
    components: tuple[ExpectedComponent, ...]
    ingress: ExpectedIngress


def expected_from_base(base: Path | None = None) -> Expected:
    documents = base_documents(base)
    limits = documented_limits(base)
    deployments = {deployment_component(d): d for d in documents if d.get("kind") == "Deployment"}
    components = []
    for component in COMPONENTS:
        deployment = deployments[component]
        container = component_container(deployment, component) or {}
        name = str(container.get("name", component))
        components.append(ExpectedComponent(component, _name(deployment), name, limits[component]))
    return Expected(tuple(components), _expected_ingress(documents, deployments))


def _expected_ingress(documents: list[Mapping[str, Any]],
                      deployments: Mapping[str | None, Any]) -> ExpectedIngress:
    ingresses = [d for d in documents if d.get("kind") == "Ingress"]
    if len(ingresses) != 1:
        raise UsageError(f"k8s/base holds {len(ingresses)} Ingresses; the seed has exactly one (nginx)",
                         "keep a single Ingress for nginx in k8s/base/nginx.yaml")
    ingress = ingresses[0]
    backend = _root_backend(ingress)
    service = str(backend.get("name", ""))
    component = next((c for c, d in deployments.items() if c and _name(d) == service), "nginx")
    ports = {str(value) for value in (backend.get("port") or {}).values()}
    for document in documents:
        if document.get("kind") == "Service" and _name(document) == service:
            for port in (document.get("spec") or {}).get("ports") or []:
                if {str(port.get("name")), str(port.get("port"))} & ports:
                    ports |= {str(port.get("name")), str(port.get("port"))}
    return ExpectedIngress(_name(ingress), str((ingress.get("spec") or {}).get("ingressClassName", "")),
                           component, service, frozenset(p for p in ports if p != "None"))


def _root_backend(ingress: Mapping[str, Any]) -> Mapping[str, Any]:
    """The Service behind path ``/`` of the first rule (the only one in the seed)."""
    for rule in (ingress.get("spec") or {}).get("rules") or []:
        for path in ((rule.get("http") or {}).get("paths")) or []:
            if path.get("path", "/") == "/":
                return (path.get("backend") or {}).get("service") or {}
    raise UsageError("the Ingress in k8s/base routes no '/' path", "route / to the nginx Service")


def _name(document: Mapping[str, Any]) -> str:
    return str((document.get("metadata") or {}).get("name", ""))
