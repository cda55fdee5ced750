"""Locust processes measured over a steady window by `bench.locustfiles.meter`, in pairs.

A pair is plain Locust and fwload started at the same moment, pinned to the same CPU, so
whatever else the machine does (on a shared CI runner, plenty) falls on both sides of the
ratio alike; one round after another, the same machine drifted by ±10 %, side by side by
a few %. Several rounds give a median and a spread.

fwload's runs get the options `fwload run` itself passes (no pre-flight, no collector, no
report at the end) and a run directory of their own, whose row count is checked against
Locust's request count: a benchmark of recording that did not record would be worthless.
"""

from __future__ import annotations

import json
import statistics
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from bench.errors import BenchError
from bench.procs import REPO, child_env, pinning, python, run_measured
from fwload.recording import columnar, schema

LOCUSTFILES = REPO / "bench" / "locustfiles"


@dataclass
class Window:
    """What one Locust process did during its measured window."""

    cpu_s: float
    wall_s: float
    requests: int
    failures: int
    bytes: int
    recorded_rows: int | None = None

    @property
    def requests_per_cpu_s(self) -> float:
        return self.requests / self.cpu_s if self.cpu_s else 0.0

    @property
    def bytes_per_cpu_s(self) -> float:
        return self.bytes / self.cpu_s if self.cpu_s else 0.0


def run_locust(locustfile: str, host: str, *, users: int, warmup_s: float, duration_s: float,
               fwload: bool, extra_env: dict[str, str] | None = None) -> Window:
    """Run ``bench/locustfiles/<locustfile>`` against ``host``; the meter stops it after the window."""
    with tempfile.TemporaryDirectory(prefix="fwload-bench-locust-") as folder:
        result = Path(folder) / "window.json"
        reports = Path(folder) / "reports"
        limit = int(warmup_s + duration_s + 30)
        command = [python(), "-m", "locust", "-f", str(LOCUSTFILES / locustfile), "--headless", "--only-summary",
                   "-u", str(users), "-r", str(max(users, 1) * 10), "-t", f"{limit}s", "--host", host,
                   "--stop-timeout", "2", "--loglevel", "WARNING"]
        if fwload:
            command += ["--skip-preflight", "--no-report", "--collector", "none", "--reports-dir", str(reports)]
        env = child_env(BENCH_RESULT=str(result), BENCH_WARMUP_S=str(warmup_s), BENCH_DURATION_S=str(duration_s),
                        **(extra_env or {}))
        finished = run_measured(command, timeout_s=limit + 30, cpus=pinning()["generator"], env=env)
        if not result.exists():
            raise BenchError(f"{locustfile}: Locust ended without measuring:\n{finished.stderr[-2000:]}")
        window = json.loads(result.read_text())
        rows = _recorded_rows(reports) if fwload else None
        measured = Window(cpu_s=window["cpu_s"], wall_s=window["wall_s"], requests=int(window["requests"]),
                          failures=int(window["failures"]), bytes=int(window["bytes"]), recorded_rows=rows)
    if measured.failures:
        raise BenchError(f"{locustfile}: {measured.failures} failed requests against nginx:\n{finished.stderr[-2000:]}")
    if fwload and not rows:
        raise BenchError(f"{locustfile}: fwload recorded no request rows:\n{finished.stderr[-2000:]}")
    return measured


def _recorded_rows(reports: Path) -> int:
    """Rows in the (only) run directory's requests table."""
    runs = [path for path in reports.iterdir() if path.is_dir()] if reports.is_dir() else []
    return columnar.count_rows(runs[0], schema.REQUESTS) if len(runs) == 1 else 0


@dataclass
class Pairs:
    """Rounds of (baseline, fwload) windows measured side by side."""

    baseline: list[Window]
    fwload: list[Window]

    def ratios(self, rate: str) -> list[float]:
        return [getattr(f, rate) / getattr(b, rate) for b, f in zip(self.baseline, self.fwload, strict=True)]

    def median(self, rate: str) -> float:
        return statistics.median(self.ratios(rate))

    def spread(self, rate: str) -> str:
        ratios = self.ratios(rate)
        return f"median of {len(ratios)} paired rounds, {min(ratios):.2f}-{max(ratios):.2f}"

    @staticmethod
    def total(windows: list[Window], rate: str) -> float:
        cpu = sum(w.cpu_s for w in windows)
        work = sum(w.bytes if rate == "bytes_per_cpu_s" else w.requests for w in windows)
        return work / cpu if cpu else 0.0


def run_pairs(baseline: str, fwload: str, host: str, *, rounds: int, users: int, warmup_s: float,
              duration_s: float, extra_env: dict[str, str] | None = None, plugin: bool = True) -> Pairs:
    """``rounds`` times, the baseline locustfile and fwload's at once, each in its own process.

    ``plugin`` says whether fwload's locustfile loads the plugin (then it gets fwload's options).
    """
    pairs = Pairs([], [])
    with ThreadPoolExecutor(2) as pool:
        for _ in range(rounds):
            sides = [pool.submit(run_locust, name, host, users=users, warmup_s=warmup_s, duration_s=duration_s,
                                 fwload=is_fwload, extra_env=extra_env)
                     for name, is_fwload in ((baseline, False), (fwload, plugin))]
            plain, ours = (side.result() for side in sides)
            pairs.baseline.append(plain)
            pairs.fwload.append(ours)
    return pairs
