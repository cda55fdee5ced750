"""A fake Kubernetes API server on 127.0.0.1:0 for the official client, unmodified.

No cluster can run here, so tests of the collector, ``fwload k8s check`` and user
provisioning talk to this instead: a threaded HTTP server that answers with the real
API's shapes and failure modes (``shared/k8s-api-shapes.md``), driven by a mutable
`FakeCluster` the test changes between calls::

    cluster = FakeCluster()
    seed_funkwhale(cluster)                       # six Deployments at the documented limits
    with FakeKubeAPI(cluster) as api:
        kubeconfig = api.write_kubeconfig(tmp_path / "kubeconfig")
        ...                                       # kubernetes.config.new_client_from_config(str(kubeconfig))
        cluster.restart(pod, "api", reason="OOMKilled")
        cluster.forbid("pods", group="metrics.k8s.io")   # RBAC 403 from now on
        cluster.metrics_api = "unavailable"              # aggregator 503 text/plain
        assert cluster.count(metrics_pods_path()) == 1

Served: discovery (``/apis``, ``/apis/``, ``/apis/metrics.k8s.io/v1beta1``, ``/version``),
PodMetrics list/get, pods list/get, exec (WebSocket v4/v5), Deployments and Ingresses
list/get, the kubelet cAdvisor metrics through the node proxy, 401/403/404/503 answers.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from pathlib import Path
from typing import Any

import yaml

from tests.fakes.kube_cadvisor import cadvisor_text
from tests.fakes.kube_cluster import (
    DOCUMENTED_RESOURCES,
    ExecCall,
    ExecResult,
    FakeCluster,
    metrics_pods_path,
    pods_path,
    seed_funkwhale,
    seed_scale,
    selector_matches,
)
from tests.fakes.kube_objects import Resources
from tests.fakes.kube_server import KubeAPIServer

__all__ = [
    "DOCUMENTED_RESOURCES", "ExecCall", "ExecResult", "FakeCluster", "FakeKubeAPI", "Resources",
    "cadvisor_text", "metrics_pods_path", "pods_path", "seed_funkwhale", "seed_scale", "selector_matches",
    "unreachable_kubeconfig",
    "write_kubeconfig",
]


class FakeKubeAPI:
    """Serves a `FakeCluster` on ``http://127.0.0.1:<free port>`` from a background thread."""

    def __init__(self, cluster: FakeCluster | None = None):
        self.cluster = cluster or FakeCluster()
        self._server: KubeAPIServer | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FakeKubeAPI:
        self._server = KubeAPIServer(self.cluster)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fake-kube-api", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening and cut open keep-alive connections, as a dead API server would."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        with self._server.connections_lock:
            for conn in list(self._server.connections):
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
                conn.close()
        if self._thread:
            self._thread.join(timeout=5)
        self._server = None

    def __enter__(self) -> FakeKubeAPI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def write_kubeconfig(self, path: Path, *, namespace: str | None = None, token: str | None = None,
                         context: str = "fake") -> Path:
        """A kubeconfig (§8 of the shapes document) that points the official client here."""
        return write_kubeconfig(path, self.url, namespace=namespace or self.cluster.namespace,
                                token=token or self.cluster.token, context=context)


def write_kubeconfig(path: Path, server: str, *, namespace: str = "funkwhale", token: str = "test-token",
                     context: str = "fake") -> Path:
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": context, "cluster": {"server": server}}],
        "contexts": [{"name": context,
                      "context": {"cluster": context, "user": context, "namespace": namespace}}],
        "current-context": context,
        "users": [{"name": context, "user": {"token": token}}],
    }
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def unreachable_kubeconfig(path: Path, **kwargs: Any) -> Path:
    """A kubeconfig whose server is a loopback port nobody listens on (connection refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return write_kubeconfig(path, f"http://127.0.0.1:{port}", **kwargs)
