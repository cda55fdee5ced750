"""Turn the scenario's SLOs and resource checks into checks with observed values, and an exit code.

Every check is ``{name, kind, observed, threshold, unit, samples, passed, detail}``; ``passed``
is None when a check could not be evaluated (say, no limit is known for a component), which
neither fails nor hides it. The exit code follows one precedence, documented in the README:

    USAGE_ERROR (2) > NOT_READY (4) > INCOMPLETE (5) > SLO_BROKEN (1) > RESOURCE_BROKEN (3) > SUCCESS (0)

A run refused before its load (bad credentials) says what ``fwload run`` said; a target that
never became ready explains everything after it; a run that did not reach its end cannot be
judged passed or failed on what it measured; a broken latency or error SLO is what users
feel, so it comes before a resource check.
"""

from analysis.verdict.check import (
    COMPLETE,
    PRECEDENCE,
    REFUSED,
    RESOURCE,
    SLO,
    STARTUP,
    Check,
    checks_frame,
    exit_status,
)
from analysis.verdict.resource import resource_checks
from analysis.verdict.run import run_checks
from analysis.verdict.slo import slo_checks, window_checks
from analysis.verdict.startup import startup_checks

__all__ = [
    "COMPLETE",
    "PRECEDENCE",
    "REFUSED",
    "RESOURCE",
    "SLO",
    "STARTUP",
    "Check",
    "checks_frame",
    "exit_status",
    "resource_checks",
    "run_checks",
    "slo_checks",
    "startup_checks",
    "window_checks",
]
