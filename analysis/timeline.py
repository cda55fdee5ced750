"""When the load started and ended, its stages, and the time windows charts and tables use.

Load stages come from the ``stage`` events the load shape writes (or, in a run that has none,
from the scenario's planned schedule); everything before the first one (start-up, the
readiness gate) is "before load", so failures there are reported apart from the load results.
A linear ramp is one stage to the load shape; here it is cut into `RAMP_SLICES` levels so
the capacity model can compare loads along it. Times in tables and charts are seconds since
the load started.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from analysis.load import Run
from fwload.scenario.schedule import Stage

BEFORE_LOAD = "before load"
NO_STAGE = -1
WINDOW_CHOICES = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600)
MAX_WINDOWS = 60
RAMP_SLICES = 10
MIN_SLICE_S = 10.0


@dataclass
class Timeline:
    """Load start and end (epoch seconds), stages, and the width of a time window."""

    start: float
    end: float
    stages: pd.DataFrame
    """One row per stage: ``stage`` (name), ``users``, ``spawn_rate``, ``start``, ``end``, ``duration``."""
    window_s: float
    staged: bool
    """True when the load had more than one stage (steps, a sliced ramp, a spike)."""

    @property
    def duration(self) -> float:
        return max(self.end - self.start, 0.0)

    def stage_index(self, ts: np.ndarray | pd.Series) -> np.ndarray:
        """Index into `stages` of each time; `NO_STAGE` before the load started."""
        times = np.asarray(ts, dtype="float64")
        index = np.searchsorted(self.stages["start"].to_numpy(), times, side="right") - 1
        return np.where(np.isnan(times), NO_STAGE, index)

    def stage_label(self, index: int) -> str:
        if index == NO_STAGE:
            return BEFORE_LOAD
        row = self.stages.iloc[index]
        return f"{index + 1}. {row['stage']}" if self.staged else str(row["stage"])

    def window(self, ts: np.ndarray | pd.Series) -> np.ndarray:
        """Start of the time window of each time, in seconds since the load started."""
        return self.window_index(ts) * self.window_s

    def window_index(self, ts: np.ndarray | pd.Series) -> np.ndarray:
        """Number of the time window of each time (a whole number as float, NaN for NaN), 0 at the load start."""
        relative = np.asarray(ts, dtype="float64") - self.start
        return np.floor(relative / self.window_s)

    def window_grid(self, windows: np.ndarray | pd.Index) -> np.ndarray:
        """Every window start from the first given (or the load start) to the end of the run, so gaps show."""
        known = np.asarray(windows, dtype="float64")
        if not len(known):
            return known
        first = min(float(np.nanmin(known)), 0.0)
        last = max(float(np.nanmax(known)), float(self.window(np.array([self.end - 1e-6]))[0]))
        count = int(round((last - first) / self.window_s)) + 1
        return first + np.arange(count) * self.window_s

    def users_at(self, seconds: np.ndarray) -> np.ndarray:
        """Target users at times given in seconds since the load started (0 before the load)."""
        index = self.stage_index(np.asarray(seconds, dtype="float64") + self.start)
        users = self.stages["users"].to_numpy(dtype="float64")
        return np.where(index == NO_STAGE, 0.0, users[np.clip(index, 0, None)] if len(users) else 0.0)


def build_timeline(run: Run, planned: tuple[Stage, ...] = (), window_s: float | None = None) -> Timeline:
    """The run's timeline from its stage events (else ``planned``), metadata and, failing those, its rows."""
    stage_events = run.events_of("stage")
    first_row, last_row = _data_span(run)
    starts = [event["ts"] for event in run.events_of("run_start")]
    if stage_events:
        start = float(stage_events[0]["ts"])
    else:
        start = _first_number(starts[:1], [run.meta.get("started_at")], [first_row])
    ends = [event["ts"] for event in run.events_of("run_end")]
    end = _first_number([run.meta.get("ended_at")], ends[-1:], [last_row], [start])
    if not isinstance(run.meta.get("ended_at"), int | float) and not np.isnan(last_row):
        end = max(end, last_row)
    if stage_events:
        rows = [
            {
                "stage": str(event.get("stage", index + 1)),
                "users": _number(event.get("users")),
                "spawn_rate": _number(event.get("spawn_rate")),
                "start": float(event["ts"]),
            }
            for index, event in enumerate(stage_events)
        ]
    elif planned:
        rows = [
            {
                "stage": stage.name,
                "users": float(stage.users),
                "spawn_rate": stage.spawn_rate,
                "start": start + stage.start,
            }
            for stage in planned
            if start + stage.start < end
        ]
    else:
        users = next((event.get("users") for event in run.events_of("run_start")), None)
        rows = [{"stage": "load", "users": _number(users), "spawn_rate": np.nan, "start": start}]
    rows = _slice_ramps(rows, planned, start, end)
    stages = pd.DataFrame(rows, columns=["stage", "users", "spawn_rate", "start"])
    stages["end"] = np.append(stages["start"].to_numpy()[1:], end)
    stages["duration"] = (stages["end"] - stages["start"]).clip(lower=0)
    duration = max(end - start, 1.0)
    if window_s is None:
        window_s = next(
            (float(w) for w in WINDOW_CHOICES if duration / w <= MAX_WINDOWS), float(WINDOW_CHOICES[-1])
        )
    return Timeline(start=start, end=end, stages=stages, window_s=window_s, staged=len(stages) > 1)


def _slice_ramps(rows: list[dict], planned: tuple[Stage, ...], start: float, end: float) -> list[dict]:
    """Cut each linear-ramp stage into levels, each with the target users at its middle."""
    ramps = {stage.name: stage for stage in planned if stage.from_users is not None}
    result = []
    for index, row in enumerate(rows):
        ramp = ramps.get(row["stage"])
        stop = rows[index + 1]["start"] if index + 1 < len(rows) else end
        count = min(RAMP_SLICES, int((stop - row["start"]) // MIN_SLICE_S))
        if ramp is None or count < 2:
            result.append(row)
            continue
        width = (stop - row["start"]) / count
        for number in range(count):
            begin = row["start"] + number * width
            users = ramp.users_at(begin + width / 2 - start)
            result.append(
                {
                    **row,
                    "stage": f"{row['stage']} {number + 1}/{count}",
                    "users": float(users),
                    "start": begin,
                }
            )
    return result


def _data_span(run: Run) -> tuple[float, float]:
    firsts, lasts = [], []
    for frame, duration in (
        (run.requests, "response_ms"),
        (run.streams, "total_ms"),
        (run.imports, "wait_ms"),
        (run.resources, None),
    ):
        if frame.empty:
            continue
        ts = frame["ts"].to_numpy(dtype="float64")
        firsts.append(np.nanmin(ts))
        finish = ts + frame[duration].fillna(0).to_numpy(dtype="float64") / 1000 if duration else ts
        lasts.append(np.nanmax(finish))
    return (min(firsts) if firsts else np.nan, max(lasts) if lasts else np.nan)


def _number(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else np.nan


def _first_number(*candidates: list[Any]) -> float:
    for values in candidates:
        for value in values:
            number = _number(value)
            if not np.isnan(number):
                return number
    return 0.0
