"""The documented CPU and memory limits of each Funkwhale component: one source of truth.

The numbers live in the Deployments of ``k8s/base`` (the seed's table, DESIGN.md §2), the
same manifests a team applies, so the limits a run is judged against cannot drift from the
ones deployed from this repository. This module reads those YAML files directly: no
kubectl, no cluster. `container_limits` turns any container ``resources`` mapping (from a
manifest or a live pod spec) into the same model, so both can be compared.

``k8s/base`` is found next to the package in a source checkout (``pip install -e .``);
elsewhere (the Locust image, a wheel) ``FWLOAD_K8S_BASE`` names the folder.
"""

from __future__ import annotations

import copy
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from fwload.errors import UsageError
from fwload.quantity import parse_quantity

ENV_VAR = "FWLOAD_K8S_BASE"
COMPONENT_LABEL = "app.kubernetes.io/component"
COMPONENTS = ("nginx", "api", "postgres", "redis", "celery-worker", "celery-beat")
"""The seed's components, also the ``app.kubernetes.io/component`` label values in k8s/base."""

_SOURCE_BASE = Path(__file__).resolve().parent.parent / "k8s" / "base"
_FIX_LOCATION = (f"run from a source checkout installed with `pip install -e .`, or set {ENV_VAR} "
                 "to the k8s/base folder of this repository")


@dataclass(frozen=True, slots=True)
class ComponentLimits:
    """Requests and limits of one container. CPU in millicores, memory in bytes; None = not set."""

    cpu_request_m: int | None
    cpu_limit_m: int | None
    memory_request_bytes: int | None
    memory_limit_bytes: int | None


def base_dir() -> Path:
    """The ``k8s/base`` folder: ``$FWLOAD_K8S_BASE``, else the one beside the package sources."""
    configured = os.environ.get(ENV_VAR, "").strip()
    candidate = Path(configured).expanduser() if configured else _SOURCE_BASE
    if not (candidate / "kustomization.yaml").is_file():
        where = f"{ENV_VAR}={configured}" if configured else f"{candidate} (beside the fwload package)"
        raise UsageError(f"the documented limits (k8s/base/kustomization.yaml) were not found: looked in "
                         f"{where}", _FIX_LOCATION)
    return candidate


EMBEDDED_STANDIN = "standin"
"""The embedded stand-in is one process doing the API's work (and the import worker's): it is
judged against the api's documented limit, the container it stands in for."""
STANDS_IN_FOR = {EMBEDDED_STANDIN: "api"}


def limits_for(component: str, documented: dict[str, ComponentLimits]) -> ComponentLimits | None:
    """The documented limits a component is judged against (an alias for local stand-ins)."""
    return documented.get(component) or documented.get(STANDS_IN_FOR.get(component, ""))


def documented_limits(base: Path | None = None) -> dict[str, ComponentLimits]:
    """Limits per component (`COMPONENTS`), read from the Deployments of ``k8s/base``."""
    return dict(_read_limits(str((base or base_dir()).resolve())))


def base_documents(base: Path | None = None) -> list[Mapping[str, Any]]:
    """Every object the ``k8s/base`` kustomization lists, as written (before kustomize runs)."""
    return copy.deepcopy(list(_read_documents(str((base or base_dir()).resolve()))))


def deployment_component(deployment: Mapping[str, Any]) -> str | None:
    """The ``app.kubernetes.io/component`` of a Deployment's pods (its template labels)."""
    template = (deployment.get("spec") or {}).get("template") or {}
    labels = (template.get("metadata") or {}).get("labels") or {}
    own = (deployment.get("metadata") or {}).get("labels") or {}
    return labels.get(COMPONENT_LABEL) or own.get(COMPONENT_LABEL)


def component_container(deployment: Mapping[str, Any], component: str) -> Mapping[str, Any] | None:
    """The container that carries a component's limits: the one named after it, else the only one."""
    template = (deployment.get("spec") or {}).get("template") or {}
    containers = (template.get("spec") or {}).get("containers") or []
    named = [c for c in containers if c.get("name") == component]
    if named:
        return named[0]
    return containers[0] if len(containers) == 1 else None


def container_limits(resources: Mapping[str, Any] | None, *, where: str = "container") -> ComponentLimits:
    """The model of a container's ``resources`` (``{requests: {...}, limits: {...}}``).

    Quantities are compared by value, never as text: the API server returns ``1000m`` as ``"1"``.
    """
    resources = resources or {}
    requests = resources.get("requests") or {}
    limits = resources.get("limits") or {}
    return ComponentLimits(
        cpu_request_m=_millicores(requests.get("cpu"), f"{where} cpu request"),
        cpu_limit_m=_millicores(limits.get("cpu"), f"{where} cpu limit"),
        memory_request_bytes=_bytes(requests.get("memory"), f"{where} memory request"),
        memory_limit_bytes=_bytes(limits.get("memory"), f"{where} memory limit"),
    )


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader when PyYAML has it: every report reads k8s/base, ten times faster."""


@lru_cache(maxsize=4)
def _read_documents(base: str) -> tuple[Mapping[str, Any], ...]:
    return tuple(document for file in _resource_files(Path(base)) for document in _documents(file))


@lru_cache(maxsize=4)
def _read_limits(base: str) -> tuple[tuple[str, ComponentLimits], ...]:
    found: dict[str, ComponentLimits] = {}
    for document in _read_documents(base):
        if document.get("kind") != "Deployment":
            continue
        name = (document.get("metadata") or {}).get("name", "?")
        component = deployment_component(document)
        if not component:
            raise UsageError(f"k8s/base: Deployment {name} has no {COMPONENT_LABEL} label on its pod "
                             "template", f"label it with one of {', '.join(COMPONENTS)}")
        if component in found:
            raise UsageError(f"k8s/base: a second Deployment ({name}) for component {component!r}",
                             f"give each Deployment in k8s/base its own {COMPONENT_LABEL} label")
        container = component_container(document, component)
        if container is None:
            raise UsageError(f"k8s/base: Deployment {name} has several containers, none named {component!r}",
                             "name the container that carries the documented limits after its component")
        found[component] = container_limits(container.get("resources"), where=f"k8s/base {component}")
    missing = [name for name in COMPONENTS if name not in found]
    if missing:
        raise UsageError(f"k8s/base at {base} has no Deployment for {', '.join(missing)}",
                         f"restore the Deployments labelled {COMPONENT_LABEL}: {', '.join(COMPONENTS)}")
    return tuple((name, found[name]) for name in COMPONENTS)


def _resource_files(folder: Path) -> list[Path]:
    """The files a kustomization lists under ``resources:``, following sub-kustomizations."""
    kustomization = _load_yaml(folder / "kustomization.yaml")
    entries = kustomization.get("resources") if isinstance(kustomization, Mapping) else None
    files: list[Path] = []
    for entry in entries or []:
        path = folder / str(entry)
        if path.is_dir():
            files.extend(_resource_files(path))
        elif path.is_file():
            files.append(path)
        else:
            raise UsageError(f"{folder / 'kustomization.yaml'} lists {entry!r}, which does not exist",
                             "fix the resources: list of k8s/base/kustomization.yaml")
    return files


def _documents(file: Path) -> list[Mapping[str, Any]]:
    try:
        documents = yaml.load_all(file.read_text(encoding="utf-8"), Loader=_LOADER)
        return [doc for doc in documents if isinstance(doc, Mapping)]
    except yaml.YAMLError as error:
        raise UsageError(f"{file} is not valid YAML: {error}",
                         "fix the manifest (`kubectl kustomize k8s/base` shows the same error)") from None


def _load_yaml(file: Path) -> Any:
    if not file.is_file():
        raise UsageError(f"{file} does not exist", _FIX_LOCATION)
    try:
        return yaml.safe_load(file.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise UsageError(f"{file} is not valid YAML: {error}", "fix the file") from None


def _quantity(value: Any, what: str) -> Decimal | None:
    if value is None:
        return None
    try:
        return parse_quantity(value)
    except ValueError:
        raise UsageError(f"{what} {value!r} is not a Kubernetes quantity",
                         "write it like 500m or 0.5 (CPU), 128Mi or 1Gi (memory)") from None


def _millicores(value: Any, what: str) -> int | None:
    quantity = _quantity(value, what)
    return None if quantity is None else math.ceil(quantity * 1000)


def _bytes(value: Any, what: str) -> int | None:
    quantity = _quantity(value, what)
    return None if quantity is None else math.ceil(quantity)
