"""``verdict.json``: every check with its numbers, the exit code, notices and the capacity figures.

The machine-readable twin of summary.md, for CI steps and dashboards; NaN becomes null.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from analysis.metrics.requests import NOT_TIMED
from analysis.percentiles import DEFINITION, MIN_SAMPLES_RULE
from analysis.redact import scrub, scrub_mapping
from analysis.writers.registry import register
from analysis.writers.views import PRECEDENCE_TEXT
from fwload.recording.schema import DELAYED_MS

if TYPE_CHECKING:
    from analysis.analyse import RunAnalysis

FORMAT = "fwload-verdict/1"


@register("json", "verdict.json", "checks, exit code, notices and capacity as JSON")
def render_json(analysis: RunAnalysis) -> str:
    return json.dumps(verdict_document(analysis), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def verdict_document(analysis: RunAnalysis) -> dict[str, Any]:
    run, capacity = analysis.run, analysis.capacity
    overall = analysis.requests.overall
    return jsonable(
        {
            "format": FORMAT,
            "run_id": run.run_id,
            "scenario": analysis.scenario.name,
            "host": scrub(run.meta.get("host") or ""),
            "run_status": run.meta.get("status"),
            "partial": run.partial,
            "partial_reasons": run.partial_reasons,
            "exit_code": int(analysis.status),
            "status": analysis.status.name.lower(),
            "precedence": PRECEDENCE_TEXT,
            "definitions": {
                "percentile": DEFINITION,
                "min_samples": MIN_SAMPLES_RULE,
                "latency_samples": f"every request except {' and '.join(NOT_TIMED)} ones",
                "error_ratio": "failed / all requests, throttled and rejected requests excluded from both",
                "stall_ratio": "stalled seconds / played seconds of real-time plays",
                "plays_with_stall": "real-time plays with at least one stall / real-time plays that started",
            },
            "startup": {
                "gate": analysis.startup.gate,
                "ready": analysis.startup.ready,
                "seconds": analysis.startup.seconds,
                "detail": scrub(analysis.startup.detail),
                "failures": scrub_mapping(analysis.startup.failures),
            },
            "checks": [{**check.as_dict(), "detail": scrub(check.detail)} for check in analysis.checks],
            "notices": [notice.as_dict() for notice in analysis.notices],
            "totals": records(overall)[0] if len(overall) else {},
            "groups": {
                str(key): value
                for key, value in zip(analysis.requests.by_group.index, records(analysis.requests.by_group))
            },
            "imports": {
                "uploads_offered": analysis.imports.uploads_offered,
                "accepted": analysis.imports.accepted,
                "outcomes": analysis.imports.outcomes,
                "wait_ms": analysis.imports.wait,
                "wait_finished_ms": analysis.imports.wait_finished,
                "offered_per_s": analysis.imports.offered_per_s,
                "processed_per_s": analysis.imports.processed_per_s,
            },
            "streams": {
                "streams": analysis.streams.streams,
                "failed": analysis.streams.failed,
                "ttfb_ms": analysis.streams.ttfb,
                "rate_bytes_per_s": analysis.streams.rate,
                "max_concurrent": analysis.streams.max_concurrent,
            },
            "listeners": {
                "plays": analysis.plays.plays,
                "realtime_plays": analysis.plays.realtime,
                "outcomes": analysis.plays.outcomes,
                "never_started": analysis.plays.never_started,
                "max_at_once": analysis.plays.max_at_once,
                "startup_ms": analysis.plays.startup,
                "played_s": analysis.plays.played_s,
                "stall_s": analysis.plays.stall_s,
                "stalls": analysis.plays.stalls,
                "stall_ratio": analysis.plays.stall_ratio,
                "plays_with_stall": analysis.plays.plays_with_stall,
                "seek_wait_s": analysis.plays.seek_wait_s,
            },
            "sessions": None if analysis.sessions is None or not analysis.sessions.active else {
                "due": analysis.sessions.due,
                "started": analysis.sessions.started,
                "dropped": analysis.sessions.dropped,
                "dropped_by_reason": analysis.sessions.dropped_by_reason,
                "outcomes": analysis.sessions.outcomes,
                "delayed": analysis.sessions.delayed,
                "delayed_threshold_ms": DELAYED_MS,
                "start_delay_ms": analysis.sessions.start_delay,
                "first_answer_from_due_ms": analysis.sessions.first,
                "planned": analysis.sessions.planned,
                "asked_per_s": analysis.sessions.asked_rate,
                "started_per_s": analysis.sessions.achieved_rate,
                "max_concurrent": analysis.sessions.max_concurrent,
                "stages": records(analysis.sessions.by_stage),
            },
            "components": {
                str(key): value
                for key, value in zip(analysis.resources.summary.index, records(analysis.resources.summary))
            },
            "incidents": records(analysis.resources.incidents),
            "capacity": {
                "applicable": capacity.applicable,
                "verdict": capacity.verdict,
                "highest_within_slos": None if capacity.highest is None else _level(capacity.highest),
                "first_failure": None if capacity.first_failure is None else _level(capacity.first_failure),
                "first_saturated": records(capacity.first_saturated),
                "saturation_unjudged": capacity.saturation_unjudged,
                "levels": records(capacity.levels.reset_index()),
                "projections": records(capacity.projections),
                "recommendations": records(capacity.recommendations),
                "rightsizing_basis": capacity.rightsizing_basis,
            },
        }
    )


def _level(level: pd.Series) -> dict[str, Any]:
    return {
        "stage": level.name,
        "label": level["label"],
        "users": level["users"],
        "rps": level["rps"],
        "ok_rps": level["ok_rps"],
        "broken": level["broken"],
    }


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return frame.to_dict(orient="records") if len(frame) else []


def jsonable(value: Any) -> Any:
    """Plain JSON types: numpy scalars unwrapped, NaN and NA as None, tuples as lists."""
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [jsonable(item) for item in value]
    if isinstance(value, np.generic):
        value = value.item()
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
