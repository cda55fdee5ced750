"""Resource collectors: one ABC (`base.Collector`), one sample model, several backends.

``make_collector("kubernetes", namespace="funkwhale")``,
``make_collector("processes", pids={"standin": pid})`` or
``make_collector("host", components={"api": {"systemd": "funkwhale-server.service"}})`` builds a backend by name;
`CollectorLoop` runs it beside the load. Backends are imported only when chosen, so
importing this package costs neither the Kubernetes client nor psutil.
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

from fwload.collectors.base import Collection, Collector, CollectorEvent, ComponentHealth, ResourceSample
from fwload.collectors.loop import CollectorLoop
from fwload.errors import UsageError
from fwload.units import parse_duration

__all__ = [
    "BACKENDS", "Collection", "Collector", "CollectorEvent", "CollectorLoop", "ComponentHealth",
    "ResourceSample", "available_backends", "make_collector",
]

log = logging.getLogger(__name__)

BACKENDS: dict[str, tuple[str, str]] = {
    "kubernetes": ("fwload.collectors.kubernetes", "KubernetesCollector"),
    "processes": ("fwload.collectors.processes", "ProcessCollector"),
    "prometheus": ("fwload.collectors.prometheus", "PrometheusCollector"),
    "host": ("fwload.collectors.host", "HostCollector"),
}
SETTINGS: dict[str, frozenset[str]] = {
    "kubernetes": frozenset({"namespace", "kubeconfig", "context", "in_cluster", "label_selector",
                             "cadvisor_metrics", "interval_s", "request_timeout_s", "connection", "clock"}),
    "processes": frozenset({"pids", "cgroups", "limits", "respawn_exempt", "interval_s", "clock"}),
    "prometheus": frozenset({"url", "namespace", "bearer_token_file", "bearer_token_env", "interval_s", "step_s",
                             "scrape_interval_s", "rate_window_s", "timeout_s", "clock", "session"}),
    "host": frozenset({"components", "respawn_exempt", "interval_s", "clock", "cgroup_root"}),
}
"""Each backend's constructor keywords (a test keeps them equal to the signatures), so
settings can be checked without importing the backend that was not chosen."""


def available_backends() -> list[str]:
    return ["auto", *BACKENDS]


def _backend_class(name: str) -> type[Collector]:
    module, attribute = BACKENDS[name]
    return getattr(importlib.import_module(module), attribute)


def make_collector(backend: str = "auto", **settings: Any) -> Collector:
    """Build a collector backend from settings (a scenario's ``collector:`` block, CLI options).

    ``auto`` picks ``processes`` when ``pids`` (component -> root PID) is given, else
    ``kubernetes``. ``interval`` accepts ``"15s"``-style durations. ``None`` values are
    dropped; a setting that belongs to the other backend (``namespace`` for a local run)
    is ignored; a setting no backend knows is an error naming the accepted ones.
    """
    if backend == "auto":
        backend = "processes" if settings.get("pids") is not None else "kubernetes"
    if backend not in BACKENDS:
        raise UsageError(f"unknown collector backend {backend!r}",
                         f"use one of: {', '.join(available_backends())}")
    settings = {k: v for k, v in settings.items() if v is not None}
    if "interval" in settings:
        try:
            settings["interval_s"] = parse_duration(settings.pop("interval"))
        except ValueError as error:
            raise UsageError(f"bad collector interval: {error}",
                             "use seconds or a duration like '15s'") from None
    accepted = SETTINGS[backend]
    known_elsewhere = frozenset().union(*(SETTINGS[b] for b in BACKENDS if b != backend))
    unknown = sorted(set(settings) - accepted - known_elsewhere)
    if unknown:
        raise UsageError(f"unknown collector setting(s) for {backend}: {', '.join(unknown)}",
                         f"accepted: interval, {', '.join(sorted(accepted - {'clock', 'connection', 'session'}))}")
    ignored = sorted(set(settings) - accepted)
    if ignored:
        log.debug("collector %s ignores settings of another backend: %s", backend, ", ".join(ignored))
    return _backend_class(backend)(**{k: v for k, v in settings.items() if k in accepted})
