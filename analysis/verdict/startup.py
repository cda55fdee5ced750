"""Start-up checks: the readiness gate and every component that died before the load."""

from __future__ import annotations

from analysis.metrics.startup import Startup
from analysis.scenario import ScenarioSpec
from analysis.verdict.check import STARTUP, Check


def startup_checks(startup: Startup, spec: ScenarioSpec) -> list[Check]:
    checks = []
    if startup.gate:
        deadline = f" within {spec.ready_timeout_s:g} s" if spec.ready_timeout_s is not None else ""
        detail = (
            f"ready after {startup.seconds:.1f} s"
            if startup.ready and startup.seconds is not None
            else f"never became ready{deadline}"
            if not startup.ready
            else "ready"
        )
        if startup.detail:
            detail += f": {startup.detail}"
        checks.append(
            Check(
                "target ready",
                STARTUP,
                startup.seconds,
                spec.ready_timeout_s,
                "s",
                None,
                startup.ready,
                detail,
            )
        )
    for failure in startup.failures:
        checks.append(
            Check(
                f"alive before the load [{failure['component']}]",
                STARTUP,
                None,
                None,
                "",
                None,
                False,
                failure["detail"] or "the component died or never became ready before the load",
            )
        )
    return checks
