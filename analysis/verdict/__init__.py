"""Turn the scenario's SLOs and resource checks into checks with observed values, and an exit code.

Every check is ``{name, kind, observed, threshold, unit, samples, passed, detail}``; ``passed``
is None when a check could not be evaluated (say, no limit is known for a component), which
neither fails nor hides it. The exit code follows one precedence, documented in the README:

    NOT_READY (4)  >  SLO_BROKEN (1)  >  RESOURCE_BROKEN (3)  >  SUCCESS (0)

A target that never became ready explains everything after it, so it wins; a broken latency
or error SLO is what users feel, so it comes before a resource check.
"""

from analysis.verdict.check import PRECEDENCE, RESOURCE, SLO, STARTUP, Check, checks_frame, exit_status
from analysis.verdict.resource import resource_checks
from analysis.verdict.slo import slo_checks, window_checks
from analysis.verdict.startup import startup_checks

__all__ = [
    "PRECEDENCE",
    "RESOURCE",
    "SLO",
    "STARTUP",
    "Check",
    "checks_frame",
    "exit_status",
    "resource_checks",
    "slo_checks",
    "startup_checks",
    "window_checks",
]
