"""What the stand-in received and answered, per request group: the server's side of every count.

A reliability test compares these with requests.csv: every request a virtual user recorded
must have reached the server exactly once, with the same status (nothing lost, nothing
doubled), and every reset here must be a ``connection`` error there (or a retry the HTTP
client made on its own: it retries idempotent requests whose connection closed unanswered).
Import tasks are counted too, under the pseudo-group ``imports`` (`faults.imports`).

Each process counts in memory and writes its totals to its own file in the faults folder
about twice a second and when it stops, so the totals survive a restart and add up across
stack mode's processes. `reset` records a baseline instead of deleting anything, so a
count taken later covers exactly what came after it.
"""

from __future__ import annotations

import atexit
import json
import os
import threading
import time
from collections import Counter
from pathlib import Path

FLUSH_S = 0.5
BASELINE_FILE = "counts-baseline.json"
Key = str
"""``group|field``: field is received, reset, throttled, error, delayed, or status:<code>."""


class RequestCounts:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._own = folder / f"counts-{os.getpid()}-{time.time_ns()}.json"
        self._counts: Counter[Key] = Counter()
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._dirty = False
        self._stop = threading.Event()
        self._flusher: threading.Thread | None = None

    def add(self, group: str, field: str) -> None:
        with self._lock:
            self._counts[f"{group}|{field}"] += 1
            self._dirty = True
            if self._flusher is None:
                self._start_flusher()

    def _start_flusher(self) -> None:
        """On the first count: stack mode's API workers never call `Services.start`, yet must write theirs."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self._flusher = threading.Thread(target=self._flush_loop, name="standin-fault-counts", daemon=True)
        self._flusher.start()
        atexit.register(self.flush)

    def stop(self) -> None:
        self._stop.set()
        if self._flusher is not None:
            self._flusher.join(5)
        self.flush()

    def flush(self) -> None:
        with self._write_lock:
            with self._lock:
                if not self._dirty:
                    return
                snapshot, self._dirty = dict(self._counts), False
            _write_json(self._own, snapshot)

    def totals(self) -> dict[str, dict[str, object]]:
        """Per group since the baseline: received, reset, throttled, error, delayed, ``status`` {code: n}."""
        self.flush()
        return nested(read_totals(self.folder))

    def reset(self) -> None:
        """Count from zero from now on (for every process: the baseline is the current sum)."""
        self.flush()
        _write_json(self.folder / BASELINE_FILE, _sum_files(self.folder))

    def _flush_loop(self) -> None:
        while not self._stop.wait(FLUSH_S):
            self.flush()


def read_totals(folder: Path) -> Counter[Key]:
    """The sum of every process's last written counts, minus the baseline (files only)."""
    totals = _sum_files(folder)
    totals.subtract(_read(folder / BASELINE_FILE))
    return +totals


def nested(flat: Counter[Key]) -> dict[str, dict[str, object]]:
    groups: dict[str, dict[str, object]] = {}
    for key, count in sorted(flat.items()):
        group, _, field = key.partition("|")
        entry = groups.setdefault(group, {"status": {}})
        if field.startswith("status:"):
            entry["status"][field.removeprefix("status:")] = count  # type: ignore[index]
        else:
            entry[field] = count
    return groups


def _sum_files(folder: Path) -> Counter[Key]:
    totals: Counter[Key] = Counter()
    for path in folder.glob("counts-*-*.json"):
        totals.update(_read(path))
    return totals


def _read(path: Path) -> Counter[Key]:
    try:
        return Counter({str(k): int(v) for k, v in json.loads(path.read_text(encoding="utf-8")).items()})
    except (OSError, ValueError, AttributeError):
        return Counter()


def _write_json(path: Path, data: dict[str, int]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data), encoding="utf-8")
    os.replace(tmp, path)
