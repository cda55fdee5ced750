"""Benchmark 6, percentile accuracy: fwload's p50/p95/p99 and Locust's against the exact values.

Known latencies (a lognormal body and a slow tail, with sub-millisecond digits) are fed
through fwload's Recorder and through Locust's ``RequestStats`` in a child process
(`bench.percentile_child`); fwload's figures are those its analysis reports from the run
directory. The exact values are numpy's nearest rank (``method="inverted_cdf"``) of the
latencies as generated. Locust keeps response times rounded to two significant digits
(to 10 ms above 100 ms, 100 ms above 1 s), so its percentiles are off by up to a few %;
fwload writes microseconds and ranks every request.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from bench.errors import BenchError
from bench.procs import REPO, child_env, python
from bench.sizes import Sizes
from bench.table import Row

NAME = "percentiles"
QUANTILES = (50, 95, 99)
FWLOAD_TARGET = 1e-5


def latencies(count: int, seed: int = 7) -> np.ndarray:
    rng = np.random.default_rng(seed)
    slow = rng.random(count) < 0.1
    return np.where(slow, rng.lognormal(7.2, 0.5, count), rng.lognormal(4.6, 0.6, count))


def _worst(found: dict[int, float], exact: dict[int, float]) -> float:
    return max(abs(found[q] - exact[q]) / exact[q] for q in QUANTILES)


def _show(values: dict[int, float]) -> str:
    return " / ".join(f"{values[q]:,.3f}" for q in QUANTILES)


def run(sizes: Sizes) -> list[Row]:
    from analysis.analyse import analyse_run

    values = latencies(sizes.latencies)
    exact = {q: float(np.percentile(values, q, method="inverted_cdf")) for q in QUANTILES}
    with tempfile.TemporaryDirectory(prefix="fwload-bench-pct-") as folder:
        np.save(Path(folder) / "latencies.npy", values)
        child = subprocess.run([python(), "-m", "bench.percentile_child", folder, str(Path(folder) / "latencies.npy")],
                               capture_output=True, text=True, cwd=REPO, env=child_env(), timeout=300, check=False)
        if child.returncode != 0:
            raise BenchError(f"the percentile child failed:\n{child.stderr[-2000:]}")
        answer = json.loads(child.stdout.strip().splitlines()[-1])
        overall = analyse_run(answer["run_dir"]).requests.overall.iloc[0]
    fwload = {q: float(overall[f"p{q}"]) for q in QUANTILES}
    locust = {q: float(answer["locust"][str(q)]) for q in QUANTILES}
    if int(overall["samples"]) != len(values):
        raise BenchError(f"the analysis ranked {overall['samples']} of {len(values)} latencies")
    fw_error, locust_error = _worst(fwload, exact), _worst(locust, exact)
    return [
        Row(NAME, f"p50/p95/p99 (ms) of {len(values):,} latencies, fwload report vs exact: max relative error",
            _show(fwload), _show(exact), fw_error, f"<= {FWLOAD_TARGET:g}", fw_error <= FWLOAD_TARGET),
        Row(NAME, "p50/p95/p99 (ms), Locust's own stats vs exact: max relative error (reference)",
            _show(locust), _show(exact), locust_error),
    ]
