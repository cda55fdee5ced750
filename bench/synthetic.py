"""Synthetic run directories of millions of requests, written with vectorised numpy + pyarrow.

The shape of a long capacity run: a five-step scenario over ``hours``, requests spread over
it with lognormal latencies and a few errors and 429s, and ``pods`` pods of the six
Funkwhale components sampled every 15 s at the documented limits. Writing 10 M rows one by
one would take minutes; built as Arrow columns they take seconds. The tables are written by
the recorder's own Parquet writer (`fwload.recording.columnar.write_parquet`, what a run's
compaction writes), so `fwload report` reads them as it reads a real run; `write_csv_copy`
writes the same run in the CSV layout (``fwload export --csv``) for the read_csv baseline.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import yaml

from fwload.recording import columnar, schema
from fwload.recording.export import export_csv

T0 = 1_700_000_000.0
MI = 1024**2
SAMPLE_S = 15.0
CHUNK = 2_000_000
GROUPS = np.array(["browse", "listen", "search", "import_poll", "favorites", "history", "auth", "upload"])
NAMES = np.array(["/api/v1/tracks/", "/api/v1/listen/{uuid}/", "/api/v1/search", "/api/v1/uploads/",
                  "/api/v1/favorites/tracks/", "/api/v1/history/listenings/", "/api/v1/users/me/",
                  "/api/v1/uploads/"])
KINDS = np.array(["", "http", "throttled", "timeout"])
KIND_P = [0.99, 0.004, 0.005, 0.001]
COMPONENT_SHARE = {"api": 0.3, "celery-worker": 0.3, "nginx": 0.2, "postgres": 0.1, "redis": 0.05,
                   "celery-beat": 0.05}
LIMITS = {"redis": (10, 500, 32, 128), "postgres": (20, 1000, 64, 256), "api": (10, 500, 32, 128),
          "celery-beat": (10, 500, 32, 128), "celery-worker": (10, 500, 32, 128), "nginx": (15, 750, 64, 256)}


def scenario(hours: float) -> dict:
    minutes = max(1, round(hours * 60))
    step = max(1, minutes // 5)
    return {
        "name": "bench-capacity",
        "users": [{"class": "Listener", "weight": 3}, {"class": "Uploader", "weight": 1}],
        "load": {"profile": "steps", "users": 100, "spawn_rate": 10, "duration": f"{step * 5}m",
                 "steps": {"count": 5, "duration": f"{step}m"}},
        "caps": {"max_duration": f"{step * 5 + 1}m", "max_users": 100},
        "slos": {"groups": {"browse": {"p50": "300ms", "p95": "1s", "p99": "2s"}, "listen": {"p95": "1s"}},
                 "error_ratio": 0.01, "window": "15s"},
        "collector": {"backend": "kubernetes", "interval": "15s", "namespace": "funkwhale"},
    }


def write_run(path: Path, rows: int, *, pods: int = 200, hours: float = 1.0, seed: int = 1) -> Path:
    """Write a complete run directory at ``path`` (created) and return it."""
    path.mkdir(parents=True, exist_ok=True)
    duration = hours * 3600.0
    rng = np.random.default_rng(seed)
    written = columnar.write_parquet(path, schema.REQUESTS, _request_chunks(rows, duration, rng))
    samples = columnar.write_parquet(path, schema.RESOURCES, [_resources(pods, duration, rng)])
    for table in (schema.IMPORTS, schema.STREAMS):
        columnar.write_parquet(path, table, [])
    spec = scenario(hours)
    (path / schema.SCENARIO_YAML).write_text(yaml.safe_dump(spec, sort_keys=False))
    step_s = duration / 5
    events = [{"ts": T0, "type": "run_start", "scenario": spec["name"], "host": "http://127.0.0.1"}]
    events += [{"ts": T0 + i * step_s, "type": "stage", "stage": f"step {i + 1}", "users": 20 * (i + 1),
                "spawn_rate": 10} for i in range(5)]
    events.append({"ts": T0 + duration, "type": "run_end", "status": "complete"})
    (path / schema.EVENTS_JSONL).write_text("".join(json.dumps(e) + "\n" for e in events))
    meta = {"format": schema.FORMAT, "run_id": path.name, "status": "complete", "started_at": T0,
            "ended_at": T0 + duration, "host": "http://127.0.0.1", "scenario": {"name": spec["name"]},
            "collector": {"backend": "kubernetes", "interval_s": SAMPLE_S},
            "counts": {"requests": written, "imports": 0, "streams": 0, "resources": samples}, "exit_code": None}
    (path / schema.RUN_JSON).write_text(json.dumps(meta, indent=2))
    return path


def write_csv_copy(run_dir: Path, target: Path) -> Path:
    """The same run in the CSV layout (``fwload export --csv --out``), once."""
    marker = target / ".complete"
    if not marker.exists():
        shutil.rmtree(target, ignore_errors=True)
        export_csv(run_dir, target)
        marker.touch()
    return target


def _request_chunks(rows: int, duration: float, rng: np.random.Generator) -> Iterator[pa.RecordBatch]:
    """Requests in chunks of time order (a real run is appended in time order too)."""
    edges = np.linspace(0.0, duration, max(1, -(-rows // CHUNK)) + 1)
    counts = np.diff(np.linspace(0, rows, len(edges)).astype("int64"))
    for start, end, count in zip(edges[:-1], edges[1:], counts, strict=True):
        yield from _request_chunk(int(count), T0 + start, T0 + end, rng).to_batches()


_REQUEST_SCHEMA = columnar.stream_schema(schema.REQUESTS)


def _request_chunk(count: int, start: float, end: float, rng: np.random.Generator) -> pa.Table:
    which = rng.integers(0, len(GROUPS), count)
    kinds = KINDS[rng.choice(len(KINDS), count, p=KIND_P)]
    status = np.where(kinds == "http", 500, np.where(kinds == "throttled", 429,
                                                     np.where(kinds == "timeout", 0, 200)))
    errors = np.where(kinds == "http", "HTTP 500", np.where(kinds == "throttled", "HTTP 429",
                                                             np.where(kinds == "timeout", "timed out", "")))
    columns = {
        "ts": np.round(np.sort(rng.uniform(start, end, count)), 3),
        "group": GROUPS[which],
        "name": NAMES[which],
        "method": np.where(which == 7, "POST", "GET"),
        "status": status,
        "response_ms": np.round(rng.lognormal(4.5, 0.8, count), 3),
        "bytes": rng.integers(200, 20_000, count),
        "error_kind": kinds,
        "error": errors,
        "user_class": np.where(which >= 7, "Uploader", "Listener"),
        "worker": rng.integers(0, 4, count).astype(str),
    }
    return pa.table(columns, schema=_REQUEST_SCHEMA)


def _resources(pods: int, duration: float, rng: np.random.Generator) -> pa.RecordBatch:
    """``pods`` pods of the six components, one row per pod per 15 s sample."""
    names, components = [], []
    for component, share in COMPONENT_SHARE.items():
        for index in range(max(1, round(pods * share))):
            names.append(f"funkwhale-{component}-{index:03d}")
            components.append(component)
    names, components = np.array(names[:pods]), np.array(components[:pods])
    times = np.arange(T0, T0 + duration, SAMPLE_S)
    ts = np.repeat(times, len(names))
    pod = np.tile(names, len(times))
    component = np.tile(components, len(times))
    limits = np.array([LIMITS[c] for c in components], dtype="float64")
    limit = np.tile(limits, (len(times), 1))
    count = len(ts)
    load = np.repeat(np.linspace(0.1, 0.8, len(times)), len(names))
    columns = {
        "ts": ts, "source": np.full(count, "kubernetes"), "component": component, "pod": pod,
        "container": component, "node": np.char.add("worker-", (np.arange(count) % 4).astype(str)),
        "cpu_m": np.round(limit[:, 1] * load * rng.uniform(0.8, 1.2, count), 3),
        "memory_bytes": np.round(limit[:, 3] * MI * (0.3 + 0.4 * load)),
        "memory_anon_bytes": np.round(limit[:, 3] * MI * (0.2 + 0.3 * load)),
        "memory_peak_bytes": np.round(limit[:, 3] * MI * (0.35 + 0.4 * load)),
        "cpu_request_m": limit[:, 0], "cpu_limit_m": limit[:, 1],
        "memory_request_bytes": limit[:, 2] * MI, "memory_limit_bytes": limit[:, 3] * MI,
        "restarts": np.zeros(count, dtype="int64"), "oom_kills": np.zeros(count, dtype="int64"),
        "throttled_periods": np.zeros(count, dtype="int64"), "periods": np.arange(count) // len(names) * 150,
        "throttled_s": np.zeros(count), "respawns": np.zeros(count, dtype="int64"),
        "phase": np.full(count, "Running"), "ready": np.full(count, True),
        "stage": np.char.add("step ", (1 + np.minimum(4, (ts - T0) // (duration / 5)).astype(int)).astype(str)),
    }
    return pa.RecordBatch.from_pydict({name: columns[name] for name in schema.RESOURCE_COLUMNS},
                                      schema=columnar.stream_schema(schema.RESOURCES))
