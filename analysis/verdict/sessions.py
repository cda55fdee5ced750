"""Arrivals checks: the asked rate of sessions was offered (none dropped), and started in time.

A session the generator could not start is load the server never received: such a run
measured less than it claims, so it fails (kind ``slo``, exit 1) unless the scenario allows
a share of drops (``slos.dropped_sessions``).
"""

from __future__ import annotations

from analysis.metrics.sessions import SessionMetrics
from analysis.scenario import SloSpec
from analysis.verdict.check import SLO, Check, known, upper_bound


def session_checks(slos: SloSpec, profile: str, sessions: SessionMetrics) -> list[Check]:
    if profile != "arrivals" and not sessions.active:
        return []
    checks = []
    if slos.dropped_sessions is not None:
        check = upper_bound("sessions dropped", SLO, sessions.dropped_ratio, slos.dropped_sessions, "ratio",
                            sessions.due, missing="no session came due: the arrivals never started")
        if sessions.active:
            check.detail = sessions.summary()
        checks.append(check)
    if slos.session_start_p95_ms is not None:
        checks.append(upper_bound(
            "session start p95 (from due)", SLO, known(sessions.first.get("p95")), slos.session_start_p95_ms,
            "ms", int(sessions.first.get("count", 0)),
            "due instant → first answer, the generator's start delay included", missing="no session started"))
    return checks
