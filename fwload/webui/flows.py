"""The Imports and streams tab: the upload → import pipeline and audio streaming, live.

Two figures need more than `LiveStats` keeps, so `FlowTracker` follows the rows reaching the
master (`Recorder.on_rows`, from every worker):

- imports waiting: uploads answered 201 whose import has no outcome yet. Every accepted
  upload ends in exactly one imports row with its uuid (an outcome, ``timeout`` or
  ``unfinished``), and a request row always precedes its import row on the same worker,
  so accepted − resolved is the backlog a growing import queue shows up in first.
- streams at once and transfer rates: from each stream's start and duration, as the
  report computes concurrent streams and bytes over the time after the first byte.

Outcome counts, import wait and TTFB percentiles are `LiveStats`' own.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fwload.recording.live import LiveStats, nearest_rank
from fwload.webui import formatting as fmt

COLUMNS = (
    ("measure", "Measure"),
    ("last_window", "Now / last window"),
    ("whole_run", "Whole run"),
    ("detail", "Detail"),
)
KEEP_S = 300.0
_OUTCOMES = (
    ("finished", "imports finished", "the track is in the library"),
    ("skipped", "imports skipped", "Funkwhale saw a duplicate"),
    ("errored", "imports errored", "Funkwhale refused the file"),
    ("timeout", "imports timed out", "still pending at the uploader's deadline"),
    ("failed", "imports not followed", "the upload or its polls failed"),
    ("unfinished", "imports cut short", "the test stopped while the uploader waited"),
)


@dataclass(frozen=True, slots=True)
class _Stream:
    start: float
    end: float
    bytes: int
    body_s: float | None


class FlowTracker:
    """Fed with every batch of recorded rows on the master (see the module docstring)."""

    def __init__(self, clock: Any = time.time) -> None:
        self._clock = clock
        self.new_test()

    def new_test(self) -> None:
        """Forget everything: a test starts and its workers start from zero."""
        self.accepted = 0
        self.resolved = 0
        self.reset_stats()

    def reset_stats(self) -> None:
        """Forget the rates and counts; imports already waiting still wait, so the backlog stays."""
        self.started = self._clock()
        self.streams: deque[_Stream] = deque()
        self.decided: deque[tuple[float, str]] = deque()
        self.stream_count = 0
        self.bytes = 0
        self.body_s = 0.0
        self.stream_s = 0.0

    @property
    def waiting(self) -> int:
        return max(self.accepted - self.resolved, 0)

    def on_rows(self, kind: str, rows: Sequence[Sequence[Any]]) -> None:
        if kind == "requests":
            self.accepted += sum(1 for row in rows if row[1] == "upload" and row[4] == 201 and not row[7])
        elif kind == "imports":
            for ts, upload, outcome, wait_ms, *_ in rows:
                if upload:
                    self.resolved += 1
                decided = float(ts) + (float(wait_ms) / 1000 if wait_ms not in ("", None) else 0.0)
                self.decided.append((decided, outcome))
        elif kind == "streams":
            for ts, _track, _status, ttfb_ms, total_ms, nbytes, _range, error_kind, *_ in rows:
                self._add_stream(float(ts), ttfb_ms, total_ms, int(nbytes or 0), error_kind)
        self._trim(self._clock())

    def _add_stream(self, start: float, ttfb_ms: Any, total_ms: Any, nbytes: int, error_kind: str) -> None:
        total_s = float(total_ms) / 1000 if total_ms not in ("", None) else 0.0
        body_s = None
        if not error_kind and ttfb_ms not in ("", None) and total_s * 1000 > float(ttfb_ms):
            body_s = total_s - float(ttfb_ms) / 1000
            self.bytes += nbytes
            self.body_s += body_s
        self.stream_count += 1
        self.stream_s += total_s
        self.streams.append(_Stream(start, start + total_s, nbytes, body_s))

    def _trim(self, now: float) -> None:
        while self.streams and self.streams[0].end < now - KEEP_S:
            self.streams.popleft()
        while self.decided and self.decided[0][0] < now - KEEP_S:
            self.decided.popleft()

    # -- reading ---------------------------------------------------------------------

    def recent_streams(self, now: float, window_s: float) -> list[_Stream]:
        return [s for s in self.streams if s.end >= now - window_s]

    def at_once(self, now: float, window_s: float) -> tuple[int, float]:
        """(most streams at once, mean streams at once) over the last ``window_s``."""
        since = max(now - window_s, self.started)
        span = now - since
        recent = [s for s in self.recent_streams(now, window_s) if s.start <= now]
        edges = sorted([(max(s.start, since), 1) for s in recent] + [(min(s.end, now), -1) for s in recent],
                       key=lambda edge: (edge[0], edge[1]))
        most = current = 0
        for _ts, step in edges:
            current += step
            most = max(most, current)
        busy = sum(max(min(s.end, now) - max(s.start, since), 0.0) for s in recent)
        return most, (busy / span if span > 0 else 0.0)

    def mean_at_once(self, now: float) -> float:
        """Streams at once on average since the test started or the stats were reset."""
        span = now - self.started
        return self.stream_s / span if span > 0 else 0.0

    def decided_since(self, now: float, window_s: float, outcome: str) -> int:
        return sum(1 for ts, name in self.decided if name == outcome and ts >= now - window_s)


def flow_rows(live: LiveStats, tracker: FlowTracker, now: float, window_s: float) -> list[dict[str, str]]:
    """The tab's rows, formatted for display."""
    rows = [_row("imports waiting", fmt.count(tracker.waiting), fmt.UNKNOWN,
                 "uploads accepted (201) with no import outcome yet")]
    for outcome, title, meaning in _OUTCOMES:
        rows.append(_row(title, fmt.count(tracker.decided_since(now, window_s, outcome)),
                         fmt.count(live.imports.get(outcome, 0)), meaning))
    recent_waits = [row[1] for row in live.import_window.since(now, window_s)]
    rows.append(_row("import wait p95", fmt.ms(nearest_rank(recent_waits, 95)),
                     fmt.ms(live.import_wait.percentile(95)), "upload accepted → final status (finished, skipped, errored)"))
    most, mean = tracker.at_once(now, window_s)
    rows.append(_row("active streams", f"{most} at most, {mean:.2f} on average",
                     f"{tracker.mean_at_once(now):.2f} on average", "audio fetches in progress at the same time"))
    recent = tracker.recent_streams(now, window_s)
    rows.append(_row("streams played", fmt.count(len(recent)), fmt.count(tracker.stream_count),
                     "plays through a listen URL (each of one or more Range requests)"))
    recent_ttfb = [row[1] for row in live.stream_window.since(now, window_s) if not row[2]]
    rows.append(_row("stream ttfb p95", fmt.ms(nearest_rank(recent_ttfb, 95)), fmt.ms(live.ttfb.percentile(95)),
                     "time to the first audio byte"))
    timed = [s for s in recent if s.body_s]
    timed_s = sum(s.body_s or 0.0 for s in timed)
    recent_rate = sum(s.bytes for s in timed) / timed_s if timed_s else None
    rows.append(_row("stream transfer rate", fmt.rate(recent_rate),
                     fmt.rate(tracker.bytes / tracker.body_s if tracker.body_s else None),
                     "bytes over the time after the first byte, per stream"))
    span = min(window_s, max(now - tracker.started, 0.0))
    rows.append(_row("audio sent", fmt.rate(sum(s.bytes for s in recent) / span if span > 0 else None),
                     fmt.mebibytes(live.stream_bytes),
                     "all streams together: throughput now, total in the run"))
    return fmt.ordered(rows)


def _row(measure: str, last_window: str, whole_run: str, detail: str) -> dict[str, str]:
    return {"name": measure, "measure": measure, "last_window": last_window, "whole_run": whole_run,
            "detail": detail}
