"""Per component: CPU and memory against requests and limits, throttling, restarts, OOM kills.

Percentages are given against the documented limits (k8s/base) and against the live requests
and limits the collector read from the pod specs, since the two differ when someone changed
the deployment. Every figure carries its sample count: metrics-server refreshes about every
15 s, so a five-minute run holds about 20 samples per container.

Cumulative counters (restarts, OOM kills, respawns, CFS periods) become increases between
consecutive samples of one container, a drop counting as a reset (as Prometheus' increase()
does), and each increase is tied to the load stage of the sample that saw it. OOM kills,
restarts and respawns also arrive as events; per component and kind, the source that saw
more of them is used, and the incidents list says which.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.limits import NO_LIMITS, Limits, share
from analysis.percentiles import percentile
from analysis.timeline import NO_STAGE, Timeline

COUNTERS = ("restarts", "oom_kills", "respawns", "throttled_periods", "periods", "throttled_s")
INCIDENT_KINDS = {"restart": "restarts", "oom_kill": "oom_kills", "respawn": "respawns"}
"""Event type → counter column, for the events that mark something dying."""


@dataclass
class ResourceMetrics:
    summary: pd.DataFrame
    """One row per component (index), see `component_summary`."""
    by_stage: pd.DataFrame
    """Index (stage, component): samples, cpu_mean, cpu_p95, memory_mean, memory_peak,
    throttled_pct and the incident counts in that stage."""
    incidents: pd.DataFrame
    """ts, component, pod, kind (restart | oom_kill | respawn), count, stage, source, detail."""
    increases: pd.DataFrame
    """The resource rows with ``stage`` and one ``inc_<counter>`` column per cumulative counter."""

    @property
    def components(self) -> list[str]:
        return list(self.summary.index)


def resource_metrics(
    resources: pd.DataFrame,
    events: list[dict],
    timeline: Timeline,
    documented: dict[str, Limits],
    live: dict[str, Limits],
) -> ResourceMetrics:
    increases = counter_increases(resources, timeline)
    incidents = incident_table(increases, events, timeline)
    summary = component_summary(increases, incidents, documented, live)
    return ResourceMetrics(
        summary=summary, by_stage=stage_table(increases, incidents), incidents=incidents, increases=increases
    )


def counter_increases(resources: pd.DataFrame, timeline: Timeline) -> pd.DataFrame:
    """Resource rows sorted by container and time, with ``stage`` and ``inc_<counter>`` columns.

    The first sample of a container counts its own value only when another container of the
    same component was seen before it (a replacement pod); otherwise its past is not this run's.
    """
    frame = resources.sort_values(["pod", "container", "ts"], kind="stable").reset_index(drop=True)
    frame["stage"] = timeline.stage_index(frame["ts"])
    if frame.empty:
        for counter in COUNTERS:
            frame[f"inc_{counter}"] = pd.Series(dtype="float64")
        return frame
    series = frame.groupby(["pod", "container"], observed=True, sort=False)
    first = series.cumcount().to_numpy() == 0
    seen_before = frame["ts"] > frame.groupby("component", observed=True)["ts"].transform("min")
    late = first & seen_before.to_numpy()
    for counter in COUNTERS:
        value = frame[counter].to_numpy(dtype="float64")
        previous = series[counter].shift().to_numpy(dtype="float64")
        diff = value - previous
        increase = np.where(first, np.where(late, value, 0.0), np.where(diff >= 0, diff, value))
        increase = np.where(np.isnan(value), 0.0, increase)
        frame[f"inc_{counter}"] = np.where(~first & np.isnan(previous), 0.0, increase)
    return frame


def incident_table(increases: pd.DataFrame, events: list[dict], timeline: Timeline) -> pd.DataFrame:
    """Restarts, OOM kills and respawns, from events or counters (whichever saw more)."""
    columns = ["ts", "component", "pod", "kind", "count", "stage", "source", "detail"]
    from_events = pd.DataFrame(
        [
            {
                "ts": float(event["ts"]),
                "component": str(event.get("component", "")),
                "pod": str(event.get("pod", "")),
                "kind": event["type"],
                "count": _event_count(event),
                "source": "event",
                "detail": str(event.get("reason") or event.get("detail") or ""),
            }
            for event in events
            if event.get("type") in INCIDENT_KINDS
        ],
        columns=[c for c in columns if c != "stage"],
    )
    counter_rows = []
    for kind, counter in INCIDENT_KINDS.items():
        hits = increases.loc[increases[f"inc_{counter}"] > 0]
        counter_rows.append(
            pd.DataFrame(
                {
                    "ts": hits["ts"].to_numpy(),
                    "component": hits["component"].astype(str).to_numpy(),
                    "pod": hits["pod"].astype(str).to_numpy(),
                    "kind": kind,
                    "count": hits[f"inc_{counter}"].to_numpy(),
                    "source": "counter",
                    "detail": "",
                }
            )
        )
    from_counters = pd.concat(counter_rows, ignore_index=True) if counter_rows else from_events.iloc[0:0]
    chosen = []
    keys = set(zip(from_events["component"], from_events["kind"])) | set(
        zip(from_counters["component"], from_counters["kind"])
    )
    for component, kind in sorted(keys):
        mine = from_events.loc[(from_events["component"] == component) & (from_events["kind"] == kind)]
        theirs = from_counters.loc[
            (from_counters["component"] == component) & (from_counters["kind"] == kind)
        ]
        chosen.append(mine if mine["count"].sum() >= theirs["count"].sum() else theirs)
    table = pd.concat(chosen, ignore_index=True) if chosen else pd.DataFrame(columns=columns)
    table["stage"] = timeline.stage_index(table["ts"]) if len(table) else pd.Series(dtype="int64")
    return table[columns].sort_values("ts", kind="stable").reset_index(drop=True)


def component_summary(
    increases: pd.DataFrame, incidents: pd.DataFrame, documented: dict[str, Limits], live: dict[str, Limits]
) -> pd.DataFrame:
    """Per component: usage percentiles and peaks, their share of each limit, throttling, incidents.

    CPU figures use the samples taken during the load (all samples if none were); memory
    figures use every sample, start-up included, since a start-up OOM kill matters as much.
    """
    rows = {}
    for component, rows_of in increases.groupby("component", observed=True, sort=True):
        component = str(component)
        loaded = rows_of.loc[rows_of["stage"] != NO_STAGE]
        cpu_rows = loaded if loaded["cpu_m"].notna().any() else rows_of
        cpu = cpu_rows["cpu_m"].dropna()
        memory = rows_of["memory_bytes"].dropna()
        doc, now = documented.get(component, NO_LIMITS), live.get(component, NO_LIMITS)
        row = {
            "source": ", ".join(sorted(map(str, rows_of["source"].unique()))),
            "pods": int(rows_of["pod"].nunique()),
            "samples": int(len(rows_of)),
            "cpu_samples": int(len(cpu)),
            "cpu_mean": float(cpu.mean()) if len(cpu) else np.nan,
            "cpu_p50": percentile(cpu, 50),
            "cpu_p95": percentile(cpu, 95),
            "cpu_max": float(cpu.max()) if len(cpu) else np.nan,
            "memory_samples": int(len(memory)),
            "memory_p95": percentile(memory, 95),
            "memory_peak": float(memory.max()) if len(memory) else np.nan,
            "memory_anon_peak": _max(rows_of["memory_anon_bytes"]),
            "memory_cgroup_peak": _max(rows_of["memory_peak_bytes"]),
        }
        for prefix, limits in (("doc", doc), ("live", now)):
            row[f"{prefix}_cpu_request_m"] = limits.cpu_request_m
            row[f"{prefix}_cpu_limit_m"] = limits.cpu_limit_m
            row[f"{prefix}_memory_request_bytes"] = limits.memory_request_bytes
            row[f"{prefix}_memory_limit_bytes"] = limits.memory_limit_bytes
            for what in ("limit", "request"):
                row[f"cpu_p95_pct_{prefix}_{what}"] = share(row["cpu_p95"], getattr(limits, f"cpu_{what}_m"))
                row[f"memory_peak_pct_{prefix}_{what}"] = share(
                    row["memory_peak"], getattr(limits, f"memory_{what}_bytes")
                )
                row[f"memory_p95_pct_{prefix}_{what}"] = share(
                    row["memory_p95"], getattr(limits, f"memory_{what}_bytes")
                )
        during = rows_of.loc[rows_of["stage"] != NO_STAGE]
        periods = during["inc_periods"].sum()
        row["throttled_periods"] = float(during["inc_throttled_periods"].sum())
        row["periods"] = float(periods)
        row["throttled_pct"] = share(row["throttled_periods"], periods) if periods else np.nan
        row["throttled_s"] = float(during["inc_throttled_s"].sum())
        mine = incidents.loc[incidents["component"] == component]
        for kind, counter in INCIDENT_KINDS.items():
            of_kind = mine.loc[mine["kind"] == kind]
            row[counter] = int(of_kind["count"].sum())
            row[f"{counter}_before_load"] = int(of_kind.loc[of_kind["stage"] == NO_STAGE, "count"].sum())
        last = rows_of.sort_values("ts").iloc[-1]
        row["ready_last"] = None if pd.isna(last["ready"]) else bool(last["ready"])
        row["phase_last"] = str(last["phase"])
        rows[component] = row
    return pd.DataFrame.from_dict(rows, orient="index")


def stage_table(increases: pd.DataFrame, incidents: pd.DataFrame) -> pd.DataFrame:
    """Per (stage, component): the usage and incidents the capacity model compares across load levels."""
    if increases.empty:
        return pd.DataFrame()
    grouped = increases.groupby(["stage", "component"], observed=True)
    table = pd.DataFrame(
        {
            "samples": grouped.size(),
            "cpu_mean": grouped["cpu_m"].mean(),
            "cpu_p95": grouped["cpu_m"].agg(lambda values: percentile(values, 95)),
            "memory_mean": grouped["memory_bytes"].mean(),
            "memory_peak": grouped["memory_bytes"].max(),
            "throttled_periods": grouped["inc_throttled_periods"].sum(),
            "periods": grouped["inc_periods"].sum(),
        }
    )
    table["throttled_pct"] = 100 * table["throttled_periods"] / table["periods"].where(table["periods"] > 0)
    counts = (
        incidents.pivot_table(
            index=["stage", "component"], columns="kind", values="count", aggfunc="sum", fill_value=0
        )
        if len(incidents)
        else pd.DataFrame()
    )
    for kind, counter in INCIDENT_KINDS.items():
        of_kind = counts[kind] if kind in counts else pd.Series(dtype="float64")
        table[counter] = of_kind.reindex(table.index, fill_value=0).to_numpy() if len(of_kind) else 0.0
    table.index = table.index.set_names(["stage", "component"])
    return table


def _event_count(event: dict) -> float:
    count = event.get("count")
    return (
        float(count) if isinstance(count, int | float) and not isinstance(count, bool) and count > 0 else 1.0
    )


def _max(values: pd.Series) -> float:
    known = values.dropna()
    return float(known.max()) if len(known) else np.nan
