"""Running fwload and Locust as subprocesses (importing locust here would patch the network)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from fwload.recording import schema
from fwload.recording.export import csv_text
from tests.tables import table_rows

REPO = Path(__file__).resolve().parents[2]
LOCUSTFILE = REPO / "locustfiles" / "funkwhale.py"
FWLOAD = [sys.executable, "-m", "fwload"]


@dataclass
class Done:
    code: int
    out: str
    err: str


def run(command: list[str], timeout: float = 240, cwd: Path = REPO, env: dict[str, str] | None = None) -> Done:
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=cwd,
                          env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})})
    return Done(done.returncode, done.stdout, done.stderr)


def locust(*args: str, timeout: float = 240) -> Done:
    return run([sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--only-summary", *args],
               timeout=timeout)


def only_run_dir(parent: Path) -> Path:
    runs = [p for p in parent.iterdir() if p.is_dir()]
    assert len(runs) == 1, f"expected one run directory in {parent}, found {runs}"
    return runs[0]


def rows(run_dir: Path, name: str) -> list[dict[str, str]]:
    """Table ``name`` of a run directory (``requests.csv`` or ``requests``), as CSV strings."""
    return table_rows(run_dir, name)


def locust_total(run_dir: Path) -> int:
    stats = json.loads((run_dir / "locust" / "stats.json").read_text())
    return sum(entry["num_requests"] for entry in stats)


def all_text(run_dir: Path) -> str:
    """Every file of the run directory as text, its tables decoded (Parquet and streams are compressed)."""
    files = [p.read_text(errors="replace") for p in run_dir.rglob("*") if p.is_file()]
    return "\n".join([*files, *(csv_text(run_dir, table) for table in schema.TABLES.values())])
