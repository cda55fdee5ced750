"""Write run directories with known contents, in the exact format of `fwload.recording.schema`.

Tests compute the expected answers from the rows they wrote, so every figure in a report can
be checked against data whose truth is known. The tables are written by the recorder's own
code (`fwload.recording.columnar`): Parquet for a run that ended, stream segments for one
still ``running``; ``layout="csv"`` writes the ``fwload-run/1`` CSV layout instead.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path
from typing import Any

import yaml

from fwload.recording import columnar, schema

T0 = 1_700_000_000.0
MI = 1024**2

DEFAULT_SCENARIO: dict[str, Any] = {
    "name": "known-answers",
    "users": [{"class": "Listener", "weight": 3}, {"class": "Uploader", "weight": 1}],
    "target": {"ready_timeout": "60s"},
    "load": {
        "profile": "steps",
        "users": 30,
        "spawn_rate": 10,
        "duration": "3m",
        "steps": {"count": 3, "duration": "1m"},
    },
    "slos": {
        "groups": {"browse": {"p50": "600ms", "p95": "1s", "p99": "2s"}, "listen": {"p95": "800ms"}},
        "error_ratio": 0.01,
        "import_wait_p95": "30s",
        "stream_ttfb_p95": "1s",
    },
    "resources": {
        "limits": "documented",
        "memory_peak_pct": 100,
        "cpu_p95_pct": 90,
        "max_restarts": 0,
        "max_oom_kills": 0,
    },
}


class RunDir:
    """Collects rows, then writes them as a run directory."""

    def __init__(
        self,
        path: Path,
        *,
        status: str = "complete",
        scenario: dict | None = DEFAULT_SCENARIO,
        run_id: str = "test-run",
    ):
        self.path = Path(path)
        self.status = status
        self.scenario = scenario
        self.run_id = run_id
        self.rows: dict[str, list[dict]] = {name: [] for name in schema.TABLES}
        self.events: list[dict] = []
        self.meta: dict[str, Any] = {}
        self.ended_at: float | None = None

    def request(
        self,
        ts: float,
        group: str,
        response_ms: float,
        *,
        status: int = 200,
        error_kind: str = "",
        name: str | None = None,
        method: str = "GET",
        error: str = "",
        size: int = 1000,
    ) -> RunDir:
        self.rows["requests"].append(
            {
                "ts": ts,
                "group": group,
                "name": name or f"/api/v1/{group}/",
                "method": method,
                "status": status,
                "response_ms": response_ms,
                "bytes": size,
                "error_kind": error_kind,
                "error": error,
                "user_class": "Listener",
                "worker": "local",
            }
        )
        return self

    def import_(
        self, ts: float, outcome: str, wait_ms: float | None, *, upload: str = "u", fixture: str = "valid"
    ) -> RunDir:
        self.rows["imports"].append(
            {
                "ts": ts,
                "upload": upload,
                "outcome": outcome,
                "wait_ms": "" if wait_ms is None else wait_ms,
                "polls": 3,
                "fixture": fixture,
                "format": "mp3",
                "bytes": 81000,
                "user_class": "Uploader",
                "worker": "local",
            }
        )
        return self

    def stream(
        self,
        ts: float,
        ttfb_ms: float,
        total_ms: float,
        size: int,
        *,
        status: int = 206,
        error_kind: str = "",
    ) -> RunDir:
        self.rows["streams"].append(
            {
                "ts": ts,
                "track": 1,
                "status": status,
                "ttfb_ms": ttfb_ms,
                "total_ms": total_ms,
                "bytes": size,
                "range": "bytes=0-262143",
                "error_kind": error_kind,
                "transcode": "",
                "user_class": "Listener",
                "worker": "local",
            }
        )
        return self

    def play(
        self,
        ts: float,
        startup_ms: float | None,
        played_s: float,
        *,
        stalls: tuple[tuple[float, float], ...] = (),
        seek_waits: tuple[tuple[float, float], ...] = (),
        duration_s: float | None = None,
        playback: str = "realtime",
        outcome: str = "ended",
        error_kind: str = "",
        size: int = 160_000,
    ) -> RunDir:
        """A play; ``stalls`` and ``seek_waits`` are ``(offset after ts, seconds)`` pairs."""
        realtime = playback == "realtime"
        gaps = sorted([("stall", *gap) for gap in stalls] + [("seek", *gap) for gap in seek_waits],
                      key=lambda gap: gap[1])
        self.rows["plays"].append(
            {
                "ts": ts,
                "track": 1,
                "client": "web",
                "playback": playback,
                "transcode": "",
                "startup_ms": _blank(startup_ms),
                "stalls": len(stalls) if realtime else "",
                "stall_ms": round(sum(s for _, s in stalls) * 1000, 3) if realtime else "",
                "seek_wait_ms": round(sum(s for _, s in seek_waits) * 1000, 3) if realtime else "",
                "played_s": played_s if realtime else "",
                "duration_s": duration_s if duration_s is not None else played_s,
                "bytes": size,
                "requests": 1 + len(seek_waits),
                "outcome": outcome,
                "error_kind": error_kind,
                "gaps": " ".join(f"{kind}@{offset:.3f}+{seconds:.3f}" for kind, offset, seconds in gaps)
                if realtime else "",
                "user_class": "Listener",
                "worker": "local",
            }
        )
        return self

    def resource(
        self,
        ts: float,
        component: str,
        cpu_m: float | None,
        memory_bytes: float | None,
        *,
        pod: str | None = None,
        limits: tuple | None = None,
        **counters: Any,
    ) -> RunDir:
        cpu_request, cpu_limit, memory_request, memory_limit = limits or ("", "", "", "")
        row = {
            "ts": ts,
            "source": "kubernetes",
            "component": component,
            "pod": pod or f"{component}-0",
            "container": component,
            "node": "node-1",
            "cpu_m": _blank(cpu_m),
            "memory_bytes": _blank(memory_bytes),
            "memory_anon_bytes": "",
            "memory_peak_bytes": "",
            "cpu_request_m": cpu_request,
            "cpu_limit_m": cpu_limit,
            "memory_request_bytes": memory_request,
            "memory_limit_bytes": memory_limit,
            "restarts": 0,
            "oom_kills": 0,
            "throttled_periods": "",
            "periods": "",
            "throttled_s": "",
            "respawns": 0,
            "phase": "Running",
            "ready": "true",
            "stage": "",
        }
        row.update({key: _blank(value) for key, value in counters.items()})
        self.rows["resources"].append(row)
        return self

    def session(self, intended_ts: float, *, start_delay_ms: float | None = 5.0, first_ms: float | None = None,
                outcome: str = "completed", reason: str = "", length_s: float = 60.0,
                user_class: str = "Listener", worker: str = "local") -> RunDir:
        """A sessions.csv row; ``start_delay_ms=None`` (or a dropped outcome) is a session never started."""
        started = None if outcome == "dropped" or start_delay_ms is None else intended_ts + start_delay_ms / 1000
        self.rows["sessions"].append({
            "intended_ts": intended_ts, "start_ts": _blank(started),
            "start_delay_ms": _blank(None if started is None else start_delay_ms),
            "first_ms": _blank(None if started is None else (first_ms if first_ms is not None else start_delay_ms + 20)),
            "length_s": length_s, "ended_ts": _blank(None if started is None else started + length_s),
            "iterations": 0 if started is None else 3, "outcome": outcome, "reason": reason,
            "user_class": user_class, "worker": worker,
        })
        return self

    def event(self, ts: float, type: str, **data: Any) -> RunDir:
        self.events.append({"ts": ts, "type": type, **data})
        return self

    def stages(self, *stages: tuple[float, int], spawn_rate: float = 10) -> RunDir:
        """Stage events: ``(ts, users)`` pairs, named "step 1", "step 2", ..."""
        for number, (ts, users) in enumerate(stages, start=1):
            self.event(ts, "stage", stage=f"step {number}", users=users, spawn_rate=spawn_rate)
        return self

    def write(
        self,
        *,
        counts: bool = True,
        cut: str | None = None,
        ended_at: float | None = None,
        layout: str = "columnar",
    ) -> Path:
        """Write (or rewrite) the directory; ``cut`` names a table whose last row is torn in half.

        ``layout``: ``columnar`` (this version's format) or ``csv`` (``fwload-run/1``).
        """
        self.ended_at = ended_at or self.ended_at
        cut = cut.removesuffix(".csv") if cut else None
        shutil.rmtree(self.path, ignore_errors=True)
        self.path.mkdir(parents=True)
        everything = [row.get("ts", row.get("intended_ts")) for rows in self.rows.values() for row in rows] + [
            e["ts"] for e in self.events
        ]
        meta = {
            "format": schema.FORMAT if layout == "columnar" else "fwload-run/1",
            "run_id": self.run_id,
            "status": self.status,
            "started_at": min(everything, default=T0),
            "ended_at": self.ended_at or max(everything, default=T0),
            "host": "http://127.0.0.1:8000",
            "scenario": (self.scenario or {}).get("name"),
            "fwload_version": "test",
        }
        if counts and self.status != "running":
            meta["counts"] = {
                name if layout == "columnar" else schema.TABLES[name].csv_name: len(rows)
                for name, rows in self.rows.items() if rows or name not in schema.OPTIONAL_TABLES
            }
        if self.status == "running":
            meta.pop("ended_at")
        meta.update(self.meta)
        (self.path / schema.RUN_JSON).write_text(json.dumps(meta, indent=2))
        if self.scenario is not None:
            (self.path / schema.SCENARIO_YAML).write_text(yaml.safe_dump(self.scenario, sort_keys=False))
        for name, table in schema.TABLES.items():
            if name in schema.OPTIONAL_TABLES and not self.rows[name]:
                continue
            if layout == "csv":
                self._write_csv(table, cut == name)
            elif self.status == "running" or cut == name:
                self._write_stream(table, cut == name)
            else:
                rows = [tuple(row.get(c) for c in table.column_names) for row in self.rows[name]]
                columnar.write_parquet(self.path, table, [columnar.to_batch(table, rows)])
        with (self.path / schema.EVENTS_JSONL).open("w") as handle:
            for event in sorted(self.events, key=lambda e: e["ts"]):
                handle.write(json.dumps(event) + "\n")
        return self.path

    def _write_stream(self, table: schema.Table, cut: bool) -> None:
        """A stream segment, as a run that is still going (or was killed) leaves it."""
        rows = [tuple(row.get(c) for c in table.column_names) for row in self.rows[table.name]]
        writer = columnar.SegmentWriter(self.path, table)
        whole = rows[:-1] if cut else rows
        if whole:
            writer.write(whole)
        before = writer.path.stat().st_size
        if cut and rows:
            writer.write(rows[-1:])
        writer.close()
        if cut and rows:
            data = writer.path.read_bytes()
            writer.path.write_bytes(data[: before + (len(data) - before) // 2])

    def _write_csv(self, table: schema.Table, cut: bool) -> None:
        target = self.path / table.csv_name
        with target.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=table.column_names, lineterminator="\n")
            writer.writeheader()
            writer.writerows(self.rows[table.name])
        if cut:
            text = target.read_bytes()
            target.write_bytes(text[: len(text) - len(text.splitlines()[-1]) // 2 - 1])


def _blank(value: Any) -> Any:
    return "" if value is None else value
