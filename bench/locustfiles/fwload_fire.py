"""Memory of a recording Locust process: fire Locust's ``request`` event through the real Recorder.

No network: one user fires synthetic requests (real clock, lognormal latencies, six
groups) as fast as the process can, yielding after each batch so the recorder's flush
greenlet and fwload's watch run as in a real test. At each count of ``BENCH_CHECKPOINTS``
it lets the recorder flush, then writes the process's RSS/USS, the rows on disk, the rows
held by the live window and the bytes of the requests table's stream segments to ``BENCH_RESULT``; after the last
one it stops the test.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import itertools
import json
import os
import random
import time
from pathlib import Path
from typing import Any, ClassVar

import gevent
import psutil
from locust import User, constant, events, task

from fwload.plugin import FwloadShape
from fwload.recording.recorder import FLUSH_INTERVAL_S

BATCH = 500
CHECKPOINTS = [int(c) for c in os.environ.get("BENCH_CHECKPOINTS", "1000").split(",")]
GROUPS = ("browse", "search", "listen", "favorites", "history", "instance")
_rng = random.Random(1)
LATENCIES = [round(_rng.lognormvariate(4.5, 0.8), 3) for _ in range(10_007)]


class _Ok:
    """What the recorder reads of a response: a status and headers."""

    status_code = 200
    headers: ClassVar[dict[str, str]] = {}


class Firehose(User):
    wait_time = constant(0)
    fired = 0
    results: ClassVar[list[dict[str, Any]]] = []

    @task
    def fire(self) -> None:
        fire = self.environment.events.request.fire
        latencies = itertools.islice(itertools.cycle(LATENCIES), Firehose.fired % len(LATENCIES), None)
        ok = _Ok()
        for index, latency in zip(range(BATCH), latencies, strict=False):
            group = GROUPS[index % len(GROUPS)]
            fire(request_type="GET", name=f"/api/v1/{group}/", response_time=latency, response_length=1200,
                 response=ok, context={"group": group, "user_class": "Firehose"}, exception=None,
                 start_time=time.time())
        Firehose.fired += BATCH
        gevent.sleep(0)
        if len(Firehose.results) < len(CHECKPOINTS) and Firehose.fired >= CHECKPOINTS[len(Firehose.results)]:
            self.checkpoint()

    def checkpoint(self) -> None:
        gevent.sleep(FLUSH_INTERVAL_S * 1.5)
        session = self.environment.fwload
        run = session.run
        info = psutil.Process().memory_full_info()
        held = _held_uss()
        Firehose.results.append({"requests": Firehose.fired, "rss": info.rss, "uss": info.uss, "held_uss": held,
                                 "rows": run.counts["requests"],
                                 "live_rows": sum(len(window) for window in session.live.windows.values()),
                                 "stream_bytes": sum(p.stat().st_size for p in Path(run.path).glob("requests.*.arrows")),
                                 "time": time.time()})
        Path(os.environ["BENCH_RESULT"]).write_text(json.dumps(Firehose.results))
        if len(Firehose.results) == len(CHECKPOINTS):
            self.environment.runner.quit()


def _held_uss() -> int:
    """USS after a full collection and glibc's ``malloc_trim``: what the process still holds.

    Raw USS also counts free memory the allocators keep for later (its level depends on
    the largest flush so far and on fragmentation, and wanders by ±10 MiB run to run).
    """
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    return psutil.Process().memory_full_info().uss


@events.test_start.add_listener
def _live_window(environment: Any, **_kwargs: Any) -> None:
    """``BENCH_LIVE_WINDOW_S`` shortens the live window, to tell its growth from any other."""
    if os.environ.get("BENCH_LIVE_WINDOW_S"):
        environment.fwload.live.window_s = float(os.environ["BENCH_LIVE_WINDOW_S"])


__all__ = ["Firehose", "FwloadShape"]
