"""Open arrivals: sessions asked for, started on time, delayed or dropped, per run and per stage.

An arrivals run offers load as a rate of sessions; the generator either starts each one
when it is due or records it as dropped (sessions.csv). The figures here say whether the
asked rate was offered at all — a run that dropped sessions tested less than it says — and
how late the started ones began: ``first_ms`` counts from the instant a session was due,
so a generator that fell behind cannot hide its lateness in the server's latencies.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.percentiles import summarise
from analysis.timeline import NO_STAGE, Timeline
from fwload.recording import schema
from fwload.scenario.schedule import Stage
from fwload.units import format_rate

STAGE_COLUMNS = ("stage", "asked_rate", "due", "started", "dropped", "delayed", "achieved_rate",
                 "start_delay_p95", "first_p95")


@dataclass
class SessionMetrics:
    due: int
    """Sessions that came due (started or dropped): every row of sessions.csv."""
    started: int
    dropped: int
    dropped_by_reason: dict[str, int]
    outcomes: dict[str, int]
    delayed: int
    """Started sessions whose start delay reached `schema.DELAYED_MS`."""
    start_delay: dict[str, float]
    """Percentiles of start_delay_ms over started sessions."""
    first: dict[str, float]
    """Percentiles of first_ms (due → first answer, delay included)."""
    planned: float | None
    """Sessions the plan asks for over the stages the load ran (None without a plan)."""
    duration_s: float
    """From the first due instant to the plan's end (or the last due session)."""
    max_concurrent: int
    by_stage: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=STAGE_COLUMNS))

    @property
    def active(self) -> bool:
        return self.due > 0

    @property
    def dropped_ratio(self) -> float | None:
        return self.dropped / self.due if self.due else None

    @property
    def achieved_rate(self) -> float | None:
        return self.started / self.duration_s if self.duration_s > 0 else None

    @property
    def asked_rate(self) -> float | None:
        return self.due / self.duration_s if self.duration_s > 0 else None

    def summary(self) -> str:
        """``40 due, 37 started, 3 dropped (no_slot 3); 5 started ≥ 100 ms late (p95 130 ms, max 400 ms)``."""
        if not self.due:
            return "no session came due"
        text = f"{self.due} due, {self.started} started, {self.dropped} dropped"
        reasons = ", ".join(f"{reason} {count}" for reason, count in self.dropped_by_reason.items() if count)
        if reasons:
            text += f" ({reasons})"
        delay = self.start_delay
        text += (f"; {self.delayed} started ≥ {schema.DELAYED_MS:g} ms late" if self.delayed else
                 f"; none started ≥ {schema.DELAYED_MS:g} ms late")
        if delay.get("count"):
            text += f" (start delay p95 {delay['p95']:.0f} ms, max {delay['max']:.0f} ms)"
        return text


def session_metrics(
    sessions: pd.DataFrame, timeline: Timeline, planned: tuple[Stage, ...] = ()
) -> SessionMetrics:
    outcome = sessions["outcome"].astype(str)
    started_rows = sessions.loc[sessions["start_ts"].notna()]
    dropped_rows = sessions.loc[outcome == "dropped"]
    reasons = dropped_rows["reason"].astype(str).value_counts().reindex(schema.DROP_REASONS, fill_value=0)
    delay = started_rows["start_delay_ms"]
    arrival_stages = [stage for stage in planned if stage.rate is not None and stage.name != "slots"]
    plan_total = sum((s.rate + (s.from_rate if s.from_rate is not None else s.rate)) / 2 * (s.end - s.start)
                     for s in arrival_stages) if arrival_stages else None
    due_ts = sessions["intended_ts"].to_numpy(dtype="float64")
    duration = _arrival_span(due_ts, timeline, arrival_stages)
    start = started_rows["start_ts"].to_numpy(dtype="float64")
    end = started_rows["ended_ts"].fillna(timeline.end).to_numpy(dtype="float64")
    return SessionMetrics(
        due=int(len(sessions)),
        started=int(len(started_rows)),
        dropped=int(len(dropped_rows)),
        dropped_by_reason={str(k): int(v) for k, v in reasons.items()},
        outcomes={str(k): int(v) for k, v in outcome.value_counts().reindex(schema.SESSION_OUTCOMES,
                                                                          fill_value=0).items()},
        delayed=int((delay >= schema.DELAYED_MS).sum()),
        start_delay=summarise(delay.dropna()),
        first=summarise(started_rows["first_ms"].dropna()),
        planned=plan_total,
        duration_s=duration,
        max_concurrent=_max_open(start, end),
        by_stage=_by_stage(sessions, timeline, arrival_stages),
    )


def _arrival_span(due_ts: np.ndarray, timeline: Timeline, stages: list[Stage]) -> float:
    if not len(due_ts):
        return 0.0
    first = float(np.nanmin(due_ts))
    if stages:
        return max(min(stages[-1].end - stages[0].start, timeline.end - first), 0.0)
    return max(float(np.nanmax(due_ts)) - first, 0.0)


def _max_open(start: np.ndarray, end: np.ndarray) -> int:
    if not len(start):
        return 0
    times = np.concatenate([start, end])
    steps = np.concatenate([np.ones(len(start)), -np.ones(len(end))])
    order = np.lexsort((steps, times))  # an end before a start at the same instant
    return int(np.cumsum(steps[order]).max())


def _by_stage(sessions: pd.DataFrame, timeline: Timeline, stages: list[Stage]) -> pd.DataFrame:
    if sessions.empty or timeline.stages.empty:
        return pd.DataFrame(columns=STAGE_COLUMNS)
    index = timeline.stage_index(sessions["intended_ts"])
    planned = {stage.name: stage for stage in stages}
    rows = []
    for number, stage in timeline.stages.iterrows():
        mine = sessions.loc[index == number]
        if mine.empty and stage["stage"] not in planned:
            continue
        started = mine.loc[mine["start_ts"].notna()]
        plan = planned.get(str(stage["stage"]))
        asked = ("" if plan is None else format_rate(plan.rate) if plan.from_rate in (None, plan.rate)
                 else f"{format_rate(plan.from_rate)}→{format_rate(plan.rate)}")
        duration = plan.end - plan.start if plan is not None else float(stage["duration"])
        rows.append({
            "stage": timeline.stage_label(number),
            "asked_rate": asked,
            "due": int(len(mine)),
            "started": int(len(started)),
            "dropped": int((mine["outcome"].astype(str) == "dropped").sum()),
            "delayed": int((started["start_delay_ms"] >= schema.DELAYED_MS).sum()),
            "achieved_rate": len(started) / duration if duration > 0 else np.nan,
            "start_delay_p95": summarise(started["start_delay_ms"].dropna()).get("p95", np.nan),
            "first_p95": summarise(started["first_ms"].dropna()).get("p95", np.nan),
        })
    early = sessions.loc[index == NO_STAGE]
    if len(early):
        rows.insert(0, {"stage": "before load", "asked_rate": "", "due": int(len(early)),
                        "started": int(early["start_ts"].notna().sum()),
                        "dropped": int((early["outcome"].astype(str) == "dropped").sum()),
                        "delayed": 0, "achieved_rate": np.nan, "start_delay_p95": np.nan,
                        "first_p95": np.nan})
    return pd.DataFrame(rows, columns=STAGE_COLUMNS)
