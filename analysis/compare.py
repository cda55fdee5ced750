"""Compare two runs: per-group latency and error deltas, throughput, per-component resource deltas.

A change is a regression when the new run is worse than the base by more than the threshold
(relative) *and* above a noise floor: latency is judged only where both runs hold at least
``min_samples`` samples and must rise by at least ``min_ms`` (2.9 → 4.4 ms is +52 %, and
noise), error ratios by at least 0.1 percentage point, incident counts (OOM kills, restarts)
by at least one. Regressions in latency, errors or throughput exit like a broken SLO (1),
resource-only regressions like a broken resource check (3). Two runs of different scenarios
(users, profile, mix, SLOs, host) are still compared, with a warning naming what differs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import yaml

from analysis.analyse import RunAnalysis
from analysis.load import Run
from fwload.errors import UsageError
from fwload.status import ExitStatus

MIN_SAMPLES = 20
"""Default ``--min-samples``: latency percentiles of fewer requests are not judged."""
MIN_MS = 5.0
"""Default ``--min-ms``: a latency rise smaller than this is noise, whatever its relative size."""
MIN_RATIO_RISE = 0.001
IGNORED_SCENARIO_FIELDS = ("description",)
SHOWN_DIFFERENCES = 12
LATENCY_METRICS = ("p50", "p95", "p99")
RESOURCE_METRICS = (("cpu_p95", "m", 1), ("memory_peak", "MiB", 1024**2), ("throttled_pct", "%", 1))
COUNT_METRICS = ("oom_kills", "restarts", "respawns")


@dataclass
class Comparison:
    deltas: pd.DataFrame
    """area, subject, metric, unit, base, new, change (relative), regression, note."""
    threshold: float
    status: ExitStatus
    scenario_differences: list[str] = field(default_factory=list)
    """What differs between the two runs' scenarios (and targets), as ``field: base → new``."""
    min_ms: float = MIN_MS
    min_samples: int = MIN_SAMPLES

    @property
    def regressions(self) -> pd.DataFrame:
        return self.deltas.loc[self.deltas["regression"]]


def parse_threshold(text: str) -> float:
    """``"10%"`` or ``"0.1"`` → 0.1."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(%?)\s*", str(text))
    if not match:
        raise UsageError(f"--threshold {text!r} is not a percentage", "write it like 10% (or 0.1)")
    value = float(match.group(1)) / (100 if match.group(2) else 1)
    if not 0 <= value <= 10:
        raise UsageError(f"--threshold {text!r} is out of range", "use a value between 0% and 1000%")
    return value


def compare_runs(base: RunAnalysis, new: RunAnalysis, threshold: float = 0.10, *, min_ms: float = MIN_MS,
                 min_samples: int = MIN_SAMPLES) -> Comparison:
    rows = []
    groups = base.requests.by_group.index.union(new.requests.by_group.index)
    for group in groups:
        before = _row(base.requests.by_group, group)
        after = _row(new.requests.by_group, group)
        enough = min(before.get("samples", 0), after.get("samples", 0)) >= min_samples
        for metric in LATENCY_METRICS:
            rows.append(
                _delta(
                    "latency",
                    group,
                    metric,
                    "ms",
                    before.get(metric),
                    after.get(metric),
                    threshold,
                    judged=enough,
                    min_rise=min_ms,
                    note="" if enough else f"fewer than {min_samples} samples",
                )
            )
        rows.append(
            _delta(
                "errors",
                group,
                "error_ratio",
                "ratio",
                before.get("error_ratio"),
                after.get("error_ratio"),
                threshold,
                judged=True,
                min_rise=MIN_RATIO_RISE,
            )
        )
    rows.append(
        _delta(
            "throughput",
            "all",
            "ok_rps",
            "/s",
            _ok_rps(base),
            _ok_rps(new),
            threshold,
            judged=True,
            higher_is_better=True,
        )
    )
    components = base.resources.summary.index.union(new.resources.summary.index)
    for component in components:
        before = _row(base.resources.summary, component)
        after = _row(new.resources.summary, component)
        for metric, unit, scale in RESOURCE_METRICS:
            rows.append(
                _delta(
                    "resource",
                    component,
                    metric,
                    unit,
                    _scaled(before.get(metric), scale),
                    _scaled(after.get(metric), scale),
                    threshold,
                    judged=True,
                )
            )
        for metric in COUNT_METRICS:
            rows.append(
                _delta(
                    "resource",
                    component,
                    metric,
                    "count",
                    before.get(metric),
                    after.get(metric),
                    threshold,
                    judged=True,
                    min_rise=1,
                )
            )
    deltas = pd.DataFrame(rows)
    flagged = set(deltas.loc[deltas["regression"], "area"]) if len(deltas) else set()
    status = (
        ExitStatus.SLO_BROKEN
        if flagged & {"latency", "errors", "throughput"}
        else ExitStatus.RESOURCE_BROKEN
        if "resource" in flagged
        else ExitStatus.SUCCESS
    )
    return Comparison(deltas=deltas, threshold=threshold, status=status,
                      scenario_differences=scenario_differences(base.run, new.run), min_ms=min_ms,
                      min_samples=min_samples)


def scenario_differences(base: Run, new: Run) -> list[str]:
    """The fields in which the runs' resolved scenarios (and their targets) differ: ``field: base → new``."""
    before, after = _flat(_scenario_data(base)), _flat(_scenario_data(new))
    before["target host (run.json)"] = base.meta.get("host")
    after["target host (run.json)"] = new.meta.get("host")
    missing = "(none)"
    return [
        f"{key}: {before.get(key, missing)!s} → {after.get(key, missing)!s}"
        for key in sorted(set(before) | set(after), key=_scenario_order)
        if before.get(key, missing) != after.get(key, missing)
    ]


def _scenario_data(run: Run) -> dict:
    try:
        data = yaml.safe_load(run.scenario_path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return {}
    return data if isinstance(data, dict) else {}


def _flat(value: object, prefix: str = "") -> dict[str, object]:
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = ((f"[{index}]", item) for index, item in enumerate(value))
    else:
        return {prefix: value}
    flat: dict[str, object] = {}
    for key, item in items:
        if not prefix and key in IGNORED_SCENARIO_FIELDS:
            continue
        path = f"{prefix}{key}" if str(key).startswith("[") else f"{prefix}.{key}" if prefix else str(key)
        flat.update(_flat(item, path) if isinstance(item, dict | list) and item else {path: item})
    return flat


def _scenario_order(key: str) -> tuple[int, str]:
    """The fields that change what a figure means first: the load and the mix, then the rest."""
    for rank, head in enumerate(("target host", "load", "users", "caps", "target", "slos")):
        if key.startswith(head):
            return rank, key
    return 9, key


def _delta(
    area: str,
    subject: str,
    metric: str,
    unit: str,
    base: float | None,
    new: float | None,
    threshold: float,
    *,
    judged: bool,
    min_rise: float = 0.0,
    higher_is_better: bool = False,
    note: str = "",
) -> dict:
    base_value, new_value = _number(base), _number(new)
    change = np.nan
    if np.isfinite(base_value) and np.isfinite(new_value):
        change = (new_value - base_value) / base_value if base_value else (np.inf if new_value > 0 else 0.0)
    worse = -change if higher_is_better else change
    rise = (base_value - new_value) if higher_is_better else (new_value - base_value)
    beyond = bool(judged and np.isfinite(base_value) and np.isfinite(new_value) and worse > threshold and rise > 0)
    regression = beyond and rise >= min_rise
    if not (np.isfinite(base_value) and np.isfinite(new_value)) and not note:
        note = "missing in one run"
    elif beyond and not regression and not note:
        note = f"below the noise floor (+{rise:.3g} < {min_rise:g} {unit})"
    return {
        "area": area,
        "subject": str(subject),
        "metric": metric,
        "unit": unit,
        "base": base_value,
        "new": new_value,
        "change": change,
        "regression": regression,
        "note": note,
    }


def _row(table: pd.DataFrame, key: object) -> dict:
    return table.loc[key].to_dict() if key in table.index else {}


def _ok_rps(analysis: RunAnalysis) -> float:
    overall = analysis.requests.overall
    duration = analysis.timeline.duration
    return float(overall["ok"].sum()) / duration if len(overall) and duration else np.nan


def _scaled(value: object, scale: float) -> float:
    return _number(value) / scale


def _number(value: object) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return np.nan
    return number
