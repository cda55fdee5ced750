"""Bounded live statistics on the master: abort rules, the progress line, the web UI tabs.

Reports use the exact values from the run directory; these live figures only steer the
run while it goes. Memory stays bounded whatever the run length: recent rows live in time
windows (16 bytes per request, `fwload.recording.recent`), whole-run latencies in
log-spaced histograms (1 % relative resolution).
"""

from __future__ import annotations

import math
import time
from collections import Counter, defaultdict, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from fwload.recording.recent import RequestWindow, nearest_rank_of

_LOG_STEP = math.log(1.01)


class LogHistogram:
    """Counts of values in buckets 1 % wide; percentiles within 1 % of the exact value."""

    __slots__ = ("buckets", "count")

    def __init__(self) -> None:
        self.buckets: Counter[int] = Counter()
        self.count = 0

    def add(self, value: float) -> None:
        self.buckets[int(math.log(value) / _LOG_STEP) if value > 0.001 else -1000] += 1
        self.count += 1

    def percentile(self, q: float) -> float | None:
        if not self.count:
            return None
        rank = max(1, math.ceil(q / 100 * self.count))
        seen = 0
        for bucket in sorted(self.buckets):
            seen += self.buckets[bucket]
            if seen >= rank:
                return 0.0 if bucket == -1000 else math.exp((bucket + 0.5) * _LOG_STEP)
        return None


def nearest_rank(values: Sequence[float], q: float) -> float | None:
    """The nearest-rank percentile: the smallest value with at least q % of values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q / 100 * len(ordered))) - 1]


@dataclass
class _Window:
    """Rows of the last ``seconds``: (ts, value, failed, throttled)."""

    seconds: float
    rows: deque[tuple[float, float, bool, bool]] = field(default_factory=deque)

    def add(self, ts: float, value: float, failed: bool, throttled: bool) -> None:
        self.rows.append((ts, value, failed, throttled))

    def trim(self, now: float) -> None:
        cutoff = now - self.seconds
        while self.rows and self.rows[0][0] < cutoff:
            self.rows.popleft()

    def since(self, now: float, seconds: float) -> list[tuple[float, float, bool, bool]]:
        cutoff = now - seconds
        return [r for r in self.rows if r[0] >= cutoff]


class LiveStats:
    """Fed with recorded rows (see `fwload.recording.schema`) as they reach the master."""

    def __init__(self, window_s: float = 120.0):
        self.window_s = window_s
        self.reset()

    def reset(self) -> None:
        self.started = time.time()
        self.windows: dict[str, RequestWindow] = defaultdict(lambda: RequestWindow(self.window_s))
        self.whole: dict[str, LogHistogram] = defaultdict(LogHistogram)
        self.requests = Counter[str]()
        self.failures = Counter[str]()
        self.throttled = Counter[str]()
        self.rejected = Counter[str]()
        """Deliberately bad files the server refused: expected, in no window (no ratio, no latency)."""
        self.imports = Counter[str]()
        self.import_wait = LogHistogram()
        self.import_window = _Window(self.window_s)
        self.ttfb = LogHistogram()
        self.stream_window = _Window(self.window_s)
        self.stream_bytes = 0
        self.stream_ms = 0.0
        self.sessions = Counter[str]()
        """Sessions of an arrivals run by outcome (``started`` counts every one a slot began)."""

    # -- feeding -----------------------------------------------------------------------

    def add_requests(self, rows: Iterable[Sequence[Any]]) -> None:
        """Once per row on the master: written for speed (indexing, no star-unpacking)."""
        requests, windows, whole = self.requests, self.windows, self.whole
        for row in rows:
            group, kind = row[1], row[7]
            requests[group] += 1
            if kind == "rejected":
                self.rejected[group] += 1
            elif kind:
                throttled = kind == "throttled"
                (self.throttled if throttled else self.failures)[group] += 1
                windows[group].add(float(row[0]), float(row[5]), not throttled, throttled)
            else:
                ms = float(row[5])
                windows[group].add_ok(float(row[0]), ms)
                whole[group].add(ms)

    def add_imports(self, rows: Iterable[Sequence[Any]]) -> None:
        for ts, _upload, outcome, wait_ms, *_ in rows:
            self.imports[outcome] += 1
            if outcome in ("finished", "skipped", "errored") and wait_ms != "":
                self.import_wait.add(float(wait_ms))
                self.import_window.add(float(ts), float(wait_ms), outcome == "errored", False)

    def add_streams(self, rows: Iterable[Sequence[Any]]) -> None:
        for ts, _track, _status, ttfb_ms, total_ms, nbytes, _range, kind, *_ in rows:
            if ttfb_ms != "" and not kind:
                self.ttfb.add(float(ttfb_ms))
            self.stream_window.add(float(ts), float(ttfb_ms or 0), bool(kind), False)
            self.stream_bytes += int(nbytes or 0)
            self.stream_ms += float(total_ms or 0)

    def add_sessions(self, rows: Iterable[Sequence[Any]]) -> None:
        for row in rows:
            outcome = row[7]
            self.sessions[outcome] += 1
            if outcome != "dropped" and row[1] != "":
                self.sessions["started"] += 1

    # -- reading -------------------------------------------------------------------------

    def trim(self, now: float | None = None) -> None:
        now = now or time.time()
        for window in (*self.windows.values(), self.import_window, self.stream_window):
            window.trim(now)

    def error_ratio(self, seconds: float, now: float | None = None, group: str | None = None) -> tuple[float, int]:
        """(failed / all, all) over the last ``seconds``; throttled requests count apart."""
        total, failed, _throttled = self._counts(seconds, now, group)
        return (failed / total if total else 0.0), total

    def throttled_ratio(self, seconds: float, now: float | None = None, group: str | None = None) -> tuple[float, int]:
        total, _failed, throttled = self._counts(seconds, now, group)
        return (throttled / total if total else 0.0), total

    def percentile(self, q: float, seconds: float | None = None, now: float | None = None,
                   group: str | None = None) -> tuple[float | None, int]:
        """(percentile ms, samples): exact over a recent window, or whole-run (1 %) if no window."""
        if seconds is None:
            hist = self.whole[group] if group else _merged(self.whole.values())
            return hist.percentile(q), hist.count
        now = now or time.time()
        parts = [part for window in self._windows(group) for part in window.ok_values(now, seconds)]
        return nearest_rank_of(parts, q)

    def _counts(self, seconds: float, now: float | None, group: str | None) -> tuple[int, int, int]:
        now = now or time.time()
        found = [window.counts(now, seconds) for window in self._windows(group)]
        return sum(c[0] for c in found), sum(c[1] for c in found), sum(c[2] for c in found)

    def _windows(self, group: str | None) -> list[RequestWindow]:
        return [self.windows[group]] if group else list(self.windows.values())

    def groups(self) -> list[str]:
        return sorted(self.requests)


def _merged(histograms: Iterable[LogHistogram]) -> LogHistogram:
    merged = LogHistogram()
    for hist in histograms:
        merged.buckets.update(hist.buckets)
        merged.count += hist.count
    return merged


HISTORY_POINTS = 180
"""Collector ticks kept per component for the web UI's charts (6 to 15 minutes at 2 to 5 s)."""


@dataclass(frozen=True)
class ComponentPoint:
    """One collector tick of one component: its containers summed (None when none was known)."""

    ts: float
    cpu_m: float | None
    memory_bytes: float | None


class LatestResources:
    """The newest resource sample per container, a short history per component, and the
    collector events seen, for live views."""

    def __init__(self, history_points: int = HISTORY_POINTS) -> None:
        self.samples: dict[tuple[str, str, str], Any] = {}
        self.events: deque[dict[str, Any]] = deque(maxlen=200)
        self.history: dict[str, deque[ComponentPoint]] = defaultdict(lambda: deque(maxlen=history_points))

    def update(self, samples: Iterable[Any], events: Iterable[dict[str, Any]] = ()) -> None:
        """One collector tick: its samples (every container sampled at about the same time)."""
        ticks: dict[str, list[Any]] = defaultdict(list)
        for sample in samples:
            self.samples[(sample.component, sample.pod, sample.container)] = sample
            ticks[sample.component].append(sample)
        for component, tick in ticks.items():
            self.history[component].append(ComponentPoint(
                max(sample.ts for sample in tick), _total(s.cpu_m for s in tick), _total(s.memory_bytes for s in tick)))
        self.events.extend(events)

    def latest(self) -> list[Any]:
        return [self.samples[key] for key in sorted(self.samples)]


def _total(values: Iterable[float | None]) -> float | None:
    known = [value for value in values if value is not None]
    return float(sum(known)) if known else None
