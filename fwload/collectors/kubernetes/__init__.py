"""The Kubernetes collector backend (metrics.k8s.io, pod status and specs, kubelet cAdvisor)."""

from fwload.collectors.kubernetes.collector import KubernetesCollector
from fwload.collectors.kubernetes.connection import Connection, connect

__all__ = ["Connection", "KubernetesCollector", "connect"]
