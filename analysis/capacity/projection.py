"""Per component, the load it would hold at its documented limit: a linear fit, stated as such.

Usage per load level (mean CPU, peak memory) is fitted against the level's load (target
users, achieved requests per second) with least squares, and solved for the limit. It is an
extrapolation: it assumes usage keeps growing linearly, which saturation, caches and garbage
collection all break. The fit's R² and point count are kept with it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.limits import NO_LIMITS, Limits
from analysis.timeline import NO_STAGE

FITS = (("cpu", "cpu_mean", "cpu_limit_m"), ("memory", "memory_peak", "memory_limit_bytes"))
LOADS = ("users", "rps")
FLAT_NOTE = "usage does not grow with load in this run"
FLAT = 1e-6
"""Usage that changes by less than this share of its mean across the tested loads is flat."""


def projections(by_stage: pd.DataFrame, levels: pd.DataFrame, limits: dict[str, Limits]) -> pd.DataFrame:
    """One row per (component, resource, load): slope, intercept, r2, points, limit, load_at_limit."""
    rows = []
    if by_stage.empty or levels.empty:
        return pd.DataFrame(rows)
    for component, usage in by_stage.groupby(level="component", observed=True):
        usage = usage.droplevel("component")
        usage = usage.loc[(usage.index != NO_STAGE) & usage.index.isin(levels.index)]
        limit_of = limits.get(str(component), NO_LIMITS)
        for resource, column, limit_field in FITS:
            for load in LOADS:
                x = levels.loc[usage.index, load].to_numpy(dtype="float64")
                y = usage[column].to_numpy(dtype="float64")
                rows.append(
                    {
                        "component": str(component),
                        "resource": resource,
                        "load": load,
                        **fit_to_limit(x, y, getattr(limit_of, limit_field)),
                    }
                )
    return pd.DataFrame(rows)


def fit_to_limit(x: np.ndarray, y: np.ndarray, limit: float | None) -> dict:
    """Least-squares line through (load, usage) and the load where it reaches ``limit``."""
    known = np.isfinite(x) & np.isfinite(y)
    x, y = x[known], y[known]
    result = {
        "points": int(len(x)),
        "slope": np.nan,
        "intercept": np.nan,
        "r2": np.nan,
        "limit": limit,
        "load_at_limit": np.nan,
        "note": "",
    }
    if len(np.unique(x)) < 2:
        result["note"] = "needs two load levels or more"
        return result
    slope, intercept = np.polyfit(x, y, 1)
    residual = y - (slope * x + intercept)
    spread = np.sum((y - y.mean()) ** 2)
    flat = slope * (x.max() - x.min()) <= FLAT * max(np.abs(y).mean(), 1e-12)
    result.update(
        slope=0.0 if flat else float(slope),
        intercept=float(y.mean() if flat else intercept),
        r2=float(1 - np.sum(residual**2) / spread) if spread > 0 else np.nan,
    )
    if limit is None:
        result["note"] = "no limit known"
    elif flat:
        result["note"] = FLAT_NOTE
    elif intercept >= limit:
        result["load_at_limit"] = 0.0
        result["note"] = "at or above the limit with no load"
    else:
        result["load_at_limit"] = float((limit - intercept) / slope)
    return result
