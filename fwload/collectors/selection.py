"""Which collector a run uses, decided the same way by ``fwload run`` and the Locust plugin."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fwload.collectors import make_collector
from fwload.collectors.base import Collector
from fwload.errors import UsageError


BACKENDS = ("auto", "kubernetes", "processes", "none")


def check_collector(requested: str | None, *, local_target: bool, kubeconfig: str | None = None,
                    where: str = "--collector") -> None:
    """Refuse a collector that cannot work, before anything starts (``where`` names the option)."""
    if requested and requested not in BACKENDS:
        raise UsageError(f"{where} {requested!r} is not a collector", f"use one of {', '.join(BACKENDS)}")
    if requested == "processes" and not local_target:
        raise UsageError(f"{where} processes samples the processes of a local stand-in, and this run targets "
                         "a remote host", "use kubernetes (or none), or leave --host out to run against the stand-in")
    if kubeconfig and not Path(kubeconfig).expanduser().is_file():
        raise UsageError(f"--kubeconfig {kubeconfig} does not exist", "pass the path of an existing kubeconfig file")


def choose_backend(requested: str | None, *, local_pids: bool, kubeconfig: str | None = None) -> str:
    """``auto``: the local processes when fwload started the target, else Kubernetes when a
    kubeconfig (or in-cluster config) exists, else none."""
    if requested and requested != "auto":
        return requested
    if local_pids:
        return "processes"
    if kubeconfig or os.environ.get("KUBECONFIG") or os.environ.get("KUBERNETES_SERVICE_HOST") \
            or Path("~/.kube/config").expanduser().exists():
        return "kubernetes"
    return "none"


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


def build_collector(backend: str, *, local_pids: dict[str, int] | Callable[[], dict[str, int]] | None = None, cgroups: dict[str, str] | None = None,
                    namespace: str | None = None, context: str | None = None,
                    kubeconfig: str | None = None) -> Collector | None:
    if backend == "none":
        return None
    if backend == "processes":
        if not local_pids:
            raise UsageError("the processes collector needs the target's process ids",
                             "let fwload start the stand-in (no --host), or pass --local-pids component=pid")
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
