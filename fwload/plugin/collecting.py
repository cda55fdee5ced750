"""Starting the resource collector beside the load, on the master (or the local runner).

Samples and events go to the run directory tagged with the current load stage; a
collector problem mid-run becomes a recorded gap, never a failed run.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gevent

from fwload.collectors import CollectorLoop, make_collector
from fwload.collectors.base import CollectorEvent, ResourceSample
from fwload.errors import UsageError
from fwload.recording import schema

if TYPE_CHECKING:
    from fwload.plugin.session import FwloadSession

logger = logging.getLogger("fwload")


def parse_local_pids(text: str) -> dict[str, int]:
    pids = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, _, pid = item.partition("=")
        if not name or not pid.isdigit():
            raise UsageError(f"--local-pids: {item!r} is not component=pid", "write it like standin=1234,nginx=1240")
        pids[name] = int(pid)
    return pids


def choose_backend(session: FwloadSession) -> str:
    opts = session.options
    backend = opts.collector or (session.scenario.collector.backend if session.scenario else "auto")
    if backend != "auto":
        return backend
    if opts.local_pids:
        return "processes"
    if opts.kubeconfig or os.environ.get("KUBECONFIG") or os.environ.get("KUBERNETES_SERVICE_HOST") \
            or Path("~/.kube/config").expanduser().exists():
        return "kubernetes"
    return "none"


def start_collector(session: FwloadSession, host: str) -> CollectorLoop | None:
    """Build, probe and start the collector the options and scenario ask for."""
    backend = choose_backend(session)
    run = session.run
    assert run is not None
    if backend == "none":
        run.update_meta(collector={"backend": "none"})
        return None
    opts, scenario = session.options, session.scenario
    if backend == "processes":
        settings: dict[str, Any] = {"pids": parse_local_pids(opts.local_pids), "limits": _documented_limits()}
    else:
        settings = {
            "namespace": opts.namespace or (scenario.collector.namespace if scenario else "funkwhale"),
            "context": opts.kube_context or (scenario.collector.context if scenario else None) or None,
            "kubeconfig": opts.kubeconfig or None,
        }
    collector = make_collector(backend, **settings)
    for notice in collector.check_connection():
        logger.warning("fwload: %s", notice)
        run.event("collector_notice", source=backend, detail=notice)
    interval = collector.default_interval_s
    if scenario is not None and backend == "kubernetes":
        interval = scenario.collector.interval
    elif scenario is not None:
        interval = min(scenario.collector.interval, interval)
    run.update_meta(collector={**collector.describe(), "interval_s": interval})

    def sink(samples: list[ResourceSample], events: list[CollectorEvent]) -> None:
        for sample in samples:
            sample.stage = session.stage
        run.append_rows(schema.RESOURCES_CSV, [tuple(s.as_row().values()) for s in samples])
        as_json = [e.as_json() for e in events]
        run.events(as_json)
        session.resources.update(samples, as_json)

    loop = CollectorLoop(collector, interval, sink, spawn=gevent.spawn, sleep=gevent.sleep)
    loop.start()
    return loop


def _documented_limits() -> dict[str, Any]:
    from fwload.limits import documented_limits

    try:
        return dict(documented_limits())
    except UsageError as error:
        logger.warning("fwload: no documented limits: %s", error)
        return {}
