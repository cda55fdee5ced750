"""Running a collector every interval beside the load, without ever stopping the run.

Under Locust (gevent monkey-patched) the loop is a greenlet, so a collection yields to
the users while it waits on the network; elsewhere it is a daemon thread. Both can be
replaced (``spawn``/``sleep``) to run it in a test or another event loop. Whatever the
collector raises becomes a ``gap`` event; a failing sink is logged and the loop goes on.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from fwload.collectors.base import Collection, Collector, CollectorEvent, ResourceSample

log = logging.getLogger(__name__)

Spawn = Callable[[Callable[[], None]], Any]
Sink = Callable[[list[ResourceSample], list[CollectorEvent]], Any]


def gevent_patched() -> bool:
    """Whether gevent has monkey-patched threading (as importing locust does)."""
    monkey = sys.modules.get("gevent.monkey")
    return bool(monkey and monkey.is_module_patched("threading"))


def _spawn_thread(target: Callable[[], None]) -> threading.Thread:
    thread = threading.Thread(target=target, name="fwload-collector", daemon=True)
    thread.start()
    return thread


def _spawn_greenlet(target: Callable[[], None]) -> Any:
    import gevent

    return gevent.spawn(target)


class CollectorLoop:
    """Calls ``collector.collect(stage())`` every ``interval_s`` (None: the backend's default)
    and hands the samples and events to ``sink(samples, events)``.

    The cadence is fixed (a slow collection shortens the next wait rather than drifting);
    if a collection overruns a whole interval the next one starts at once, without a burst.
    """

    def __init__(
        self,
        collector: Collector,
        interval_s: float | None,
        sink: Sink,
        *,
        stage: Callable[[], str] = lambda: "",
        spawn: Spawn | None = None,
        sleep: Callable[[float], Any] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.collector = collector
        self.interval_s = interval_s if interval_s is not None else collector.default_interval_s
        if self.interval_s <= 0:
            raise ValueError("the collector interval must be positive")
        self._sink = sink
        self._stage = stage
        self._spawn = spawn or (_spawn_greenlet if gevent_patched() else _spawn_thread)
        self._wake = threading.Event()
        self._sleep = sleep or self._wake.wait
        self._clock = clock
        self._handle: Any = None
        self._stopped = False
        self._sleeping = False
        self.collections = 0

    def start(self) -> None:
        if self._handle is not None:
            return
        self._stopped = False
        self._wake.clear()
        self._handle = self._spawn(self._run)

    def stop(self, timeout_s: float = 5.0) -> None:
        """Ask the loop to end and wait for the collection in progress (at most ``timeout_s``).

        A greenlet caught in an injected sleep (``gevent.sleep``) is killed there rather than
        waited for; a collection in progress is always allowed to finish.
        """
        self._stopped = True
        self._wake.set()
        handle, self._handle = self._handle, None
        if self._sleeping and hasattr(handle, "kill"):
            handle.kill(block=False)
        join = getattr(handle, "join", None)
        if join is not None:
            join(timeout_s)

    @property
    def running(self) -> bool:
        return self._handle is not None and not self._stopped

    def run_once(self) -> Collection:
        """One collection handed to the sink; returns it (an error becomes a ``gap`` event)."""
        try:
            stage = self._stage()
        except Exception:
            log.exception("the stage callback failed")
            stage = ""
        try:
            collection = self.collector.collect(stage)
        except Exception as error:
            log.exception("collector %s raised", self.collector.name)
            detail = f"collector error: {type(error).__name__}: {error}"
            gap = {"source": self.collector.name, "detail": detail}
            collection = Collection(events=[CollectorEvent(time.time(), "gap", gap)])
        try:
            self._sink(collection.samples, collection.events)
        except Exception:
            log.exception("the collector sink failed")
        self.collections += 1
        return collection

    def _run(self) -> None:
        next_at = self._clock()
        while not self._stopped:
            self.run_once()
            next_at += self.interval_s
            delay = next_at - self._clock()
            if delay < 0:
                next_at, delay = self._clock(), 0.0
            if self._stopped:
                break
            self._sleeping = True
            try:
                self._sleep(delay)
            finally:
                self._sleeping = False
