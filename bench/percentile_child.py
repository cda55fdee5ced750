"""The Locust side of the percentile benchmark, run as a child process (it imports Locust).

The same latencies go, one request event each, through fwload's Recorder (into a run
directory the analysis then reads) and through Locust's own ``RequestStats``; the child
prints Locust's p50/p95/p99 as JSON. The parent computes the exact values and fwload's.

    python -m bench.percentile_child RUN_PARENT LATENCIES.npy
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import ClassVar

import numpy as np
from locust.env import Environment
from locust.stats import RequestStats

from fwload.recording.recorder import Recorder
from fwload.recording.rundir import RunDirectory

QUANTILES = (50, 95, 99)


class _Ok:
    status_code = 200
    headers: ClassVar[dict[str, str]] = {}


def main(parent: Path, latencies: Path) -> None:
    values = np.load(latencies).tolist()
    run = RunDirectory.create(parent, "percentiles", {"host": "http://127.0.0.1"}, run_id="percentiles")
    recorder = Recorder(Environment())
    recorder.start(run)
    stats = RequestStats()
    start, ok = time.time() - len(values) * 0.001, _Ok()
    for index, value in enumerate(values):
        recorder.on_request("GET", "/api/v1/tracks/", value, 100, response=ok,
                            context={"group": "browse", "user_class": "Bench"}, start_time=start + index * 0.001)
        stats.log_request("GET", "/api/v1/tracks/", value, 100)
    recorder.flush()
    run.finalize("complete", exit_code=0)
    entry = stats.get("/api/v1/tracks/", "GET")
    print(json.dumps({"run_dir": str(run.path),
                      "locust": {q: entry.get_response_time_percentile(q / 100) for q in QUANTILES}}))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
