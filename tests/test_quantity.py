"""Kubernetes quantities parsed without the official client, by the API's own grammar."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from fwload.quantity import parse_quantity

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("text, value", [
    ("500m", "0.5"), ("10m", "0.01"), ("1", "1"), ("0.5", "0.5"), (".5", "0.5"), ("5.", "5"),
    ("128Mi", 128 * 2**20), ("1.5Gi", 3 * 2**29), ("1234Ki", 1234 * 1024), ("100k", "100000"),
    ("1M", "1000000"), ("12345678n", "0.012345678"), ("750u", "0.00075"), ("2e3", "2000"),
    ("3E-2", "0.03"), ("1E", 10**18), ("-2m", "-0.002"), (0.1, "0.1"), (2, "2"),
])
def test_quantities_read_exactly_as_kubernetes_defines_them(text, value):
    assert parse_quantity(text) == Decimal(value)


@pytest.mark.parametrize("text", ["", "abc", "1ki", "1K", "1 Mi", "Mi", "1.2.3", True])
def test_anything_else_is_refused(text):
    with pytest.raises(ValueError, match="not a Kubernetes quantity"):
        parse_quantity(text)


def test_reporting_a_run_never_imports_the_kubernetes_client():
    code = ("import sys\nfrom analysis.analyse import analyse_run\n"
            "analyse_run('tests/data/sample-run')\nprint('kubernetes' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
