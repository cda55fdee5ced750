"""The Prometheus collector backend (cAdvisor + kube-state-metrics series, by range query)."""

from fwload.collectors.prometheus.api import PrometheusAPI, PrometheusError
from fwload.collectors.prometheus.collector import PrometheusCollector

__all__ = ["PrometheusAPI", "PrometheusCollector", "PrometheusError"]
