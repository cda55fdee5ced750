"""``collector:`` — where resource samples come from while the load runs."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from fwload.scenario.prometheus import PrometheusSettings
from fwload.scenario.section import Section
from fwload.units import Duration

CollectorBackend = Literal["auto", "kubernetes", "processes", "prometheus", "none"]


class CollectorSettings(Section):
    """Sampling backend and cadence; metrics-server refreshes about every 15 s, so faster adds nothing."""

    backend: CollectorBackend = Field(
        "auto",
        description="auto (kubernetes for a cluster target, processes for the local stand-in) | "
        "kubernetes (metrics.k8s.io + pod status) | processes (local psutil) | "
        "prometheus (cAdvisor + kube-state-metrics series, see prometheus:) | none.",
    )
    interval: Duration = Field(
        15.0, ge=1, description="Seconds between two samples of the Kubernetes metrics API (metrics-server "
        "refreshes every 15 s, sampling faster adds nothing); local processes are sampled at least every 2 s."
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
