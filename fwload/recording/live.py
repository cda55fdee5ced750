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


@dataclass(frozen=True, slots=True)
class Tick:
    """The whole run at one second: playback (cumulative since the reset), users, component CPU."""

    ts: float
    played_s: float
    stall_s: float
    playing: int
    stalled: int
    users: int
    cpu: dict[str, float]


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
        self.playback_latest: dict[str, dict[str, Any]] = {}
        """Each process's latest cumulative playback figures (kept across resets: they are cumulative)."""
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
        self.plays = Counter[str]()
        self.startup = LogHistogram()
        self.startup_window = _Window(self.window_s)
        """(play start, startup ms) of plays that started."""
        self.played = 0
        """Real-time plays that started; `stalled_plays` of them stalled at least once."""
        self.stalled_plays = 0
        self.play_window = _Window(self.window_s)
        """(play end, stalls, realtime) of real-time plays that started."""
        self.playback_offset = self._playback_sums()
        self.series: deque[Tick] = deque()
        """One `Tick` a second (all processes summed, played and stalled since the reset)."""

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

    def add_plays(self, rows: Iterable[Sequence[Any]]) -> None:
        """plays.csv rows (`schema.PLAY_COLUMNS` order, worker last)."""
        for row in rows:
            ts, playback, startup_ms, stalls, outcome = row[0], row[3], row[5], row[6], row[13]
            self.plays[outcome] += 1
            if startup_ms == "":
                continue
            startup = float(startup_ms)
            self.startup.add(startup)
            self.startup_window.add(float(ts), startup, False, False)
            if playback == "realtime":
                self.played += 1
                stalled = bool(stalls) and int(stalls) > 0
                self.stalled_plays += stalled
                end = float(ts) + sum(float(v or 0) / 1000 for v in (startup_ms, row[7], row[8])) + float(row[9] or 0)
                self.play_window.add(end, 1.0 if stalled else 0.0, stalled, False)

    def add_playback(self, source: str, snapshot: dict[str, Any]) -> None:
        """A process's cumulative playback figures (`fwload.playback.tally.Snapshot`)."""
        self.playback_latest[source] = snapshot

    def tick_playback(self, now: float | None = None, users: int = 0, cpu: dict[str, float] | None = None) -> None:
        """Once a second on the master: every process's playback figures summed, with the users and
        the components' latest CPU (millicores), appended to `series`."""
        now = now or time.time()
        played, stall, playing, stalled = self._playback_sums()
        base = self.playback_offset
        self.series.append(Tick(now, played - base[0], stall - base[1], playing, stalled, users, cpu or {}))
        cutoff = now - self.window_s
        while len(self.series) > 2 and self.series[1].ts < cutoff:
            self.series.popleft()

    def _playback_sums(self) -> tuple[float, float, int, int]:
        latest = self.playback_latest.values()
        return (sum(s.get("played_s", 0.0) for s in latest), sum(s.get("stall_s", 0.0) for s in latest),
                sum(s.get("playing", 0) for s in latest), sum(s.get("stalled", 0) for s in latest))

    def stall_ratio(self, seconds: float | None = None, now: float | None = None,
                    until: float | None = None) -> tuple[float | None, float]:
        """(stalled / played seconds, played seconds) over the ``seconds`` before ``until`` (default:
        the last tick); ``seconds`` None: since the reset."""
        series = [tick for tick in self.series if until is None or tick.ts <= until]
        if not series:
            return None, 0.0
        last = series[-1]
        first = Tick(0.0, 0.0, 0.0, 0, 0, 0, {})
        if seconds is not None:
            cutoff = (now if now is not None and until is None else last.ts) - seconds
            first = next((tick for tick in reversed(series) if tick.ts <= cutoff), series[0])
        played, stall = last.played_s - first.played_s, last.stall_s - first.stall_s
        return (stall / played if played > 0 else None), played

    def playing_now(self) -> tuple[int, int]:
        """(plays in progress, of them stalled) at the last tick."""
        if not self.series:
            return 0, 0
        return self.series[-1].playing, self.series[-1].stalled

    def plays_with_stall(self, seconds: float | None = None, now: float | None = None) -> tuple[float | None, int]:
        """(share of real-time plays that stalled, plays) among those that ended in the last ``seconds``."""
        if seconds is None:
            return (self.stalled_plays / self.played if self.played else None), self.played
        rows = self.play_window.since(now or time.time(), seconds)
        stalled = sum(1 for row in rows if row[2])
        return (stalled / len(rows) if rows else None), len(rows)

    # -- reading -------------------------------------------------------------------------

    def trim(self, now: float | None = None) -> None:
        now = now or time.time()
        for window in (*self.windows.values(), self.import_window, self.stream_window, self.startup_window,
                       self.play_window):
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
