"""``collector:`` — where resource samples come from while the load runs."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from fwload.scenario.host import HostComponent, check_component_names
from fwload.scenario.problems import Problem, raise_problems
from fwload.scenario.prometheus import PrometheusSettings
from fwload.scenario.section import Section
from fwload.units import Duration

CollectorBackend = Literal["auto", "kubernetes", "processes", "host", "prometheus", "none"]


class CollectorSettings(Section):
    """Sampling backend and cadence; metrics-server refreshes about every 15 s, so faster adds nothing."""

    backend: CollectorBackend = Field(
        "auto",
        description="auto (host when components are named, processes for the local stand-in, prometheus "
        "when its URL is given, else kubernetes for a cluster target) | kubernetes (metrics.k8s.io + pod "
        "status) | processes (local psutil) | host (cgroups of the components named in collector.components) | "
        "prometheus (cAdvisor + kube-state-metrics series, see prometheus:) | none.",
    )
    interval: Duration = Field(
        15.0, ge=1, description="Seconds between two samples of the Kubernetes metrics API (metrics-server "
        "refreshes every 15 s, sampling faster adds nothing); local processes and host components are sampled "
        "at least every 2 s."
    )
    namespace: str = Field(
        "funkwhale",
        pattern=r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$",
        description="Kubernetes namespace of the Funkwhale components.",
    )
    context: str | None = Field(
        None,
        min_length=1,
        description="kubeconfig context to use; null = the current context "
        "(or the in-cluster service account).",
    )
    prometheus: PrometheusSettings | None = Field(
        None, description="backend: prometheus: the server's URL, where the bearer token is read from, query step."
    )
    components: dict[str, HostComponent] | None = Field(
        None,
        description="backend host: component name -> where it runs on this machine, one of {systemd: unit}, "
        "{docker: name-or-id}, {podman: name-or-id}, {cgroup: path}, {pid: N}, {pidfile: path} "
        "(`fwload host detect` proposes them).",
    )

    _component_names = field_validator("components")(check_component_names)

    @model_validator(mode="after")
    def _components_go_with_host(self) -> CollectorSettings:
        if self.backend == "host" and not self.components:
            raise_problems("CollectorSettings", [Problem(("components",), "backend host needs components "
                           "(name -> {systemd: unit} / {docker: name} / ...): `fwload host detect` proposes them")])
        if self.components and self.backend not in ("host", "auto"):
            raise_problems("CollectorSettings", [Problem(("components",), "only backend host reads components, "
                           f"not backend {self.backend}: set backend: host")])
        return self

    def host_components(self) -> dict[str, dict[str, object]] | None:
        """``components`` as the host collector takes them (name -> {kind: value})."""
        return {name: spec.spec() for name, spec in self.components.items()} if self.components else None
