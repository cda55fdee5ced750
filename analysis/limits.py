"""Documented requests and limits per component, and the live ones a run recorded.

The documented values have one source of truth, the Deployments in ``k8s/base``, read by
`fwload.limits`; the live ones are the last requests and limits the collector saw in the
pod specs. Reports show both, since they differ whenever someone changed the deployment.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from fwload import limits as manifests

Limits = manifests.ComponentLimits
NO_LIMITS = Limits(None, None, None, None)
LIMIT_FIELDS = ("cpu_request_m", "cpu_limit_m", "memory_request_bytes", "memory_limit_bytes")


def documented_limits() -> dict[str, Limits]:
    """Documented requests and limits per component (k8s/base); raises `UsageError` if not found.

    Local stand-ins that do a component's work are judged against that component's limits
    (`fwload.limits.STANDS_IN_FOR`: the embedded stand-in against the api's).
    """
    documented = manifests.documented_limits()
    for local, component in manifests.STANDS_IN_FOR.items():
        documented.setdefault(local, documented[component])
    return documented


def live_limits(resources: pd.DataFrame) -> dict[str, Limits]:
    """Per component, the last requests and limits the collector saw in the pod specs."""
    result = {}
    if resources.empty:
        return result
    for component, rows in resources.sort_values("ts").groupby("component", observed=True):
        values = {}
        for column in LIMIT_FIELDS:
            known = rows[column].dropna()
            values[column] = float(known.iloc[-1]) if len(known) else None
        result[str(component)] = Limits(**values)
    return result


def share(value: float | None, of: float | None) -> float:
    """``value`` as a percentage of ``of``; NaN when either is unknown or ``of`` is zero."""
    if value is None or of is None or not np.isfinite(value) or not of:
        return float("nan")
    return 100.0 * value / of
