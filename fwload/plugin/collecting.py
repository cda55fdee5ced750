"""Running the resource collector beside the load, on the master (or the local runner).

Samples and events go to the run directory tagged with the current load stage; a
collector problem mid-run becomes a recorded gap, never a failed run.
"""

from __future__ import annotations

import logging

import gevent

from fwload.collectors import CollectorLoop
from fwload.collectors.base import Collector, CollectorEvent, ResourceSample
from fwload.collectors.selection import backend_choice, build_collector, parse_local_pids, prometheus_settings
from fwload.plugin.view import SessionView
from fwload.recording import schema

logger = logging.getLogger("fwload")


def make_session_collector(session: SessionView) -> Collector | None:
    """Build and probe the collector the options and scenario ask for (raises FwloadError)."""
    opts, scenario = session.options, session.scenario
    components = scenario.collector.host_components() if scenario else None
    choice = backend_choice(opts.collector or (scenario.collector.backend if scenario else "auto"),
                            local_pids=bool(opts.local_pids), kubeconfig=opts.kubeconfig or None,
                            prometheus=bool(getattr(opts, "prometheus_url", "")
                                            or (scenario and scenario.collector.prometheus)),
                            components=bool(components))
    collector = build_collector(
        choice.backend, local_pids=parse_local_pids(opts.local_pids), cgroups=_cgroups(opts),
        namespace=opts.namespace or (scenario.collector.namespace if scenario else None),
        context=opts.kube_context or (scenario.collector.context if scenario else None),
        kubeconfig=opts.kubeconfig or None, components=components,
        prometheus=prometheus_settings(
            scenario.collector.prometheus if scenario else None, url=getattr(opts, "prometheus_url", ""),
            token_file=getattr(opts, "prometheus_token_file", ""), token_env=getattr(opts, "prometheus_token_env", ""),
            interval=scenario.collector.interval if scenario else None),
    )
    run = session.run
    assert run is not None
    if collector is None:
        run.update_meta(collector={"backend": "none", "reason": choice.reason})
        return None
    for notice in collector.check_connection():
        logger.warning("fwload: %s", notice)
        run.event("collector_notice", source=collector.name, detail=notice)
    return collector


def start_collector(session: SessionView, collector: Collector) -> CollectorLoop:
    """Sample every interval in a greenlet; samples carry the stage they were taken in."""
    run, scenario = session.run, session.scenario
    assert run is not None
    interval = collector.default_interval_s
    if scenario is not None and collector.name in ("kubernetes", "prometheus"):
        interval = scenario.collector.interval
    elif scenario is not None:
        interval = min(scenario.collector.interval, interval)
    run.update_meta(collector={**collector.describe(), "interval_s": interval})

    def sink(samples: list[ResourceSample], events: list[CollectorEvent]) -> None:
        for sample in samples:
            sample.stage = session.stage
        run.append_rows(schema.RESOURCES.name, [tuple(s.as_row().values()) for s in samples])
        as_json = [e.as_json() for e in events]
        run.events(as_json)
        session.resources.update(samples, as_json)

    loop = CollectorLoop(collector, interval, sink, spawn=gevent.spawn, sleep=gevent.sleep,
                         stage=lambda: session.stage)
    loop.start()
    return loop


def _cgroups(opts: object) -> dict[str, str] | None:
    text = getattr(opts, "local_cgroups", "") or ""
    if not text:
        return None
    return dict(item.split("=", 1) for item in text.split(",") if "=" in item)
