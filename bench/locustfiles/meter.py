"""Measures a steady window inside a benchmark's Locust process, then stops the test.

Imported by every benchmark locustfile, fwload's and plain Locust's alike, so both sides
carry the same (tiny) measuring cost. After ``BENCH_WARMUP_S`` (users spawned, connections
open) it reads the process's CPU time and Locust's totals, again ``BENCH_DURATION_S``
later, writes the difference to ``BENCH_RESULT`` as JSON and quits the runner.
"""

from __future__ import annotations

import json
import os
import resource
import time
from typing import Any

import gevent
from locust import events


def _snapshot(environment: Any) -> dict[str, float]:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    total = environment.runner.stats.total
    return {"cpu_s": usage.ru_utime + usage.ru_stime, "wall_s": time.monotonic(),
            "requests": total.num_requests, "failures": total.num_failures,
            "bytes": total.total_content_length}


def _measure(environment: Any) -> None:
    gevent.sleep(float(os.environ.get("BENCH_WARMUP_S", "2")))
    before = _snapshot(environment)
    started_at = time.time()
    gevent.sleep(float(os.environ.get("BENCH_DURATION_S", "5")))
    after = _snapshot(environment)
    result = {key: after[key] - before[key] for key in before}
    result["users"] = environment.runner.user_count
    result["window"] = [started_at, time.time()]
    with open(os.environ["BENCH_RESULT"], "w", encoding="utf-8") as file:
        json.dump(result, file)
    environment.runner.quit()


@events.test_start.add_listener
def _start(environment: Any, **_kwargs: Any) -> None:
    if os.environ.get("BENCH_RESULT"):
        gevent.spawn(_measure, environment)
