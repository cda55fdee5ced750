"""The upload → import pipeline: outcomes, how long imports waited, and throughput against demand.

Funkwhale imports in Celery, rate-limited to about one task per second per worker, so import
throughput is a capacity figure of its own: if imports finish more slowly than uploads are
accepted, a backlog grows and import waits climb even when every HTTP request is fast.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.percentiles import grouped_percentiles, slowest, summarise
from analysis.timeline import Timeline
from fwload.recording import schema

DONE = ("finished", "skipped", "errored")
"""Outcomes where Funkwhale reached a final status (the import was processed)."""


@dataclass
class ImportMetrics:
    outcomes: dict[str, int]
    """Count per `schema.IMPORT_OUTCOMES`."""
    uploads_offered: int
    """Upload POSTs attempted (requests.csv, group ``upload``)."""
    accepted: int
    """Uploads answered 201, whose import was followed."""
    wait: dict[str, float]
    """Wait (ms) of every followed import, including those given up on (``timeout``): a lower bound."""
    wait_slowest: tuple[float, ...]
    """The longest waits, longest first (`percentiles.slowest`)."""
    wait_finished: dict[str, float]
    by_fixture: pd.DataFrame
    by_window: pd.DataFrame
    by_stage: pd.DataFrame
    offered_per_s: float
    processed_per_s: float

    @property
    def empty(self) -> bool:
        return self.uploads_offered == 0 and self.accepted == 0 and not any(self.outcomes.values())


def import_metrics(imports: pd.DataFrame, requests: pd.DataFrame, timeline: Timeline) -> ImportMetrics:
    outcomes = imports["outcome"].value_counts().reindex(schema.IMPORT_OUTCOMES, fill_value=0)
    waited = imports.loc[imports["outcome"] != "failed"]
    uploads = requests.loc[requests["group"] == "upload", "ts"]
    done = imports.loc[imports["outcome"].isin(DONE)]
    done_at = done["ts"] + done["wait_ms"].fillna(0) / 1000
    accepted_at = imports.loc[imports["upload"] != "", "ts"]
    duration = timeline.duration or np.nan
    by_fixture = (
        imports.groupby(["fixture", "outcome"], observed=True).size().unstack("outcome", fill_value=0)
    )
    by_fixture = by_fixture.reindex(columns=list(schema.IMPORT_OUTCOMES), fill_value=0)
    return ImportMetrics(
        outcomes={name: int(count) for name, count in outcomes.items()},
        uploads_offered=int(len(uploads)),
        accepted=int(len(accepted_at)),
        wait=summarise(waited["wait_ms"]),
        wait_slowest=slowest(waited["wait_ms"]),
        wait_finished=summarise(imports.loc[imports["outcome"] == "finished", "wait_ms"]),
        by_fixture=by_fixture,
        by_window=_flow_table(
            timeline.window, uploads, accepted_at, done_at, waited, timeline.window_s, timeline.window_grid
        ),
        by_stage=_stage_table(timeline, uploads, accepted_at, done_at, waited),
        offered_per_s=len(uploads) / duration,
        processed_per_s=len(done_at) / duration,
    )


def _flow_table(
    key,
    uploads: pd.Series,
    accepted_at: pd.Series,
    done_at: pd.Series,
    waited: pd.DataFrame,
    width: float | np.ndarray,
    grid=None,
) -> pd.DataFrame:
    """Per key (window or stage): uploads offered, accepted, processed, the backlog and wait p50/p95."""
    table = (
        pd.concat(
            {
                "offered": pd.Series(1, index=key(uploads)).groupby(level=0).sum(),
                "accepted": pd.Series(1, index=key(accepted_at)).groupby(level=0).sum(),
                "processed": pd.Series(1, index=key(done_at)).groupby(level=0).sum(),
            },
            axis=1,
        )
        .sort_index()
        .fillna(0)
        .astype("int64")
    )
    if grid is not None and len(table):
        table = table.reindex(grid(table.index), fill_value=0)
    for column in ("offered", "accepted", "processed"):
        table[f"{column}_per_s"] = table[column] / width
    table["backlog"] = (table["accepted"] - table["processed"]).cumsum()
    wait = grouped_percentiles(waited.assign(key=key(waited["ts"])), "key", "wait_ms", (50, 95))
    return table.join(wait.rename(columns={"count": "wait_samples"}), how="left")


def _stage_table(timeline: Timeline, uploads, accepted_at, done_at, waited) -> pd.DataFrame:
    table = _flow_table(timeline.stage_index, uploads, accepted_at, done_at, waited, 1.0)
    durations = pd.Series(timeline.stages["duration"].to_numpy(), index=range(len(timeline.stages)))
    seconds = durations.reindex(table.index).to_numpy()
    for column in ("offered", "accepted", "processed"):
        table[f"{column}_per_s"] = table[column] / seconds
    return table
