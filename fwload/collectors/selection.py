"""Which collector a run uses, decided the same way by ``fwload run`` and the Locust plugin."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from fwload.collectors import available_backends, make_collector
from fwload.collectors.base import Collector
from fwload.errors import UsageError

if TYPE_CHECKING:
    from fwload.scenario.prometheus import PrometheusSettings


def check_collector(requested: str | None, *, local_target: bool, kubeconfig: str | None = None,
                    where: str = "--collector") -> None:
    """Refuse a collector that cannot work, before anything starts (``where`` names the option)."""
    backends = (*available_backends(), "none")
    if requested and requested not in backends:
        raise UsageError(f"{where} {requested!r} is not a collector", f"use one of {', '.join(backends)}")
    if requested == "processes" and not local_target:
        raise UsageError(f"{where} processes samples the processes of a local stand-in, and this run targets "
                         "a remote host", "use host (the target runs on this machine), kubernetes, prometheus "
                         "or none, or leave --host out to run against the stand-in")
    if kubeconfig and not Path(kubeconfig).expanduser().is_file():
        raise UsageError(f"--kubeconfig {kubeconfig} does not exist", "pass the path of an existing kubeconfig file")


class BackendChoice(NamedTuple):
    backend: str
    reason: str
    """Why, to follow "collector X because": recorded in run.json, so a report can say why
    resource checks were not evaluated."""


def choose_backend(requested: str | None, *, local_pids: bool, kubeconfig: str | None = None,
                   prometheus: bool = False, components: bool = False) -> str:
    """``auto``: the host's components when the scenario names them, the local processes when
    fwload started the target, else Prometheus when its URL is given, else Kubernetes when a
    kubeconfig (or in-cluster config) exists, else none."""
    return backend_choice(requested, local_pids=local_pids, kubeconfig=kubeconfig, prometheus=prometheus,
                          components=components).backend


def backend_choice(requested: str | None, *, local_pids: bool, kubeconfig: str | None = None,
                   prometheus: bool = False, components: bool = False) -> BackendChoice:
    """`choose_backend`, with the reason for the choice."""
    if requested and requested != "auto":
        return BackendChoice(requested, "it was asked for (--collector or the scenario's collector.backend)")
    if components:
        return BackendChoice("host", "the scenario names the components (collector.components)")
    if local_pids:
        return BackendChoice("processes", "fwload started the target on this machine")
    if prometheus:
        return BackendChoice("prometheus", "a Prometheus URL was given")
    if kubeconfig or os.environ.get("KUBECONFIG") or os.environ.get("KUBERNETES_SERVICE_HOST") \
            or Path("~/.kube/config").expanduser().exists():
        return BackendChoice("kubernetes", "a kubeconfig or an in-cluster service account was found")
    return BackendChoice("none", "auto found nothing to sample: fwload did not start the target (--host), the "
                         "scenario names no host components, no Prometheus URL was given and there is no "
                         "kubeconfig ($KUBECONFIG, ~/.kube/config, --kubeconfig) or in-cluster service account")


def parse_local_pids(text: str) -> dict[str, int] | Callable[[], dict[str, int]]:
    """``component=pid[,component=pid...]`` as passed on Locust's command line, or ``@FILE``: a
    JSON object component -> pid that the target's launcher rewrites whenever a component
    restarts, read at every sample."""
    if text.startswith("@"):
        path = Path(text[1:])
        if not path.is_file():
            raise UsageError(f"--local-pids: {path} does not exist", "pass the pids file the stand-in wrote")
        return lambda: {name: int(pid) for name, pid in json.loads(path.read_text()).items()}
    pids = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, _, pid = item.partition("=")
        if not name or not pid.isdigit():
            raise UsageError(f"--local-pids: {item!r} is not component=pid", "write it like standin=1234,nginx=1240")
        pids[name] = int(pid)
    return pids


def prometheus_settings(section: PrometheusSettings | None, *, url: str | None = None,
                        token_file: str | None = None, token_env: str | None = None,
                        interval: float | None = None) -> dict[str, Any]:
    """The prometheus backend's settings: the scenario's ``collector.prometheus`` with the
    command line's URL and token source over it (a token source given there replaces the
    scenario's, whichever kind it is)."""
    settings: dict[str, Any] = {"interval_s": interval}
    if section is not None:
        settings.update(url=section.url, bearer_token_file=section.bearer_token_file,
                        bearer_token_env=section.bearer_token_env, step_s=section.step,
                        scrape_interval_s=section.scrape_interval, rate_window_s=section.rate_window,
                        timeout_s=section.timeout)
    if url:
        settings["url"] = url
    if token_file or token_env:
        settings.update(bearer_token_file=token_file or None, bearer_token_env=token_env or None)
    return settings
NO_PIDS_FIX = "let fwload start the stand-in (no --host), or pass --local-pids component=pid"
"""For a Locust command line, which has --local-pids; `fwload run` passes its own fix."""


def build_collector(backend: str, *, local_pids: dict[str, int] | Callable[[], dict[str, int]] | None = None, cgroups: dict[str, str] | None = None,
                    namespace: str | None = None, context: str | None = None,
                    kubeconfig: str | None = None, prometheus: dict[str, Any] | None = None,
                    components: Mapping[str, Mapping[str, Any]] | None = None,
                    no_pids_fix: str = NO_PIDS_FIX) -> Collector | None:
    if backend == "none":
        return None
    if backend == "prometheus":
        return make_collector("prometheus", namespace=namespace or "funkwhale", **(prometheus or {}))
    if backend == "host":
        if not components:
            raise UsageError("the host collector needs the components to sample",
                             "add collector.components to the scenario (`fwload host detect` proposes them)")
        return make_collector("host", components=components)
    if backend == "processes":
        if not local_pids:
            raise UsageError("the processes collector needs the target's process ids", no_pids_fix)
        settings: dict[str, Any] = {"pids": local_pids, "limits": _documented_limits()}
        if cgroups:
            settings["cgroups"] = cgroups
        return make_collector("processes", **settings)
    return make_collector(backend, namespace=namespace or "funkwhale", context=context or None,
                          kubeconfig=kubeconfig or None)


def _documented_limits() -> dict[str, Any]:
    from fwload.limits import documented_limits

    try:
        return dict(documented_limits())
    except UsageError:
        return {}
