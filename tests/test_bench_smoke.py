"""``python -m bench --quick`` runs every benchmark at tiny sizes, so none of them can rot unnoticed.

Only that they run and report: every benchmark has its rows and every ratio is a number.
Whether targets are met is the table's business, never a test's (no timing assertions).
nginx, wrk and curl are needed: CI installs them; a machine without them fails here with
the install command rather than skipping.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BENCHMARKS = ("generator", "streaming", "listeners", "recording", "analysis", "collector", "percentiles", "arrivals")
TOOLS = {"nginx": "nginx-light", "wrk": "wrk", "curl": "curl"}


def _missing_tools() -> list[str]:
    return [f"{tool} (apt-get install -y {package})" for tool, package in TOOLS.items()
            if shutil.which(tool) is None and shutil.which(tool, path="/usr/sbin:/usr/local/sbin:/sbin") is None]


@pytest.mark.timeout(240)
def test_every_benchmark_runs_quick_and_reports_numeric_ratios(tmp_path):
    missing = _missing_tools()
    if missing:
        pytest.fail("the benchmarks need " + ", ".join(missing))
    out = tmp_path / "bench.json"
    result = subprocess.run([sys.executable, "-m", "bench", "--quick", "--json", str(out)], cwd=REPO,
                            capture_output=True, text=True, timeout=220, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = json.loads(out.read_text())["rows"]
    assert {row["benchmark"] for row in rows} == set(BENCHMARKS)
    for row in rows:
        assert isinstance(row["ratio"], float | int) and math.isfinite(row["ratio"]), row
        assert row["measure"] in result.stdout
    assert "machine: " in result.stdout
    targets = [row for row in rows if row["target"]]
    assert all(isinstance(row["met"], bool) for row in targets)
