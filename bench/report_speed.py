"""Benchmark 4, analysis: time and peak memory of `fwload report` against just reading the data.

Each measurement runs in a fresh Python process (peak memory is its VmHWM, which starts
afresh at exec), with its imports done before the clock starts: the report is
`analysis.outputs.build_outputs` (every file ``fwload report`` writes), the baselines are
``pandas.read_csv`` and ``pyarrow.csv.read_csv`` of the same requests.csv and resources.csv.
Run directories of 1, 5 and 10 M requests and 200 pods sampled every 15 s for an hour are
generated once per run (`bench.synthetic`) under the work folder. Each figure is the best
of ``analysis_repeats`` runs. Linear growth is judged on the largest step (5 M -> 10 M),
where the report's fixed cost (charts, ~3 s) no longer hides it.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

from bench.errors import BenchError
from bench.procs import REPO, child_env, python
from bench.sizes import Sizes
from bench.synthetic import write_run
from bench.table import Row

NAME = "analysis"
TIME_TARGET = 3.0
LINEAR_TARGET = 1.25

_MEASURE = """
import json, re, sys, time
{setup}
started = time.perf_counter()
{body}
seconds = time.perf_counter() - started
peak_kib = int(re.search(r"VmHWM:\\s+(\\d+)", open("/proc/self/status").read()).group(1))
print(json.dumps({{"seconds": seconds, "peak_mib": peak_kib / 1024}}))
"""
CASES = {
    "report": ("from analysis.outputs import build_outputs",
               "build_outputs(sys.argv[1])"),
    "pandas": ("import pandas as pd",
               "frames = [pd.read_csv(sys.argv[1] + f) for f in ('/requests.csv', '/resources.csv')]"),
    "pyarrow": ("import pyarrow.csv as pc",
                "tables = [pc.read_csv(sys.argv[1] + f) for f in ('/requests.csv', '/resources.csv')]"),
}


@dataclass
class Figures:
    seconds: float
    peak_mib: float


def measure(case: str, run_dir: Path, repeats: int = 1) -> Figures:
    """The fastest of ``repeats`` fresh processes (the least disturbed by the rest of the machine)."""
    return min((_measure_once(case, run_dir) for _ in range(repeats)), key=lambda figures: figures.seconds)


def _measure_once(case: str, run_dir: Path) -> Figures:
    setup, body = CASES[case]
    result = subprocess.run([python(), "-c", _MEASURE.format(setup=setup, body=body), str(run_dir)],
                            capture_output=True, text=True, cwd=REPO, env=child_env(), timeout=900, check=False)
    if result.returncode != 0:
        raise BenchError(f"{case} on {run_dir} failed:\n{result.stderr[-2000:]}")
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    return Figures(figures["seconds"], figures["peak_mib"])


def synthetic_dir(work: Path, rows: int, sizes: Sizes) -> Path:
    """The cached run directory for ``rows`` requests (generated when missing)."""
    path = work / f"run-{rows}-{sizes.pods}pods-{sizes.run_hours:g}h"
    marker = path / ".complete"
    if not marker.exists():
        write_run(path, rows, pods=sizes.pods, hours=sizes.run_hours)
        marker.touch()
    return path


def _label(rows: int) -> str:
    return f"{rows / 1e6:g} M" if rows >= 1_000_000 else f"{rows / 1e3:g} k"


def run(sizes: Sizes, work: Path) -> list[Row]:
    rows: list[Row] = []
    times: dict[int, tuple[float, float]] = {}
    for count in sizes.report_rows:
        run_dir = synthetic_dir(work, count, sizes)
        pandas, arrow, report = (measure(case, run_dir, sizes.analysis_repeats)
                                 for case in ("pandas", "pyarrow", "report"))
        times[count] = (report.seconds, pandas.seconds)
        ratio = report.seconds / pandas.seconds
        what = f"{_label(count)} requests, {sizes.pods} pods"
        rows += [
            Row(NAME, f"fwload report time vs pandas.read_csv, {what}", f"{report.seconds:.1f} s",
                f"{pandas.seconds:.1f} s", ratio, f"<= {TIME_TARGET:g}", ratio <= TIME_TARGET),
            Row(NAME, f"fwload report time vs pyarrow.csv.read_csv, {what}", f"{report.seconds:.1f} s",
                f"{arrow.seconds:.1f} s", report.seconds / arrow.seconds),
            Row(NAME, f"fwload report peak RSS vs pandas.read_csv, {what}", f"{report.peak_mib:,.0f} MiB",
                f"{pandas.peak_mib:,.0f} MiB", report.peak_mib / pandas.peak_mib),
        ]
    mid, large = sorted(times)[-2:]
    growth = (times[large][0] / times[mid][0]) / (large / mid)
    rows.append(Row(NAME, f"report time growth {_label(mid)} -> {_label(large)} per data growth (1 = linear; "
                    f"read_csv: {times[large][1] / times[mid][1] / (large / mid):.2f})",
                    f"x{times[large][0] / times[mid][0]:.2f}", f"x{large / mid:g} requests", growth,
                    f"<= {LINEAR_TARGET:g}", growth <= LINEAR_TARGET))
    return rows
