"""The verdict of a run, decided from its run directory when the test stops.

Plain ``locust --scenario ...`` runs get the same reports and exit code as ``fwload run``;
``fwload run`` passes ``--no-report`` and builds them itself once Locust has exited.
"""

from __future__ import annotations

import logging
from pathlib import Path

from fwload.errors import FwloadError

logger = logging.getLogger("fwload")


def build_reports(run_dir: Path) -> int | None:
    """Write verdict.json, junit.xml, summary.md and report.html; return the exit code."""
    from analysis.outputs import build_outputs

    try:
        outputs = build_outputs(run_dir)
    except FwloadError as error:
        logger.error("fwload: could not analyse %s: %s", run_dir, error)
        return None
    from rich.console import Console

    from analysis.writers.terminal import terminal_summary

    Console(stderr=True).print(terminal_summary(outputs.analysis))
    return outputs.exit_code
