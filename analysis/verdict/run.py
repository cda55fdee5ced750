"""Checks on the run itself: was it refused before its load, and did it reach its end?

A refused run (bad credentials, closed registration) is judged as ``fwload run`` judged it:
the same reason and exit code 2, not a start-up failure. A run that did not reach its end, or
whose files were cut short, gets the failed check "run complete": its measurements are shown,
but it can never pass (`analysis.completeness`).
"""

from __future__ import annotations

from analysis.load import Run
from analysis.metrics.startup import LEGACY_REFUSER
from analysis.verdict.check import COMPLETE, REFUSED, Check


def run_checks(run: Run) -> list[Check]:
    checks = []
    if run.meta.get("status") == "refused":
        checks.append(Check("run accepted", REFUSED, None, None, "", None, False, refusal_text(run)))
    if run.partial:
        checks.append(Check("run complete", COMPLETE, None, None, "", None, False,
                            "; ".join(run.partial_reasons) + ": what was measured is shown, not judged"))
    return checks


def refusal_text(run: Run) -> str:
    """What ``fwload run`` said when it refused the run, with its fix."""
    refusal = run.meta.get("refusal") if isinstance(run.meta.get("refusal"), dict) else {}
    problem, fix = str(refusal.get("problem") or ""), str(refusal.get("fix") or "")
    if not problem:
        recorded = run.events_of("refused") or [
            event for event in run.events_of("startup_failure") if event.get("component") == LEGACY_REFUSER]
        if recorded:
            problem, fix = str(recorded[-1].get("detail", "")), str(recorded[-1].get("fix", "") or "")
    problem = problem or "the run was refused before its load"
    return f"{problem} (fix: {fix})" if fix else problem
