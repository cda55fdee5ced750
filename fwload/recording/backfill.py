"""Resource samples for a finished run, from a collector that keeps history (Prometheus).

``fwload report RUN --collect-from prometheus`` fills the ``resources`` table (and the restart,
OOM-kill and notice events) of a run that had no collector, e.g. a plain ``locust`` run in
CI, from the run's own window in run.json; ``--history 7d`` adds the ``resource_history``
table for right-sizing. Everything is fetched before anything is written, and each table
and events.jsonl is replaced whole, so a failed query leaves the run directory as it was. Collecting again
replaces what an earlier ``--collect-from`` added (its events carry ``collected_after``),
but never samples recorded while the run went.
"""

from __future__ import annotations

import bisect
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from fwload.collectors.base import Collection
from fwload.errors import FwloadError, RunDirectoryError, UsageError
from fwload.recording import columnar, schema
from fwload.recording.rundir import RunDirectory, write_atomic

MARK = "collected_after"


class HistorySource(Protocol):
    """What a collector needs to fill a run after the fact (`PrometheusCollector` is one)."""

    name: str

    def check_window(self, start: float, end: float) -> list[str]: ...

    def collect_window(self, start: float, end: float, stage: Callable[[float], str]) -> Collection: ...

    def collect_history(self, start: float, end: float) -> tuple[list[tuple[object, ...]], Any]: ...

    def describe(self) -> dict[str, Any]: ...


@dataclass
class Filled:
    samples: int = 0
    events: int = 0
    notices: list[str] = field(default_factory=list)
    history_samples: int | None = None
    window: tuple[float, float] = (0.0, 0.0)


def run_window(meta: dict[str, Any], path: Path) -> tuple[float, float]:
    """The run's start and end from run.json (a run still going has no end)."""
    start, end = meta.get("started_at"), meta.get("ended_at")
    if meta.get("status") == "running" or not isinstance(end, int | float):
        raise RunDirectoryError(f"{path} has not ended (run.json says status {meta.get('status')!r}, no ended_at)",
                                "collect its resources once the run is over")
    if not isinstance(start, int | float) or end <= start:
        raise RunDirectoryError(f"{path}/run.json has no usable started_at/ended_at",
                                "restore run.json from the run's artifacts")
    return float(start), float(end)


def fill(path: str | Path, source: HistorySource, *, collect: bool = True,
         history_s: float | None = None) -> Filled:
    """Collect the run's window from ``source`` (``collect``) and/or ``history_s`` of history before its end."""
    run = RunDirectory.open(path)
    meta = run.read_meta()
    if meta.get("format") != schema.FORMAT:
        raise RunDirectoryError(f"{run.path} is not in the {schema.FORMAT} format", "collect with the fwload that wrote it")
    start, end = run_window(meta, run.path)
    filled = Filled(window=(start, end))
    if collect:
        _refuse_recorded_samples(run, meta)
    if collect:
        filled.notices = source.check_window(start, end)
    elif history_s:
        filled.notices = source.check_window(end - history_s, end)
    writes: dict[str, str] = {}
    tables: dict[str, list[tuple[object, ...]]] = {}
    collector_meta = meta.get("collector") or {}
    if collect:
        events = _read_events(run.path)
        collection = source.collect_window(start, end, _stage_of(events))
        if not collection.samples:
            why = "; ".join(filled.notices) or "no series of its namespace in that window"
            raise FwloadError(f"{source.name} holds no resource samples for the run's window "
                              f"({_when(start)} to {_when(end)}): {why}",
                              "check the namespace (--namespace) and that the Prometheus kept that time range")
        tables[schema.RESOURCES.name] = [tuple(sample.as_row().values()) for sample in collection.samples]
        added = [{"ts": start, "type": "collector_notice", "source": source.name,
                  "detail": notice, MARK: True} for notice in filled.notices]
        added += [{**event.as_json(), MARK: True} for event in collection.events]
        kept = [event for event in events if not event.get(MARK)]
        writes[schema.EVENTS_JSONL] = "".join(json.dumps(e, default=str, separators=(",", ":")) + "\n"
                                              for e in [*kept, *sorted(added, key=lambda e: e["ts"])])
        filled.samples, filled.events = len(collection.samples), len(added)
        collector_meta = {**source.describe(), MARK: True, "window": [start, end]}
    history_meta = meta.get("resource_history")
    if history_s:
        rows, timing = source.collect_history(end - history_s, end)
        tables[schema.RESOURCE_HISTORY.name] = list(rows)
        history_meta = {"source": source.name, "start": end - history_s, "end": end, "window_s": history_s,
                        "step_s": timing.step_s, "rate_window_s": timing.rate_window_s, "samples": len(rows),
                        "fetched_at": time.time()}
        filled.history_samples = len(rows)
    counts = dict(meta.get("counts") or {})
    for name, rows in tables.items():
        counts[name] = columnar.replace_table(run.path, schema.TABLES[name], rows)
    for name, text in writes.items():
        write_atomic(run.path / name, text)
    run.update_meta(collector=collector_meta, resource_history=history_meta, counts=counts)
    return filled


def _refuse_recorded_samples(run: RunDirectory, meta: dict[str, Any]) -> None:
    recorded = run.counts.get(schema.RESOURCES.name, 0)
    collector = meta.get("collector") or {}
    if recorded and not collector.get(MARK):
        raise UsageError(
            f"{run.path} already holds {recorded} resource samples recorded during the run "
            f"(collector {collector.get('backend', '?')}); collecting them again would mix two sources",
            "report from them: drop --collect-from (--history alone still adds a longer history for right-sizing)",
        )


def _read_events(path: Path) -> list[dict[str, Any]]:
    events = []
    file = path / schema.EVENTS_JSONL
    if not file.is_file():
        return events
    for line in file.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(event, dict):
            events.append(event)
    return events


def _stage_of(events: list[dict[str, Any]]) -> Callable[[float], str]:
    """The load stage at a time, from the run's ``stage`` events ("" before the first)."""
    stages = sorted((float(e["ts"]), str(e.get("stage", ""))) for e in events
                    if e.get("type") == "stage" and isinstance(e.get("ts"), int | float))
    starts = [ts for ts, _ in stages]

    def stage(ts: float) -> str:
        index = bisect.bisect_right(starts, ts) - 1
        return stages[index][1] if index >= 0 else ""

    return stage


def _when(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(ts))
