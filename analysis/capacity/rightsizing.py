"""Right-sizing recommendations from the run's own samples, with KRR's and VPA's formulas.

- KRR "simple" strategy: CPU request = p95 of CPU usage, no CPU limit; memory request =
  memory limit = peak memory x 1.15.
- VPA recommender target, with its defaults (kubernetes/autoscaler, vertical-pod-autoscaler
  ``pkg/recommender/logic/recommender.go``): p90 of usage x (1 + 0.15 safety margin), floored
  at 25 millicores and 250 MiB per pod (``--pod-recommendation-min-cpu-millicores``,
  ``--pod-recommendation-min-memory-mb``), split across the pod's containers. VPA weighs a
  decaying histogram of days of samples and uses per-interval memory peaks; here the plain
  nearest-rank p90 of the run's samples stands in for it.

Both need history: a load-test window of minutes underestimates what days of traffic (daily
peaks, library scans, federation bursts) would show, and a container that hit its memory
limit or was OOM-killed never showed what it needed, so its figure is a lower bound.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from analysis.percentiles import percentile

MIB = 1024**2
KRR_CPU_PERCENTILE = 95
KRR_MEMORY_BUFFER = 0.15
VPA_TARGET_PERCENTILE = 90
VPA_SAFETY_MARGIN = 0.15
VPA_POD_MIN_CPU_M = 25
VPA_POD_MIN_MEMORY_BYTES = 250 * MIB
HISTORY_CAVEAT = (
    "computed from this run's samples only: a load-test window underestimates what days of history would show"
)


def recommendations(
    resources: pd.DataFrame, summary: pd.DataFrame, containers_per_pod: int = 1
) -> pd.DataFrame:
    """One row per component: KRR and VPA figures, sample counts and caveats."""
    rows = []
    for component, samples in resources.groupby("component", observed=True, sort=True):
        cpu = samples["cpu_m"].dropna().to_numpy(dtype="float64")
        memory = samples["memory_bytes"].dropna().to_numpy(dtype="float64")
        stats = summary.loc[str(component)] if str(component) in summary.index else None
        row = {
            "component": str(component),
            "cpu_samples": int(cpu.size),
            "memory_samples": int(memory.size),
            "krr_cpu_request_m": _ceil(percentile(cpu, KRR_CPU_PERCENTILE)),
            "krr_cpu_limit_m": None,
            "krr_memory_bytes": _ceil_mib(
                np.max(memory) * (1 + KRR_MEMORY_BUFFER) if memory.size else np.nan
            ),
            "vpa_cpu_target_m": _floor_at(
                _ceil(percentile(cpu, VPA_TARGET_PERCENTILE) * (1 + VPA_SAFETY_MARGIN)),
                VPA_POD_MIN_CPU_M / containers_per_pod,
            ),
            "vpa_memory_target_bytes": _floor_at(
                _ceil_mib(percentile(memory, VPA_TARGET_PERCENTILE) * (1 + VPA_SAFETY_MARGIN)),
                VPA_POD_MIN_MEMORY_BYTES / containers_per_pod,
            ),
        }
        caveats = [HISTORY_CAVEAT]
        if not cpu.size or not memory.size:
            caveats.append(
                "no usage samples (the component was down or not visible to the collector): no figure"
            )
        if stats is not None and (stats["oom_kills"] > 0 or stats["respawns"] > 0):
            caveats.append(
                "OOM-killed during the run: the memory it needed was never observed, so the memory "
                "figures are lower bounds"
            )
        elif stats is not None and stats["memory_peak_pct_doc_limit"] >= 95:
            caveats.append("memory reached its limit: the memory figures are lower bounds")
        if stats is not None and stats["throttled_pct"] >= 25:
            caveats.append("CPU was throttled by its limit: the CPU figures are lower bounds")
        row["caveats"] = caveats
        rows.append(row)
    return pd.DataFrame(rows)


def _ceil(value: float) -> float | None:
    return None if value is None or not np.isfinite(value) else float(math.ceil(round(value, 6)))


def _ceil_mib(value: float) -> float | None:
    return None if value is None or not np.isfinite(value) else float(math.ceil(round(value / MIB, 6)) * MIB)


def _floor_at(value: float | None, floor: float) -> float | None:
    return None if value is None else float(max(value, math.ceil(floor)))
