"""Only the Locust side may import Locust: it monkey-patches the standard library on import."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

LOCUST_FREE = [
    "fwload.cli.main", "fwload.cli.run", "fwload.cli.demo", "fwload.cli.report", "fwload.cli.standin",
    "fwload.cli.fixtures", "fwload.cli.k8s", "fwload.cli.users", "fwload.launch.run", "fwload.preflight",
    "fwload.recording.rundir", "fwload.recording.live", "fwload.recording.classify", "fwload.collectors",
    "fwload.standin.app", "fwload.limits", "fwload.users.options", "fwload.funkwhale.subsonic", "analysis.outputs",
    "fwload.cli.ui", "fwload.webui.tables", "fwload.cli.export", "fwload.recording.export", "fwload.quantity",
    "fwload.collectors.prometheus", "fwload.recording.backfill",
]


def test_cli_analysis_and_standin_do_not_import_locust():
    code = (
        "import importlib, sys\n"
        f"for name in {LOCUST_FREE!r}: importlib.import_module(name)\n"
        "print(sorted({n.split('.')[0] for n in sys.modules} & {'locust', 'gevent'}))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
