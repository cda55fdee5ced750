"""The plays of one process, in progress and done, summed for the live figures.

A plays.csv row is written when a play ends, minutes after its stalls for a long track; the
web UI and the abort rules need stalls as they happen. Every player registers its clock
here while it plays; `Tally.snapshot` sums the plays done and those in progress (each
clock advanced to now) into cumulative totals. The difference of two snapshots is exactly
what was played and stalled in between, whichever plays it came from.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from fwload.playback.clock import Phase, PlaybackClock, PlayTotals


@dataclass(slots=True)
class Snapshot:
    """Cumulative figures of one process at ``ts`` (seconds of played audio and of silence)."""

    ts: float
    """Wall-clock time (epoch seconds) of the snapshot."""
    played_s: float = 0.0
    stall_s: float = 0.0
    stalls: int = 0
    plays: int = 0
    """Plays begun (in progress or done)."""
    playing: int = 0
    """Plays in progress at ``ts`` (starting, playing, stalled or seeking)."""
    stalled: int = 0
    """Plays stalled at ``ts``."""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class Tally:
    """Clocks in progress plus the totals of the finished plays (one per process)."""

    def __init__(self) -> None:
        self.active: set[PlaybackClock] = set()
        self.done = Snapshot(ts=0.0)

    def begin(self, clock: PlaybackClock) -> None:
        self.active.add(clock)
        self.done.plays += 1

    def end(self, clock: PlaybackClock, totals: PlayTotals) -> None:
        self.active.discard(clock)
        self.done.played_s += totals.played_s
        self.done.stall_s += totals.stall_s
        self.done.stalls += totals.stalls

    def snapshot(self, now: float, ts: float) -> Snapshot:
        """Cumulative totals at ``now`` (on the players' clock), labelled with wall time ``ts``."""
        total = Snapshot(ts=ts, played_s=self.done.played_s, stall_s=self.done.stall_s, stalls=self.done.stalls,
                         plays=self.done.plays, playing=len(self.active))
        for clock in self.active:
            clock.advance(now)
            totals = clock.totals()
            total.played_s += totals.played_s
            total.stall_s += totals.stall_s
            total.stalls += totals.stalls
            total.stalled += clock.phase is Phase.STALLED
        return total

    def reset(self) -> None:
        self.active.clear()
        self.done = Snapshot(ts=0.0)


TALLY = Tally()
"""The process's tally: players register here, the recorder reads it."""
