"""The fake API server's HTTP side: routing, authentication, RBAC, answers, exec upgrade.

Every answer is built from the `FakeCluster` under its lock, in the wire shapes of
``shared/k8s-api-shapes.md``; non-2xx answers are Status JSON, except the aggregator's
503s, which are text/plain as on a real cluster.
"""

from __future__ import annotations

import json
import re
import socket
import sys
import threading
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from tests.fakes import kube_websocket as ws
from tests.fakes.kube_cadvisor import cadvisor_text
from tests.fakes.kube_cluster import METRICS_GV, ExecCall, ExecResult, FakeCluster, selector_matches
from tests.fakes.kube_objects import FakeDeployment, status_json

_NS = r"/namespaces/(?P<ns>[^/]+)"
_ROUTES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^/version/?$"), "version"),
    (re.compile(r"^/apis/?$"), "groups"),
    (re.compile(r"^/api/?$"), "core_versions"),
    (re.compile(rf"^/apis/{METRICS_GV}/?$"), "metrics_resources"),
    (re.compile(rf"^/apis/{METRICS_GV}{_NS}/pods$"), "metrics_list"),
    (re.compile(rf"^/apis/{METRICS_GV}{_NS}/pods/(?P<name>[^/]+)$"), "metrics_get"),
    (re.compile(rf"^/api/v1{_NS}/pods$"), "pods_list"),
    (re.compile(rf"^/api/v1{_NS}/pods/(?P<name>[^/]+)$"), "pods_get"),
    (re.compile(rf"^/api/v1{_NS}/pods/(?P<name>[^/]+)/exec$"), "exec"),
    (re.compile(rf"^/apis/apps/v1{_NS}/deployments$"), "deployments_list"),
    (re.compile(rf"^/apis/apps/v1{_NS}/deployments/(?P<name>[^/]+)$"), "deployments_get"),
    (re.compile(rf"^/apis/networking.k8s.io/v1{_NS}/ingresses$"), "ingresses_list"),
    (re.compile(rf"^/apis/networking.k8s.io/v1{_NS}/ingresses/(?P<name>[^/]+)$"), "ingresses_get"),
    (re.compile(r"^/api/v1/nodes/(?P<node>[^/]+)/proxy/metrics/cadvisor$"), "cadvisor"),
]

_RBAC = {  # route -> (group, resource, verb, namespaced)
    "metrics_list": ("metrics.k8s.io", "pods", "list", True),
    "metrics_get": ("metrics.k8s.io", "pods", "get", True),
    "pods_list": ("", "pods", "list", True),
    "pods_get": ("", "pods", "get", True),
    "exec": ("", "pods/exec", "create", True),
    "deployments_list": ("apps", "deployments", "list", True),
    "deployments_get": ("apps", "deployments", "get", True),
    "ingresses_list": ("networking.k8s.io", "ingresses", "list", True),
    "ingresses_get": ("networking.k8s.io", "ingresses", "get", True),
    "cadvisor": ("", "nodes/proxy", "get", False),
}

_NOT_FOUND = status_json(404, "NotFound", "the server could not find the requested resource")


class _Reply(Exception):
    """Raised by a route to send a complete answer."""

    def __init__(self, code: int, body: Any, content_type: str = "application/json",
                 headers: dict[str, str] | None = None):
        super().__init__(code)
        self.code, self.body, self.content_type, self.headers = code, body, content_type, headers or {}


class KubeAPIServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, cluster: FakeCluster):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.cluster = cluster
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up (timeout, stopped server) is normal here; anything else is a bug."""
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: KubeAPIServer

    def setup(self) -> None:
        super().setup()
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        with self.server.connections_lock:
            self.server.connections.discard(self.connection)
        super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        cluster = self.server.cluster
        url = urlsplit(self.path)
        path = unquote(url.path)
        query = parse_qs(url.query)
        with cluster.lock:
            cluster.requests[path] += 1
            cluster.queries[path] = query
        try:
            self._serve(cluster, path, query)
        except _Reply as reply:
            self._send(reply.code, reply.body, reply.content_type, reply.headers)

    do_POST = do_GET

    def _send(self, code: int, body: Any, content_type: str, headers: dict[str, str]) -> None:
        data = body if isinstance(body, bytes) else (
            body.encode() if isinstance(body, str) else json.dumps(body, separators=(",", ":")).encode())
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _serve(self, cluster: FakeCluster, path: str, query: dict[str, list[str]]) -> None:
        if self.headers.get("Authorization", self.headers.get("authorization")) != f"Bearer {cluster.token}":
            raise _Reply(401, status_json(401, "Unauthorized", "Unauthorized"))
        route, params = next(((name, m.groupdict()) for rx, name in _ROUTES if (m := rx.match(path))),
                             (None, {}))
        if (seconds := cluster._delay_for(path)) > 0:
            threading.Event().wait(seconds)
        with cluster.lock:
            failure = cluster._failure_for(path)
        if failure:
            if failure.body is not None:
                raise _Reply(failure.status, failure.body, "text/plain; charset=utf-8",
                             {"X-Content-Type-Options": "nosniff"})
            raise _Reply(failure.status, status_json(failure.status, "InternalError",
                                                     f"injected failure {failure.status}"))
        if route is None:
            raise _Reply(404, _NOT_FOUND)
        if route.startswith("metrics_"):
            self._metrics_available(cluster)
        if route in _RBAC:
            self._authorize(cluster, route, params)
        if route == "exec":
            self._exec(cluster, params, query)
            return
        with cluster.lock:
            body = getattr(self, "_" + route)(cluster, query, **params)
        if isinstance(body, str):
            raise _Reply(200, body, "text/plain; version=0.0.4; charset=utf-8")
        raise _Reply(200, body)

    # -- checks --------------------------------------------------------------------------

    @staticmethod
    def _metrics_available(cluster: FakeCluster) -> None:
        if cluster.metrics_api == "absent":
            raise _Reply(404, _NOT_FOUND)
        if cluster.metrics_api == "unavailable":
            raise _Reply(503, "service unavailable\n", "text/plain; charset=utf-8",
                         {"X-Content-Type-Options": "nosniff"})
        if cluster.metrics_api == "proxy_error":
            raise _Reply(503, "Error: 'dial tcp 10.43.169.155:443: i/o timeout'\nTrying to reach: "
                              "'https://10.43.169.155:443/apis/metrics.k8s.io/v1beta1?timeout=32s'",
                         "text/plain; charset=utf-8", {"X-Content-Type-Options": "nosniff"})

    @staticmethod
    def _authorize(cluster: FakeCluster, route: str, params: dict[str, str]) -> None:
        group, resource, verb, namespaced = _RBAC[route]
        with cluster.lock:
            denied = cluster._is_forbidden(group, resource, verb)
        if not denied:
            return
        base = resource.split("/")[0]
        shown = base if not group else f"{base}.{group}"
        name = params.get("name") or params.get("node")
        subject = f'{shown} "{name}"' if name else shown
        scope = f'in the namespace "{params["ns"]}"' if namespaced else "at the cluster scope"
        message = (f'{subject} is forbidden: User "{cluster.user}" cannot {verb} resource "{resource}" '
                   f'in API group "{group}" {scope}')
        details: dict[str, Any] = {}
        if name:
            details["name"] = name
        if group:
            details["group"] = group
        details["kind"] = base
        raise _Reply(403, status_json(403, "Forbidden", message, details))

    # -- routes --------------------------------------------------------------------------

    @staticmethod
    def _version(cluster: FakeCluster, query: dict[str, list[str]]) -> dict[str, Any]:
        return {"major": "1", "minor": "36", "gitVersion": "v1.36.1", "gitCommit": "0" * 40,
                "gitTreeState": "clean", "buildDate": "2026-08-01T00:00:00Z", "goVersion": "go1.24.5",
                "compiler": "gc", "platform": "linux/amd64"}

    @staticmethod
    def _core_versions(cluster: FakeCluster, query: dict[str, list[str]]) -> dict[str, Any]:
        return {"kind": "APIVersions", "versions": ["v1"],
                "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0",
                                                "serverAddress": "172.18.0.3:6443"}]}

    @staticmethod
    def _groups(cluster: FakeCluster, query: dict[str, list[str]]) -> dict[str, Any]:
        def group(name: str, version: str = "v1") -> dict[str, Any]:
            gv = {"groupVersion": f"{name}/{version}", "version": version}
            return {"name": name, "versions": [gv], "preferredVersion": gv}

        groups = [group("apps"), group("networking.k8s.io")]
        if cluster.metrics_api != "absent":
            groups.append(group("metrics.k8s.io", "v1beta1"))
        return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}

    @staticmethod
    def _metrics_resources(cluster: FakeCluster, query: dict[str, list[str]]) -> dict[str, Any]:
        return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": METRICS_GV, "resources": [
            {"name": "nodes", "singularName": "", "namespaced": False, "kind": "NodeMetrics",
             "verbs": ["get", "list"]},
            {"name": "pods", "singularName": "", "namespaced": True, "kind": "PodMetrics",
             "verbs": ["get", "list"]},
        ]}

    @staticmethod
    def _selected(objects: Iterable[Any], ns: str, query: dict[str, list[str]]) -> list[Any]:
        selector = query.get("labelSelector", [""])[0]
        chosen = [o for o in objects if o.namespace == ns and selector_matches(selector, o.labels)]
        return sorted(chosen, key=lambda o: o.name)

    def _metrics_list(self, cluster: FakeCluster, query: dict[str, list[str]], ns: str) -> dict[str, Any]:
        now = cluster._scrape_time
        pods = self._selected(cluster.pods.values(), ns, query)
        items = [p.metrics_json(now) for p in pods if p.has_metrics()]
        return {"kind": "PodMetricsList", "apiVersion": METRICS_GV, "metadata": {}, "items": items}

    @staticmethod
    def _metrics_get(cluster: FakeCluster, query: dict[str, list[str]], ns: str, name: str) -> dict[str, Any]:
        pod = cluster.pods.get((ns, name))
        if pod is None:
            raise _Reply(404, status_json(404, "NotFound", f'pods "{name}" not found',
                                          {"name": name, "kind": "pods"}))
        if not pod.has_metrics():
            details = {"name": f"{ns}/{name}", "group": "metrics.k8s.io", "kind": "podmetrics"}
            message = f'podmetrics.metrics.k8s.io "{ns}/{name}" not found'
            raise _Reply(404, status_json(404, "NotFound", message, details))
        return {"kind": "PodMetrics", "apiVersion": METRICS_GV, **pod.metrics_json(cluster._scrape_time)}

    def _pods_list(self, cluster: FakeCluster, query: dict[str, list[str]], ns: str) -> dict[str, Any]:
        items = [p.to_json() for p in self._selected(cluster.pods.values(), ns, query)]
        return {"kind": "PodList", "apiVersion": "v1", "metadata": {"resourceVersion": "184467"},
                "items": items}

    @staticmethod
    def _pods_get(cluster: FakeCluster, query: dict[str, list[str]], ns: str, name: str) -> dict[str, Any]:
        pod = cluster.pods.get((ns, name))
        if pod is None:
            raise _Reply(404, status_json(404, "NotFound", f'pods "{name}" not found',
                                          {"name": name, "kind": "pods"}))
        return {"kind": "Pod", "apiVersion": "v1", **pod.to_json()}

    def _deployment_json(self, cluster: FakeCluster, dep: FakeDeployment) -> dict[str, Any]:
        return dep.to_json(cluster.pods_of(dep.name, dep.namespace))

    def _deployments_list(self, cluster: FakeCluster, query: dict[str, list[str]], ns: str) -> dict[str, Any]:
        chosen = self._selected(cluster.deployments.values(), ns, query)
        items = [self._deployment_json(cluster, d) for d in chosen]
        return {"kind": "DeploymentList", "apiVersion": "apps/v1", "metadata": {"resourceVersion": "184470"},
                "items": items}

    def _deployments_get(self, cluster: FakeCluster, query: dict[str, list[str]], ns: str,
                         name: str) -> dict[str, Any]:
        dep = cluster.deployments.get((ns, name))
        if dep is None:
            raise _Reply(404, status_json(404, "NotFound", f'deployments.apps "{name}" not found',
                                          {"name": name, "group": "apps", "kind": "deployments"}))
        return {"kind": "Deployment", "apiVersion": "apps/v1", **self._deployment_json(cluster, dep)}

    @staticmethod
    def _ingresses_list(cluster: FakeCluster, query: dict[str, list[str]], ns: str) -> dict[str, Any]:
        items = [body for (space, _), body in sorted(cluster.ingresses.items()) if space == ns]
        return {"kind": "IngressList", "apiVersion": "networking.k8s.io/v1",
                "metadata": {"resourceVersion": "184471"}, "items": items}

    @staticmethod
    def _ingresses_get(cluster: FakeCluster, query: dict[str, list[str]], ns: str,
                       name: str) -> dict[str, Any]:
        body = cluster.ingresses.get((ns, name))
        if body is None:
            raise _Reply(404, status_json(404, "NotFound", f'ingresses.networking.k8s.io "{name}" not found',
                                          {"name": name, "group": "networking.k8s.io", "kind": "ingresses"}))
        return {"kind": "Ingress", "apiVersion": "networking.k8s.io/v1", **body}

    @staticmethod
    def _cadvisor(cluster: FakeCluster, query: dict[str, list[str]], node: str) -> str:
        return cadvisor_text([p for p in cluster.pods.values() if p.node == node])

    # -- exec ----------------------------------------------------------------------------

    def _exec(self, cluster: FakeCluster, params: dict[str, str], query: dict[str, list[str]]) -> None:
        ns, name = params["ns"], params["name"]
        with cluster.lock:
            pod = cluster.pods.get((ns, name))
            if pod is None:
                raise _Reply(404, status_json(404, "NotFound", f'pods "{name}" not found',
                                              {"name": name, "kind": "pods"}))
            container = query.get("container", [pod.containers[0].name])[0]
            if container not in {c.name for c in pod.containers}:
                raise _Reply(400, status_json(400, "BadRequest",
                                              f"container {container} is not valid for pod {name}"))
        if self.headers.get("Upgrade", "").lower() != "websocket":
            raise _Reply(400, status_json(400, "BadRequest", "Upgrade request required"))
        protocol = ws.choose_protocol(self.headers.get("Sec-WebSocket-Protocol", ""), cluster.exec_protocols)
        if protocol is None:
            raise _Reply(400, status_json(400, "BadRequest", "no supported channel protocol offered"))

        def flag(key: str) -> bool:
            return query.get(key, ["false"])[0].lower() == "true"

        self.send_response(101, "Switching Protocols")
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", ws.accept_key(self.headers["Sec-WebSocket-Key"]))
        self.send_header("Sec-WebSocket-Protocol", protocol)
        self.end_headers()
        self.wfile.flush()
        self.close_connection = True
        call = ExecCall(ns, name, container, query.get("command", []), protocol=protocol)
        if flag("stdin"):
            call.stdin = ws.read_stdin(self.connection, protocol, timeout_s=2.0)
        with cluster.lock:
            cluster.exec_calls.append(call)
            handler = cluster.exec_handler
        result = handler(call) if handler else ExecResult(stdout=f"ran: {' '.join(call.command)}\n")
        out = b""
        for channel, data in ((ws.STDOUT, result.stdout), (ws.STDERR, result.stderr)):
            data = data.encode() if isinstance(data, str) else data
            if data and flag("stdout" if channel == ws.STDOUT else "stderr"):
                out += ws.channel_frame(channel, data)
        out += ws.channel_frame(ws.ERROR, json.dumps(_exec_status(result)).encode())
        out += ws.close_frame()
        self.connection.sendall(out)
        ws.drain_until_close(self.connection, timeout_s=2.0)


def _exec_status(result: ExecResult) -> dict[str, Any]:
    if result.error is not None:
        return {"metadata": {}, "status": "Failure", "reason": "InternalError",
                "message": f"error executing command in container: {result.error}",
                "details": {"causes": [{"message": result.error}]}, "code": 500}
    if result.exit_code == 0:
        return {"metadata": {}, "status": "Success"}
    return {"metadata": {}, "status": "Failure",
            "message": f"command terminated with non-zero exit code: error executing command "
                       f"[{result.exit_code}], exit code {result.exit_code}",
            "reason": "NonZeroExitCode",
            "details": {"causes": [{"reason": "ExitCode", "message": str(result.exit_code)}]}}
