"""Benchmark 7, open arrivals at the generator's limit: sessions started per second against asked.

One Locust process (pinned like the other generator benchmarks) runs an arrivals scenario
whose rate doubles every stage against nginx serving a static file; each session is one
opening call and one task (`bench/locustfiles/fwload_arrivals.py`). Per stage the table
gives the sessions started per second over the asked rate and the sessions dropped (and
why): below the generator's limit every due session starts; above it the scheduler drops
what it cannot start on time (generator CPU above 90 %, or later than max_start_delay)
instead of silently lowering the rate. The last row is the highest asked rate started in
full, as a share of the highest asked.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections import Counter
from pathlib import Path

from bench.errors import BenchError
from bench.locust_runs import LOCUSTFILES
from bench.nginx import Nginx
from bench.procs import child_env, pinning, python, run_measured
from bench.sizes import Sizes
from bench.table import Row
from fwload.recording import schema
from fwload.recording.export import csv_text

NAME = "arrivals"
SLOTS = 500


def scenario(rates: tuple[float, ...], stage_s: float) -> str:
    stages = ", ".join(f"{{duration: {stage_s}s, rate: {rate:g}}}" for rate in rates)
    return (
        "name: bench-arrivals\n"
        "users: [{class: Listener, options: {wait: [0, 0]}}]\n"
        f"load: {{profile: arrivals, arrivals: {{stages: [{stages}], slots: {SLOTS}, "
        "session: {length: null, iterations: 1}}}\n"
        f"caps: {{max_users: {SLOTS}}}\n"
        "collector: {backend: none}\n"
    )


def run(sizes: Sizes) -> list[Row]:
    rates, stage_s = sizes.arrival_rates, sizes.arrival_stage_s
    with Nginx(cpus=pinning()["server"]) as server, \
            tempfile.TemporaryDirectory(prefix="fwload-bench-arr-") as folder:
        path = Path(folder) / "arrivals.yaml"
        path.write_text(scenario(rates, stage_s))
        reports = Path(folder) / "reports"
        limit = int(len(rates) * stage_s + 60)
        command = [python(), "-m", "locust", "-f", str(LOCUSTFILES / "fwload_arrivals.py"), "--headless",
                   "--only-summary", "--host", server.base, "--scenario", str(path), "--skip-preflight",
                   "--no-report", "--reports-dir", str(reports), "--stop-timeout", "2",
                   "--loglevel", "WARNING"]
        finished = run_measured(command, timeout_s=limit, cpus=pinning()["generator"], env=child_env(),
                                check=False)
        runs = [run.parent for run in reports.glob(f"*/{schema.RUN_JSON}")]
        if len(runs) != 1:
            raise BenchError(f"arrivals: no run directory was written:\n{finished.stderr[-2000:]}")
        sessions = list(csv.DictReader(io.StringIO(csv_text(runs[0], schema.SESSIONS))))
    if not sessions:
        raise BenchError(f"arrivals: no session came due:\n{finished.stderr[-2000:]}")
    return rows_of(sessions, rates, stage_s)


def rows_of(sessions: list[dict[str, str]], rates: tuple[float, ...], stage_s: float) -> list[Row]:
    first = min(float(s["intended_ts"]) for s in sessions)
    started, dropped = Counter[int](), Counter[tuple[int, str]]()
    for s in sessions:
        stage = min(int((float(s["intended_ts"]) - first) // stage_s), len(rates) - 1)
        if s["outcome"] == "dropped":
            dropped[(stage, s["reason"])] += 1
        elif s["start_ts"]:
            started[stage] += 1
    rows, full = [], 0.0
    for stage, asked in enumerate(rates):
        achieved = started[stage] / stage_s
        lost = {reason: n for (index, reason), n in dropped.items() if index == stage}
        why = ", ".join(f"{reason} {n}" for reason, n in sorted(lost.items())) or "none"
        rows.append(Row(NAME, f"sessions started / asked at {asked:g}/s (dropped: {why})",
                        f"{achieved:,.0f}/s", f"{asked:g}/s", achieved / asked))
        if not lost:
            full = max(full, asked)
    rows.append(Row(NAME, "highest asked rate started in full (no session dropped) / highest asked",
                    f"{full:g}/s", f"{rates[-1]:g}/s", full / rates[-1]))
    return rows
