"""Open arrivals on the user side: slots waiting for a session, and the session they live.

In an arrivals run (``load.profile: arrivals``) every virtual user is a *slot*: it idles
in the process's `SlotPool` until the scheduler (`fwload.plugin.arrivals`) hands it a
`Session` at the instant the session is due, lives it (its class's tasks, think times
included) until the session's length or iterations are used up, records it, and goes
back to idle. A due session with no idle slot of any class is dropped by the scheduler.

Nothing here runs per request: a slot looks at its session only between two tasks.
"""

from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from gevent.event import AsyncResult

from fwload.recording import measurements


@dataclass(slots=True)
class Session:
    """One arriving person: due at ``intended_ts`` (epoch seconds), ending ``length_s`` after
    it starts (None: only ``max_iterations`` end it)."""

    intended_ts: float
    length_s: float | None
    max_iterations: int | None
    start_ts: float | None = None
    first_ts: float | None = None
    iterations: int = 0
    ends_at: float = field(default=math.inf)

    def begin(self, now: float) -> None:
        self.start_ts = now
        self.ends_at = now + self.length_s if self.length_s is not None else math.inf


class SlotPool:
    """This process's idle slots, per user class (most recently idle first: a slot that
    already logged in is reused before a fresh one has to)."""

    def __init__(self) -> None:
        self.idle: dict[str, deque[Any]] = {}
        self.slots: dict[str, int] = {}
        """Slots that exist now, idle or busy, per class name (they register as they spawn)."""

    def join(self, user_class: str) -> None:
        self.slots[user_class] = self.slots.get(user_class, 0) + 1
        self.idle.setdefault(user_class, deque())

    def leave(self, user_class: str, waiter: AsyncResult | None) -> None:
        self.slots[user_class] = max(self.slots.get(user_class, 0) - 1, 0)
        if waiter is not None:
            try:
                self.idle[user_class].remove(waiter)
            except ValueError:
                pass

    def wait(self, user_class: str, waiter: AsyncResult) -> Session:
        """Block (a gevent wait, nothing spins) until the scheduler hands this slot a session."""
        self.idle[user_class].append(waiter)
        return waiter.get()

    def hand(self, user_class: str, session: Session) -> bool:
        """Give ``session`` to an idle slot of ``user_class``; False when none is idle."""
        waiting = self.idle.get(user_class)
        if not waiting:
            return False
        waiting.pop().set(session)
        return True

    def idle_count(self) -> int:
        return sum(len(waiting) for waiting in self.idle.values())


def record(session: Session, outcome: str, reason: str, user_class: str,
           ended_ts: float | None = None) -> None:
    """Fire the ``session_done`` measurement (a row of sessions.csv) for ``session``."""
    started = session.start_ts
    measurements.session_done.fire(
        intended_ts=session.intended_ts,
        start_ts=started if started is not None else "",
        start_delay_ms=(started - session.intended_ts) * 1000 if started is not None else "",
        first_ms=(session.first_ts - session.intended_ts) * 1000 if session.first_ts is not None else "",
        length_s=session.length_s if session.length_s is not None else "",
        ended_ts=(ended_ts or time.time()) if started is not None else "",
        iterations=session.iterations,
        outcome=outcome,
        reason=reason,
        user_class=user_class,
    )
