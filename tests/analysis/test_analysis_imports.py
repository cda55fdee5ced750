"""The analysis, the report command and the notebooks never import Locust (it patches the stdlib)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_analysis_and_report_command_do_not_import_locust():
    code = (
        "import sys\n"
        "import analysis.outputs, analysis.compare, analysis.analyse, fwload.cli.report\n"
        "from analysis import build_outputs\n"
        "print(sorted(name for name in sys.modules if name.split('.')[0] in ('locust', 'gevent')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
