"""One Locust process per measurement, headless, measured over a steady window by `bench.locustfiles.meter`.

fwload's runs get the options `fwload run` itself passes (no pre-flight, no collector, no
report at the end) and a run directory of their own, whose row count is checked against
Locust's request count: a benchmark of recording that did not record would be worthless.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench.errors import BenchError
from bench.procs import REPO, child_env, pinning, python, run_measured

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
    """Rows in the run directory's requests.csv (header excluded)."""
    files = list(reports.glob("*/requests.csv"))
    if len(files) != 1:
        return 0
    with files[0].open("rb") as file:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: file.read(1 << 20), b"")) - 1
