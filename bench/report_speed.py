"""Benchmark 4, analysis: time and peak memory of `fwload report` against just reading the data.

Each measurement runs in a fresh Python process (peak memory is its VmHWM, which starts
afresh at exec), with its imports done before the clock starts. The report is
`analysis.outputs.build_outputs` (every file ``fwload report`` writes). The baselines read
the same columns of the same run (the request columns the analysis uses, every resource
column): with pyarrow (``pyarrow.parquet.read_table``, the plain read, and the same into
pandas DataFrames), and, for continuity with the CSV layout, ``pandas.read_csv`` of the
same run exported as CSV (``fwload export --csv``; skipped above `CSV_MAX_ROWS`, a CSV of
gigabytes that only says the same).

Run directories of 1, 10 and 30 M requests plus 200 pods sampled every 15 s for an hour are
generated once per run (`bench.synthetic`) under the work folder. Each figure is the best
of ``analysis_repeats`` runs. Linear growth is judged from the smallest to the largest size:
the report's fixed cost (charts) makes the small run relatively slower, so growth per data
growth stays at or below 1 when the rest is linear.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

from bench.errors import BenchError
from bench.procs import REPO, child_env, python
from bench.sizes import Sizes
from bench.synthetic import write_csv_copy, write_run
from bench.table import Row

NAME = "analysis"
TIME_TARGET = 3.0
LINEAR_TARGET = 1.25
MEMORY_TARGET = 1.0
SIZE_TARGET_MIB = 20.0
CSV_MAX_ROWS = 10_000_000

_MEASURE = """
import json, re, sys, time
{setup}
started = time.perf_counter()
{body}
seconds = time.perf_counter() - started
peak_kib = int(re.search(r"VmHWM:\\s+(\\d+)", open("/proc/self/status").read()).group(1))
print(json.dumps({{"seconds": seconds, "peak_mib": peak_kib / 1024}}))
"""
_READ = ("import pyarrow.parquet as pq\nfrom analysis.load import ANALYSIS_COLUMNS\n"
         "columns = {'requests': list(ANALYSIS_COLUMNS['requests']), 'resources': None}")
CASES = {
    "report": ("from analysis.outputs import build_outputs",
               "build_outputs(sys.argv[1])"),
    "pyarrow": (_READ, "tables = [pq.read_table(f'{sys.argv[1]}/{name}.parquet', columns=cols) "
                       "for name, cols in columns.items()]"),
    "pyarrow_pandas": (_READ + "\nimport pandas", "frames = [pq.read_table(f'{sys.argv[1]}/{name}.parquet', "
                                                 "columns=cols).to_pandas() for name, cols in columns.items()]"),
    "pandas_csv": ("import pandas as pd",
                   "frames = [pd.read_csv(sys.argv[1] + f) for f in ('/requests.csv', '/resources.csv')]"),
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
                            capture_output=True, text=True, cwd=REPO, env=child_env(), timeout=1800, check=False)
    if result.returncode != 0:
        raise BenchError(f"{case} on {run_dir} failed:\n{result.stderr[-2000:]}")
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    return Figures(figures["seconds"], figures["peak_mib"])


def synthetic_dir(work: Path, rows: int, sizes: Sizes) -> Path:
    """The cached run directory for ``rows`` requests (generated when missing)."""
    path = work / f"run2-{rows}-{sizes.pods}pods-{sizes.run_hours:g}h"
    marker = path / ".complete"
    if not marker.exists():
        write_run(path, rows, pods=sizes.pods, hours=sizes.run_hours)
        marker.touch()
    return path


def directory_bytes(path: Path) -> int:
    return sum(entry.stat().st_size for entry in path.iterdir() if entry.is_file() and not entry.name.startswith("."))


def _label(rows: int) -> str:
    return f"{rows / 1e6:g} M" if rows >= 1_000_000 else f"{rows / 1e3:g} k"


def _mib(value: float) -> str:
    return f"{value / 2**20:,.1f} MiB"


def run(sizes: Sizes, work: Path) -> list[Row]:
    rows: list[Row] = []
    times: dict[int, tuple[float, float]] = {}
    target_rows = sizes.report_rows[-2] if len(sizes.report_rows) > 2 else sizes.report_rows[-1]
    for count in sizes.report_rows:
        run_dir = synthetic_dir(work, count, sizes)
        arrow, arrow_pandas, report = (measure(case, run_dir, sizes.analysis_repeats)
                                       for case in ("pyarrow", "pyarrow_pandas", "report"))
        times[count] = (report.seconds, arrow.seconds)
        ratio = report.seconds / arrow.seconds
        judged = count == target_rows
        what = f"{_label(count)} requests, {sizes.pods} pods"
        rows += [
            Row(NAME, f"fwload report time vs pyarrow read of the same columns, {what}", f"{report.seconds:.2f} s",
                f"{arrow.seconds:.2f} s", ratio, f"<= {TIME_TARGET:g}" if judged else "",
                ratio <= TIME_TARGET if judged else None),
            Row(NAME, f"fwload report time vs the same read into pandas, {what}", f"{report.seconds:.2f} s",
                f"{arrow_pandas.seconds:.2f} s", report.seconds / arrow_pandas.seconds),
            Row(NAME, f"fwload report peak RSS vs the pyarrow read, {what}", f"{report.peak_mib:,.0f} MiB",
                f"{arrow.peak_mib:,.0f} MiB", report.peak_mib / arrow.peak_mib,
                f"<= {MEMORY_TARGET:g}" if judged else "", report.peak_mib / arrow.peak_mib <= MEMORY_TARGET
                if judged else None),
            Row(NAME, f"fwload report peak RSS vs the read into pandas, {what}", f"{report.peak_mib:,.0f} MiB",
                f"{arrow_pandas.peak_mib:,.0f} MiB", report.peak_mib / arrow_pandas.peak_mib),
        ]
        if count <= CSV_MAX_ROWS:
            csv_dir = write_csv_copy(run_dir, work / f"{run_dir.name}-csv")
            pandas = measure("pandas_csv", csv_dir, sizes.analysis_repeats)
            rows += [
                Row(NAME, f"fwload report time vs pandas.read_csv of the same data as CSV, {what}",
                    f"{report.seconds:.2f} s", f"{pandas.seconds:.2f} s", report.seconds / pandas.seconds),
                Row(NAME, f"fwload report peak RSS vs pandas.read_csv, {what}", f"{report.peak_mib:,.0f} MiB",
                    f"{pandas.peak_mib:,.0f} MiB", report.peak_mib / pandas.peak_mib),
            ]
        if judged:
            size = (run_dir / "requests.parquet").stat().st_size * 1e6 / count
            csv_size = (csv_dir / "requests.csv").stat().st_size * 1e6 / count if count <= CSV_MAX_ROWS \
                else float("nan")
            rows.append(Row(NAME, f"run directory bytes per 1 M requests: the requests table ({what}; the whole "
                            f"directory {_mib(directory_bytes(run_dir))}), vs the same as CSV",
                            _mib(size), _mib(csv_size), size / csv_size, f"<= {SIZE_TARGET_MIB:g} MiB",
                            size <= SIZE_TARGET_MIB * 2**20))
    small, large = min(times), max(times)
    growth = (times[large][0] / times[small][0]) / (large / small)
    rows.append(Row(NAME, f"report time growth {_label(small)} -> {_label(large)} per data growth (1 = linear; "
                    f"pyarrow read: {times[large][1] / times[small][1] / (large / small):.2f})",
                    f"x{times[large][0] / times[small][0]:.2f}", f"x{large / small:g} requests", growth,
                    f"<= {LINEAR_TARGET:g}", growth <= LINEAR_TARGET))
    return rows
