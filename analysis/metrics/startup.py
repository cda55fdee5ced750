"""Start-up: did the target become ready, and did every component survive until the load began?

Reported first and apart from the load results: at the seed's documented limits the Celery
worker and beat are OOM-killed seconds after start and the API accepts connections while
every worker dies, so "0 requests per second" must be explained by a start-up failure, not
read as a load result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from analysis.load import Run
from analysis.timeline import NO_STAGE


LEGACY_REFUSER = "fwload"
"""Older run directories recorded a refused run (bad credentials) as a ``startup_failure`` of this
component; it is a refusal (`analysis.verdict.run`), not a component that died."""


@dataclass
class Startup:
    gate: bool
    """True when the run recorded a readiness gate (an event, run.json ``readiness`` or ``not_ready``)."""
    ready: bool
    seconds: float | None
    detail: str
    components: dict[str, Any] = field(default_factory=dict)
    failures: list[dict[str, Any]] = field(default_factory=list)
    """``startup_failure`` events: ``{component, detail, ts}``."""
    incidents_before_load: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def failed(self) -> bool:
        return (self.gate and not self.ready) or bool(self.failures)


def startup_report(run: Run, incidents: pd.DataFrame) -> Startup:
    readiness = next(iter(reversed(run.events_of("readiness"))), None)
    if readiness is None and isinstance(run.meta.get("readiness"), dict):
        readiness = run.meta["readiness"]
    not_ready = run.meta.get("status") == "not_ready"
    gate = readiness is not None or not_ready
    ready = bool(readiness.get("ready")) if readiness is not None else False
    if not_ready:
        ready = False
    seconds = readiness.get("seconds") if readiness is not None else None
    load_start = load_started_at(run)
    failures = [
        {
            "component": str(event.get("component", "?")),
            "detail": str(event.get("detail", "")),
            "ts": event["ts"],
        }
        for event in run.events_of("startup_failure")
        if (load_start is None or event["ts"] < load_start) and event.get("component") != LEGACY_REFUSER
    ]
    before = incidents.loc[incidents["stage"] == NO_STAGE] if len(incidents) else incidents
    return Startup(
        gate=gate,
        ready=ready,
        seconds=float(seconds) if isinstance(seconds, int | float) else None,
        detail=str((readiness or {}).get("detail") or ("run.json status is not_ready" if not_ready else "")),
        components=dict((readiness or {}).get("components") or {}),
        failures=failures,
        incidents_before_load=before,
    )


def load_started_at(run: Run) -> float | None:
    """When the load began (the first stage), or None if it never did."""
    stages = run.events_of("stage") or run.events_of("run_start")
    return min(float(event["ts"]) for event in stages) if stages else None


def died_during_load(run: Run) -> list[dict[str, Any]]:
    """Components the collector found dead after the load had begun (not start-up failures)."""
    start = load_started_at(run)
    if start is None:
        return []
    return [event for event in run.events_of("startup_failure") if float(event["ts"]) >= start]
