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
limit or was OOM-killed never showed what it needed, so its figure is a lower bound. When the
run directory holds a longer history (``resource_history.csv``, fetched from Prometheus by
``fwload report --history 7d``), the figures come from it, and the report says which window and
how many samples; the resource checks and the verdict keep the load test's own samples.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

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


@dataclass(frozen=True)
class History:
    """A longer usage history than the run (resource_history.csv and its run.json entry)."""

    rows: pd.DataFrame
    source: str
    start: float
    end: float
    step_s: float

    @property
    def window_s(self) -> float:
        return self.end - self.start

    @property
    def caveat(self) -> str:
        return (
            f"computed from {_span(self.window_s)} of {self.source.capitalize()} history ({len(self.rows)} samples at a "
            f"{_span(self.step_s)} step, {_day(self.start)} to {_day(self.end)}), not from the load test's "
            "window, whose own samples the checks and the verdict use"
        )


def history_of(rows: pd.DataFrame, meta: dict[str, Any]) -> History | None:
    """The run's history, when resource_history.csv holds rows and run.json says what they are."""
    described = meta.get("resource_history")
    if not len(rows) or not isinstance(described, dict):
        return None
    return History(
        rows=rows,
        source=str(described.get("source", "")),
        start=float(described.get("start", rows["ts"].min())),
        end=float(described.get("end", rows["ts"].max())),
        step_s=float(described.get("step_s", 0.0)),
    )


def basis(history: History | None) -> str:
    """What the right-sizing figures were computed from, as the report states it."""
    return history.caveat if history is not None else HISTORY_CAVEAT


def recommendations(
    resources: pd.DataFrame,
    summary: pd.DataFrame,
    containers_per_pod: int = 1,
    history: History | None = None,
) -> pd.DataFrame:
    """One row per component: KRR and VPA figures, sample counts, the window used and caveats.

    With ``history``, a component it holds samples of is sized from them; one it does not
    (a component only the load test saw) from the run's samples, and its row says so.
    """
    rows = []
    known = history.rows if history is not None else resources.iloc[0:0]
    components = sorted({str(c) for c in resources["component"].dropna().unique()}
                        | {str(c) for c in known["component"].dropna().unique()})
    for component in components:
        from_history = known.loc[known["component"].astype(str) == component]
        use_history = history is not None and len(from_history) > 0
        samples = from_history if use_history else resources.loc[resources["component"].astype(str) == component]
        cpu = samples["cpu_m"].dropna().to_numpy(dtype="float64")
        memory = samples["memory_bytes"].dropna().to_numpy(dtype="float64")
        stats = summary.loc[str(component)] if str(component) in summary.index else None
        row = {
            "component": str(component),
            "window": f"{_span(history.window_s)} history" if use_history else "load test",
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
        caveats = [history.caveat if use_history else HISTORY_CAVEAT]
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


def _span(seconds: float) -> str:
    """``7d``, ``36h``, ``2m``, ``15s``: the largest whole unit."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and abs(seconds / size - round(seconds / size)) < 1e-6:
            return f"{round(seconds / size)}{unit}"
    return f"{seconds:g}s"


def _day(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(ts))
