"""Time and peak memory of a full report on a synthetic run, against plain ``pandas.read_csv``.

Not a test (no timing assertion): run it by hand, or from bench/, to see the ratio on this machine:

    .venv/bin/python tests/analysis/bench_report.py --rows 1000000
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run_builders import MI, T0, RunDir  # noqa: E402

MEASURE = """
import json, re, sys, time
started = time.perf_counter()
{body}
peak_kib = int(re.search(r"VmHWM:\\s+(\\d+)", open("/proc/self/status").read()).group(1))
print(json.dumps({{"seconds": time.perf_counter() - started, "peak_mib": peak_kib / 1024}}))
"""
"""Peak memory is VmHWM, which (unlike ru_maxrss) starts afresh at exec, not at the parent's peak."""
BASELINE = "import pandas as pd\nframe = pd.read_csv(sys.argv[1] + '/requests.csv')"
REPORT = "from analysis.outputs import build_outputs\nbuild_outputs(sys.argv[1])"
IMPORTS_ONLY = "import pandas as pd\nfrom analysis.outputs import build_outputs"


def synthetic_run(path: Path, rows: int, duration_s: float = 1800.0) -> Path:
    """A five-step run with ``rows`` requests over ``duration_s`` seconds and six components."""
    builder = RunDir(path)
    builder.stages(*((T0 + step * duration_s / 5, 20 * (step + 1)) for step in range(5)))
    for ts in np.arange(T0, T0 + duration_s, 15.0):
        for component in ("api", "nginx", "postgres", "redis", "celery-worker", "celery-beat"):
            builder.resource(float(ts), component, 100.0, 100 * MI, limits=(10, 500, 32 * MI, 128 * MI))
    builder.write()
    rng = np.random.default_rng(1)
    groups = np.array(["browse", "listen", "search", "upload", "import_poll", "favorites"])
    kinds = np.array(
        ["", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "http", "throttled"]
    )
    frame = pd.DataFrame(
        {
            "ts": np.sort(rng.uniform(T0, T0 + duration_s, rows)).round(6),
            "group": groups[rng.integers(0, len(groups), rows)],
            "name": "/api/v1/tracks/",
            "method": "GET",
            "status": 200,
            "response_ms": rng.lognormal(5, 0.8, rows).round(3),
            "bytes": rng.integers(200, 20000, rows),
            "error_kind": kinds[rng.integers(0, len(kinds), rows)],
            "error": "",
            "user_class": "Listener",
            "worker": rng.integers(0, 4, rows).astype(str),
        }
    )
    frame.to_csv(path / "requests.csv", index=False)
    meta = json.loads((path / "run.json").read_text())
    meta["counts"]["requests.csv"] = rows
    (path / "run.json").write_text(json.dumps(meta))
    return path


def measure(body: str, run_dir: Path) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", MEASURE.format(body=body), str(run_dir)],
        check=True,
        capture_output=True,
        text=True,
        cwd=HERE.parents[1],
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        run_dir = synthetic_run(Path(folder) / "run", args.rows)
        size = (run_dir / "requests.csv").stat().st_size / MI
        baseline, imports, report = (measure(body, run_dir) for body in (BASELINE, IMPORTS_ONLY, REPORT))
    print(f"{args.rows:,} request rows ({size:.0f} MiB of CSV)")
    for name, figures in (
        ("pandas.read_csv(requests.csv)", baseline),
        ("imports only (pandas + analysis)", imports),
        ("build_outputs (all reports)", report),
    ):
        print(f"  {name:36} {figures['seconds']:6.2f} s  peak RSS {figures['peak_mib']:7.0f} MiB")
    print(
        f"  report / read_csv: time x{report['seconds'] / baseline['seconds']:.2f}, "
        f"peak memory x{report['peak_mib'] / baseline['peak_mib']:.2f}"
    )


if __name__ == "__main__":
    main()
