"""Exact playback accounting, from when bytes arrived and the wall clock.

A play goes through phases on the wall clock::

    requested ─starting─▶ playing ─buffer dry─▶ stalled ─▶ playing ─ ... ─▶ done
                             └─seek outside the buffer─▶ seeking ─▶ playing

`PlaybackClock` is told when bytes arrived (`arrive`) and asked to move to a time at which
nothing arrived (`advance`). Between two calls only playback happens, at a constant
``byte_rate``, so every change of phase (the buffer running dry, a seek point, the stop
point) is computed at its exact instant from the arrival times, never noticed by polling:
a stall that began 3 ms before the next byte arrived is 3 ms long, whenever anyone looked.

Rules (those of a browser's media element; sources in `fwload.users.player`):

- playback starts, and resumes after a stall or a seek, once ``start_bytes`` are buffered
  ahead of the position, or the file is buffered to its end (the stop point, where the
  listener will stop, is theirs: the player does not know it);
- a **stall** is the buffer running dry before the stop point; it lasts until the rule
  above lets playback resume. A play stopped while stalled (the test ended, the request
  failed) counts its stall up to that moment: the listener was hearing nothing;
- the wait after a seek to a position that is not buffered is a **seek wait**, counted
  apart: the listener asked for it, and even an idle server makes one;
- ``finished − requested = startup + played + stalled + seek waits``, exactly.

Positions are byte offsets in the file; audio seconds are bytes / ``byte_rate``. Times are
seconds on any one clock (the player uses `time.monotonic`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import Enum


class Phase(Enum):
    STARTING = "starting"
    PLAYING = "playing"
    STALLED = "stalled"
    SEEKING = "seeking"
    DONE = "done"


WAITING = (Phase.STARTING, Phase.STALLED, Phase.SEEKING)


@dataclass(frozen=True, slots=True)
class Seek:
    """The listener jumps from position ``at`` to position ``to`` (bytes) when playback reaches ``at``."""

    at: float
    to: float


@dataclass(frozen=True, slots=True)
class Gap:
    """A stretch of silence after playback started: a stall or a seek wait."""

    kind: str
    """``stall`` or ``seek``."""
    start: float
    seconds: float


@dataclass(slots=True)
class PlayTotals:
    """What a play amounted to, up to the clock's time."""

    startup_s: float | None
    """Request → playback started; None while (or if) it never started."""
    stalls: int
    stall_s: float
    seek_wait_s: float
    played_s: float
    position: float
    """Where playback is (bytes)."""
    ended: bool
    """Playback reached the stop point (the end of the track, or where the listener stops)."""
    gaps: list[Gap] = field(default_factory=list)


class PlaybackClock:
    """One play's playback, driven by arrivals (see the module docstring).

    ``stop_at`` is the position where the listener stops (None: the end of the file, once
    `set_size` told it). A `Seek` whose target lies outside the buffered range needs the
    bytes from there: `fetch` then grows by one and `wanted` says from which offset; bytes
    reported for an older fetch are ignored, as a browser drops an aborted request.
    """

    def __init__(
        self,
        requested_at: float,
        byte_rate: float,
        start_bytes: float,
        *,
        size: float | None = None,
        stop_at: float | None = None,
        seeks: Sequence[Seek] = (),
        first: float = 0.0,
    ) -> None:
        if not byte_rate > 0:
            raise ValueError(f"byte_rate must be positive (got {byte_rate!r})")
        self.requested_at = requested_at
        self.byte_rate = float(byte_rate)
        self.start_bytes = max(float(start_bytes), 0.0)
        self.size = size
        self.stop_at = stop_at
        self.seeks = sorted(seeks, key=lambda seek: seek.at)
        self.phase = Phase.STARTING
        self.t = requested_at
        self.pos = float(first)
        self.have_from = float(first)
        self.have_to = float(first)
        self.fetch = 0
        self.wanted: float | None = None
        self.startup_s: float | None = None
        self.stalls = 0
        self.stall_s = 0.0
        self.seek_wait_s = 0.0
        self.played_s = 0.0
        self.seeks_done = 0
        self.ended = False
        self.gaps: list[Gap] = []
        self._wait_started = requested_at

    # -- what the player tells the clock ---------------------------------------------------

    @property
    def end(self) -> float:
        """The stop point: ``stop_at`` within the file, or the file's end (infinite while unknown)."""
        size = math.inf if self.size is None else float(self.size)
        return size if self.stop_at is None else min(float(self.stop_at), size)

    def set_size(self, size: float) -> None:
        self.size = float(size)

    def arrive(self, t: float, upto: float, fetch: int = 0) -> None:
        """Bytes up to offset ``upto`` of fetch number ``fetch`` have arrived by time ``t``."""
        self.advance(t)
        if fetch != self.fetch or self.phase is Phase.DONE:
            return
        if upto > self.have_to:
            self.have_to = float(upto)
        self._maybe_play(self.t)

    def advance(self, t: float) -> None:
        """Move to time ``t`` with no new bytes: playback consumes the buffer."""
        while t > self.t and self.phase is Phase.PLAYING:
            seek = self._next_seek()
            target = min(self.have_to, self.end, seek.at if seek is not None else math.inf)
            needed = max(target - self.pos, 0.0) / self.byte_rate
            if self.t + needed > t:
                self.pos += (t - self.t) * self.byte_rate
                self.played_s += t - self.t
                self.t = t
                return
            self.t += needed
            self.played_s += needed
            self.pos = max(self.pos, target)
            if self.pos >= self.end:
                self._done(ended=True)
            elif seek is not None and self.pos >= seek.at:
                self._seek(seek)
            elif self.pos >= self.have_to:
                self.phase = Phase.STALLED
                self.stalls += 1
                self._wait_started = self.t
        if t > self.t:
            self.t = t

    def finish(self, t: float) -> PlayTotals:
        """Stop at ``t`` (ended, skipped, failed or cut short): close any open wait there."""
        self.advance(t)
        if self.phase in WAITING:
            self._close_wait(self.t, started=False)
        if self.phase is not Phase.DONE:
            self._done(ended=False)
        return self.totals()

    # -- what the player asks ---------------------------------------------------------------

    @property
    def done(self) -> bool:
        return self.phase is Phase.DONE

    def ahead(self) -> float:
        """Bytes buffered ahead of the position, at the clock's time."""
        return max(self.have_to - self.pos, 0.0)

    @property
    def file_end(self) -> float:
        return math.inf if self.size is None else float(self.size)

    def complete(self) -> bool:
        """The file is buffered to its end: nothing more to fetch. (The stop point does not count:
        a browser does not know where its listener will stop, and buffers on.)"""
        return self.have_to >= self.file_end

    def next_change(self) -> float | None:
        """When the phase changes if no byte arrives (the buffer runs dry, a seek, the stop); None when waiting."""
        if self.phase is not Phase.PLAYING:
            return None
        seek = self._next_seek()
        target = min(self.have_to, self.end, seek.at if seek is not None else math.inf)
        return self.t + max(target - self.pos, 0.0) / self.byte_rate

    def when_ahead_falls_to(self, bytes_ahead: float) -> float | None:
        """When the buffer ahead falls to ``bytes_ahead`` if nothing arrives (None if not playing)."""
        if self.phase is not Phase.PLAYING:
            return None
        return self.t + max(self.ahead() - bytes_ahead, 0.0) / self.byte_rate

    def when_position(self, position: float) -> float | None:
        """When playback reaches ``position`` with the bytes at hand (now if passed; None if it cannot)."""
        if self.pos >= position:
            return self.t
        if self.phase is not Phase.PLAYING or position > self.have_to or position > self.end:
            return None
        seek = self._next_seek()
        if seek is not None and seek.at < position:
            return None
        return self.t + (position - self.pos) / self.byte_rate

    def totals(self) -> PlayTotals:
        """The play's figures at the clock's time; a wait still going is counted up to it."""
        stall_s, seek_s, gaps = self.stall_s, self.seek_wait_s, list(self.gaps)
        if self.phase is Phase.STALLED:
            stall_s += self.t - self._wait_started
            gaps.append(Gap("stall", self._wait_started, self.t - self._wait_started))
        elif self.phase is Phase.SEEKING:
            seek_s += self.t - self._wait_started
            gaps.append(Gap("seek", self._wait_started, self.t - self._wait_started))
        return PlayTotals(
            startup_s=self.startup_s, stalls=self.stalls, stall_s=stall_s, seek_wait_s=seek_s,
            played_s=self.played_s, position=self.pos, ended=self.ended, gaps=gaps,
        )

    # -- internals ----------------------------------------------------------------------------

    def _next_seek(self) -> Seek | None:
        return self.seeks[self.seeks_done] if self.seeks_done < len(self.seeks) else None

    def _seek(self, seek: Seek) -> None:
        self.seeks_done += 1
        self.pos = max(float(seek.to), 0.0)
        if self.pos >= self.end:
            self._done(ended=True)
            return
        if self.have_from <= self.pos < self.have_to:
            return
        self.phase = Phase.SEEKING
        self._wait_started = self.t
        self.fetch += 1
        self.wanted = self.pos
        self.have_from = self.have_to = self.pos

    def _maybe_play(self, t: float) -> None:
        if self.phase not in WAITING:
            return
        if self.have_to - self.pos >= self.start_bytes or self.have_to >= self.file_end:
            self._close_wait(t, started=True)
            self.phase = Phase.PLAYING
            if self.pos >= self.end:
                self._done(ended=True)

    def _close_wait(self, t: float, started: bool) -> None:
        """End the wait of the current phase at ``t``; ``started``: because playback starts."""
        waited = t - self._wait_started
        if self.phase is Phase.STARTING:
            if started:
                self.startup_s = t - self.requested_at
        elif self.phase is Phase.STALLED:
            self.stall_s += waited
            self.gaps.append(Gap("stall", self._wait_started, waited))
        elif self.phase is Phase.SEEKING:
            self.seek_wait_s += waited
            self.gaps.append(Gap("seek", self._wait_started, waited))
        self._wait_started = t

    def _done(self, ended: bool) -> None:
        self.phase = Phase.DONE
        self.ended = ended


def account(
    arrivals: Iterable[tuple[float, float] | tuple[float, float, int]],
    *,
    requested_at: float,
    byte_rate: float,
    start_bytes: float,
    size: float,
    stop_at: float | None = None,
    seeks: Sequence[Seek] = (),
    until: float | None = None,
) -> PlayTotals:
    """The totals of a play whose bytes arrived as ``(time, offset reached[, fetch])``.

    Played until the stop point, or stopped at ``until`` (the last arrival when None and
    the stop point was not reached). A pure function: the unit tests give it schedules
    whose stalls they worked out by hand.
    """
    clock = PlaybackClock(requested_at, byte_rate, start_bytes, size=size, stop_at=stop_at, seeks=seeks)
    last = requested_at
    for arrival in arrivals:
        t, upto = arrival[0], arrival[1]
        clock.arrive(t, upto, arrival[2] if len(arrival) > 2 else 0)  # type: ignore[misc]
        last = max(last, t)
    if until is None:
        change = clock.next_change()
        while change is not None and not clock.done:
            clock.advance(change)
            change = clock.next_change()
        until = max(last, clock.t)
    return clock.finish(until)
