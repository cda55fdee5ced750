"""Benchmark 3, recording and memory: a Locust process that recorded 200 k and then 1 M requests.

The request event is fired through the real Recorder, with the plugin, the live
statistics and the watch running (`bench.locustfiles.fwload_fire`); memory is read after
the recorder flushed. The ratios say whether memory grows with the number of requests
(USS at the last checkpoint over USS at the first), whether the requests' stream segment
grows linearly (bytes per row at the last checkpoint over bytes per row at the first) and
how much the Parquet compaction at the end saves.

At this rate every request is still inside the live statistics' 120 s window (exact recent
percentiles for abort rules and the web UI), which is bounded by time, not by count. A
second run, with the window cut to 5 s so that it fills within the run, goes on to 3 M
requests: past the warm-up (the first flushes set the allocator's high-water mark), the
process stops growing. That comparison uses the USS the process holds after a collection
and ``malloc_trim`` (`bench.locustfiles.fwload_fire`), steadier than raw USS.
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
SHORT_WINDOW_S = 5.0


def fire(checkpoints: tuple[int, ...], live_window_s: float | None = None) -> list[dict]:
    with tempfile.TemporaryDirectory(prefix="fwload-bench-fire-") as folder:
        result = Path(folder) / "checkpoints.json"
        command = [python(), "-m", "locust", "-f", str(LOCUSTFILES / "fwload_fire.py"), "--headless",
                   "--only-summary", "-u", "1", "-r", "1", "-t", "600s", "--host", "http://127.0.0.1:9",
                   "--stop-timeout", "2", "--loglevel", "WARNING", "--skip-preflight", "--no-report",
                   "--collector", "none", "--reports-dir", str(Path(folder) / "reports")]
        env = child_env(BENCH_RESULT=str(result), BENCH_CHECKPOINTS=",".join(map(str, checkpoints)),
                        BENCH_LIVE_WINDOW_S=str(live_window_s or ""))
        finished = run_measured(command, timeout_s=660, cpus=pinning()["generator"], env=env)
        points = json.loads(result.read_text()) if result.exists() else []
        parquet = list((Path(folder) / "reports").glob("*/requests.parquet"))
        if points:
            points[-1]["parquet_bytes"] = parquet[0].stat().st_size if parquet else float("nan")
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
    steady = fire(sizes.steady_checkpoints, live_window_s=SHORT_WINDOW_S)
    first, last = points[0], points[-1]
    growth, steady_growth = last["uss"] / first["uss"], steady[-1]["held_uss"] / steady[0]["held_uss"]
    rate = (last["requests"] - first["requests"]) / max(last["time"] - first["time"], 1e-9)
    held = last["live_rows"] - first["live_rows"]
    per_held = (last["uss"] - first["uss"]) / held if held > 0 else float("nan")
    per_row_first, per_row_last = first["stream_bytes"] / first["rows"], last["stream_bytes"] / last["rows"]
    compacted = last["parquet_bytes"] / last["rows"]
    return [
        Row(NAME, f"generator USS after {_count(first)} -> {_count(last)} requests at ~{rate / 1000:,.0f}k req/s "
            f"(120 s live window: all of them inside it; RSS {_mib(last['rss'])})",
            _mib(last["uss"]), _mib(first["uss"]), growth, f"<= {GROWTH_TARGET}", growth <= GROWTH_TARGET),
        Row(NAME, f"generator USS held after {_count(steady[0])} -> {_count(steady[-1])} requests, live window "
            f"{SHORT_WINDOW_S:g} s (steady state: what grows with the count; raw USS x"
            f"{steady[-1]['uss'] / steady[0]['uss']:.2f})",
            _mib(steady[-1]["held_uss"]), _mib(steady[0]["held_uss"]), steady_growth, f"<= {GROWTH_TARGET}",
            steady_growth <= GROWTH_TARGET),
        Row(NAME, "USS growth per request held in the live window (its arrays: 16 B)",
            f"{per_held:,.0f} B", "16 B", per_held / 16),
        Row(NAME, "requests stream segment bytes per 1 M requests while the run goes (last vs first checkpoint)",
            _mib(per_row_last * 1e6), _mib(per_row_first * 1e6), per_row_last / per_row_first),
        Row(NAME, "requests.parquet after the run vs the stream segment (firehose rows: cycled latencies, so "
            "both smaller than a real run's; the analysis benchmark measures realistic ones)",
            _mib(compacted * 1e6), _mib(per_row_last * 1e6), compacted / per_row_last),
    ]


def _count(point: dict) -> str:
    count = point["requests"]
    return f"{count / 1e6:g} M" if count >= 1_000_000 else f"{count / 1e3:g} k"
