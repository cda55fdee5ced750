"""Benchmark 3, recording and memory: a Locust process that recorded 200 k and then 1 M requests.

The request event is fired through the real Recorder, with the plugin, the live
statistics and the watch running (`bench.locustfiles.fwload_fire`); memory is read after
the recorder flushed. The ratios say whether memory grows with the number of requests
(USS at the last checkpoint over USS at the first) and whether the run directory grows
linearly (bytes per row at the last checkpoint over bytes per row at the first).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from bench.errors import BenchError
from bench.locust_runs import LOCUSTFILES
from bench.procs import child_env, pinning, python, run_measured
from bench.sizes import Sizes
from bench.table import Row

NAME = "recording"
GROWTH_TARGET = 1.10


def fire(checkpoints: tuple[int, ...]) -> list[dict]:
    with tempfile.TemporaryDirectory(prefix="fwload-bench-fire-") as folder:
        result = Path(folder) / "checkpoints.json"
        command = [python(), "-m", "locust", "-f", str(LOCUSTFILES / "fwload_fire.py"), "--headless",
                   "--only-summary", "-u", "1", "-r", "1", "-t", "600s", "--host", "http://127.0.0.1:9",
                   "--stop-timeout", "2", "--loglevel", "WARNING", "--skip-preflight", "--no-report",
                   "--collector", "none", "--reports-dir", str(Path(folder) / "reports")]
        env = child_env(BENCH_RESULT=str(result), BENCH_CHECKPOINTS=",".join(map(str, checkpoints)))
        finished = run_measured(command, timeout_s=660, cpus=pinning()["generator"], env=env)
        points = json.loads(result.read_text()) if result.exists() else []
    if len(points) != len(checkpoints):
        raise BenchError(f"the firehose reached {len(points)} of {len(checkpoints)} checkpoints:\n"
                         f"{finished.stderr[-2000:]}")
    for point in points:
        if point["rows"] != point["requests"]:
            raise BenchError(f"{point['requests']} requests fired but {point['rows']} rows recorded")
    return points


def _mib(value: float) -> str:
    return f"{value / 2**20:,.1f} MiB"


def run(sizes: Sizes) -> list[Row]:
    points = fire(sizes.record_checkpoints)
    first, last = points[0], points[-1]
    growth = last["uss"] / first["uss"]
    per_row_first = first["csv_bytes"] / first["rows"]
    per_row_last = last["csv_bytes"] / last["rows"]
    rate = (last["requests"] - first["requests"]) / max(last["time"] - first["time"], 1e-9)
    label = f"{first['requests'] // 1000:,}k -> {last['requests'] // 1000:,}k requests"
    return [
        Row(NAME, f"generator USS after {label} (~{rate:,.0f} req/s)", _mib(last["uss"]), _mib(first["uss"]),
            growth, f"<= {GROWTH_TARGET}", growth <= GROWTH_TARGET),
        Row(NAME, f"generator RSS after {label}", _mib(last["rss"]), _mib(first["rss"]), last["rss"] / first["rss"]),
        Row(NAME, "requests.csv bytes per 1 M requests (last vs first checkpoint)",
            _mib(per_row_last * 1e6), _mib(per_row_first * 1e6), per_row_last / per_row_first),
    ]
