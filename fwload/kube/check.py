"""``fwload k8s check``: the live namespace compared, item by item, with ``k8s/base``.

Each comparison is a `Finding`, passed or not, so the report shows what was checked as
well as what differs. Quantities are compared as numbers (the API server returns
``1000m`` as ``"1"``). What stops the check itself — credentials, RBAC, an unreachable
server — raises `fwload.errors.TargetError` instead (exit 2), since nothing was compared.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fwload.kube.client import REQUEST_TIMEOUT_S, api_failure, call_api, is_connection_error, status_message
from fwload.kube.expected import Expected, ExpectedComponent, ExpectedIngress
from fwload.limits import COMPONENT_LABEL, ComponentLimits, container_limits

METRICS_GROUP, METRICS_VERSION = "metrics.k8s.io", "v1beta1"

_LIMIT_FIELDS = (
    ("cpu request", "cpu_request_m"),
    ("cpu limit", "cpu_limit_m"),
    ("memory request", "memory_request_bytes"),
    ("memory limit", "memory_limit_bytes"),
)


@dataclass(frozen=True, slots=True)
class Finding:
    """One comparison: ``expected`` is what k8s/base says, ``live`` what the cluster has."""

    component: str
    subject: str
    check: str
    expected: str
    live: str
    ok: bool
    fix: str = ""


def check_namespace(api_client: Any, namespace: str, expected: Expected) -> list[Finding]:
    from kubernetes import client

    deployments = call_api(api_client, namespace, f"listing deployments in namespace {namespace}",
                           client.AppsV1Api(api_client).list_namespaced_deployment, namespace).items
    ingresses = call_api(api_client, namespace, f"listing ingresses in namespace {namespace}",
                         client.NetworkingV1Api(api_client).list_namespaced_ingress, namespace).items
    findings: list[Finding] = []
    by_component: dict[str, list[Any]] = {}
    for deployment in deployments:
        by_component.setdefault(_component_of(deployment), []).append(deployment)
    for component in expected.components:
        findings.extend(_check_component(component, by_component.get(component.component, []), namespace))
    nginx_names = {d.metadata.name for d in by_component.get(expected.ingress.component, [])}
    findings.extend(_check_ingress(expected.ingress, ingresses, nginx_names | {expected.ingress.service}))
    findings.append(_check_metrics_api(api_client, namespace))
    return findings


def _component_of(deployment: Any) -> str:
    template = deployment.spec.template.metadata
    labels = (template.labels if template else None) or {}
    return labels.get(COMPONENT_LABEL) or (deployment.metadata.labels or {}).get(COMPONENT_LABEL, "")


def _check_component(expected: ExpectedComponent, live: list[Any], namespace: str) -> list[Finding]:
    name = expected.component
    if not live:
        fix = (f"deploy it: `kubectl apply -k k8s/base` (no Deployment labelled {COMPONENT_LABEL}={name} "
               f"in namespace {namespace})")
        return [Finding(name, expected.deployment, "deployment", "present", "missing", False, fix)]
    findings = []
    for deployment in live:
        subject = deployment.metadata.name
        findings.append(Finding(name, subject, "deployment", "present", "present", True))
        findings.append(_check_ready(name, subject, deployment, namespace))
        containers = deployment.spec.template.spec.containers or []
        container = next((c for c in containers if c.name == expected.container), None)
        if container is None and len(containers) == 1:
            container = containers[0]
        if container is None:
            names = ", ".join(c.name for c in containers)
            findings.append(Finding(name, subject, "container", expected.container, names or "none", False,
                                    f"name the container {expected.container!r} as in k8s/base"))
            continue
        resources = container.resources
        live_limits = container_limits({"requests": getattr(resources, "requests", None),
                                        "limits": getattr(resources, "limits", None)},
                                       where=f"deployment {subject}")
        findings.extend(_compare_limits(name, f"{subject}/{container.name}", expected.limits, live_limits))
    return findings


def _check_ready(component: str, subject: str, deployment: Any, namespace: str) -> Finding:
    wanted = deployment.spec.replicas if deployment.spec.replicas is not None else 1
    status = deployment.status
    ready = (status.ready_replicas or 0) if status else 0
    observed = (status.observed_generation or 0) if status else 0
    current = observed >= (deployment.metadata.generation or 0)
    ok = wanted > 0 and ready >= wanted and current
    live = f"{ready}/{wanted} ready" + ("" if current else " (rollout not yet observed)")
    fix = "" if ok else (f"see why: `kubectl -n {namespace} describe deployment {subject}` and its pods' "
                         "events (OOMKilled, CrashLoopBackOff, probes)")
    return Finding(component, subject, "ready", "all replicas ready", live, ok, fix)


def _compare_limits(component: str, subject: str, expected: ComponentLimits,
                    live: ComponentLimits) -> list[Finding]:
    findings = []
    for label, field in _LIMIT_FIELDS:
        want, have = getattr(expected, field), getattr(live, field)
        show = format_cpu if field.startswith("cpu") else format_memory
        ok = want == have
        fix = "" if ok else f"set {label} back to {show(want)} (k8s/base) or update the documented table"
        findings.append(Finding(component, subject, label, show(want), show(have), ok, fix))
    return findings


def _check_ingress(expected: ExpectedIngress, ingresses: list[Any], services: set[str]) -> list[Finding]:
    component = expected.component
    routing = [(ing, route) for ing in ingresses for route in _root_backends(ing) if route.name in services]
    ports = "|".join(sorted(expected.ports))
    want = f"/ → {expected.service}:{ports}"
    if not routing:
        seen = ", ".join(ing.metadata.name for ing in ingresses) or "no Ingress"
        return [Finding(component, expected.name, "ingress", want, f"none routes / to nginx ({seen})", False,
                        "apply the nginx Ingress from k8s/base (nginx.yaml)")]
    findings = []
    for ingress, backend in routing:
        subject = ingress.metadata.name
        port = backend.port
        live_port = str((port.number if port.number is not None else port.name) if port else "")
        port_ok = live_port in expected.ports
        findings.append(Finding(component, subject, "ingress", want, f"/ → {backend.name}:{live_port}",
                                port_ok, "" if port_ok else f"send it to port {ports}"))
        live_class = _ingress_class(ingress)
        class_ok = live_class == expected.class_name
        class_fix = "" if class_ok else f"set spec.ingressClassName: {expected.class_name}"
        findings.append(Finding(component, subject, "ingress class", expected.class_name,
                                live_class or "none", class_ok, class_fix))
        hosts = ", ".join(sorted({r.host for r in (ingress.spec.rules or []) if r.host})) or "any"
        findings.append(Finding(component, subject, "ingress host", "(shown, not compared)", hosts, True))
    return findings


def _root_backends(ingress: Any) -> list[Any]:
    backends = []
    for rule in ingress.spec.rules or []:
        for path in (rule.http.paths if rule.http else []) or []:
            if (path.path or "/") == "/" and path.backend and path.backend.service:
                backends.append(path.backend.service)
    if ingress.spec.default_backend and ingress.spec.default_backend.service:
        backends.append(ingress.spec.default_backend.service)
    return backends


def _ingress_class(ingress: Any) -> str:
    annotations = ingress.metadata.annotations or {}
    return ingress.spec.ingress_class_name or annotations.get("kubernetes.io/ingress.class", "")


def _check_metrics_api(api_client: Any, namespace: str) -> Finding:
    """metrics.k8s.io answers pod metrics (the group being listed proves nothing: §1.3)."""
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    try:
        listing = client.CustomObjectsApi(api_client).list_namespaced_custom_object(
            METRICS_GROUP, METRICS_VERSION, namespace, "pods", _request_timeout=REQUEST_TIMEOUT_S)
    except ApiException as error:
        if error.status in (401, 403):
            raise api_failure(error, f"reading pod metrics in namespace {namespace}", namespace=namespace,
                              api_client=api_client) from None
        if error.status == 404:
            return _metrics("not installed (404)", "install metrics-server (its release manifest)")
        if error.status == 503:
            return _metrics(f"unavailable (503: {status_message(error)[:80]})",
                            "metrics-server is down: see `kubectl -n kube-system get pods "
                            "-l k8s-app=metrics-server` and `kubectl get apiservice v1beta1.metrics.k8s.io`")
        return _metrics(f"{error.status} {error.reason}", "`kubectl get --raw /apis/metrics.k8s.io/v1beta1` "
                        "shows the same answer")
    except Exception as error:
        if is_connection_error(error):
            raise api_failure(error, "reading pod metrics", namespace=namespace,
                              api_client=api_client) from None
        raise
    count = len(listing.get("items") or []) if isinstance(listing, dict) else 0
    return _metrics(f"served ({count} pods with metrics)")


def _metrics(live: str, fix: str | None = None) -> Finding:
    ok = fix is None
    return Finding("cluster", "metrics.k8s.io", "metrics API", "pod metrics served", live, ok, fix or "")


def format_cpu(millicores: int | None) -> str:
    return "none" if millicores is None else f"{millicores}m"


def format_memory(size: int | None) -> str:
    if size is None:
        return "none"
    for unit, factor in (("Gi", 1024**3), ("Mi", 1024**2), ("Ki", 1024)):
        if size >= factor and size % factor == 0:
            return f"{size // factor}{unit}"
    return str(size)
