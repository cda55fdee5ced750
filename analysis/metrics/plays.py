"""The listener's experience: start-up delay, stalls and plays at once (plays.csv).

A listener does not feel a latency percentile; they feel the music not starting and the
music stopping. Both are measured exactly per play by the player (`fwload.playback.clock`);
here they are summed over the run and split over time windows. A play spans many windows
(a track lasts minutes), so its played and stalled seconds are placed where they happened:
playing from ``ts + startup`` until its end, minus the silences its ``gaps`` column lists.

Stall figures cover ``realtime`` plays only (a ``download`` play is not played); start-up
delays cover every play that started.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.percentiles import grouped_percentiles, summarise
from analysis.timeline import Timeline

STARTUP_QUANTILES = (50, 95, 99)


@dataclass
class PlayMetrics:
    plays: int
    realtime: int
    """Real-time plays that started: the plays stall figures are about."""
    outcomes: dict[str, int]
    startup: dict[str, float]
    """Count, p50, p95, p99 and max of the start-up delay (ms), plays that started."""
    never_started: int
    """Plays that ended (failed, cut short) before enough audio arrived to start."""
    played_s: float
    stall_s: float
    stalls: int
    stalled_plays: int
    seek_wait_s: float
    max_at_once: int
    by_window: pd.DataFrame
    """Per window (seconds since the load start): ``at_once`` (most plays in progress),
    ``playing`` (real-time plays playing in it), ``played_s``, ``stall_s``, ``stall_ratio``,
    ``stalled`` (plays with a stall in it), ``plays_with_stall``, ``startup_samples``,
    ``startup_p50``, ``startup_p95`` (plays begun in it)."""
    by_slo_window: pd.DataFrame | None = None
    """The same per window of the scenario's ``slos.window``, when it sets one."""

    @property
    def stall_ratio(self) -> float | None:
        return self.stall_s / self.played_s if self.played_s > 0 else None

    @property
    def plays_with_stall(self) -> float | None:
        return self.stalled_plays / self.realtime if self.realtime else None

    @property
    def empty(self) -> bool:
        return self.plays == 0


def play_metrics(plays: pd.DataFrame, timeline: Timeline, slo_window_s: float | None = None) -> PlayMetrics:
    started = plays.loc[plays["startup_ms"].notna()]
    realtime = started.loc[started["playback"] == "realtime"]
    outcomes = plays["outcome"].value_counts()
    by_window = windows(plays, timeline.start, timeline.window_s, timeline)
    return PlayMetrics(
        plays=int(len(plays)),
        realtime=int(len(realtime)),
        outcomes={str(name): int(count) for name, count in outcomes.items()},
        startup=summarise(started["startup_ms"], STARTUP_QUANTILES),
        never_started=int(len(plays) - len(started)),
        played_s=float(realtime["played_s"].sum()),
        stall_s=float(realtime["stall_ms"].sum() / 1000),
        stalls=int(realtime["stalls"].sum()),
        stalled_plays=int((realtime["stalls"] > 0).sum()),
        seek_wait_s=float(realtime["seek_wait_ms"].sum() / 1000),
        max_at_once=int(by_window["at_once"].max()) if len(by_window) else 0,
        by_window=by_window,
        by_slo_window=windows(plays, timeline.start, slo_window_s, None) if slo_window_s else None,
    )


def windows(plays: pd.DataFrame, origin: float, width: float, timeline: Timeline | None) -> pd.DataFrame:
    """Playback figures per window of ``width`` seconds from ``origin`` (see `PlayMetrics.by_window`).

    ``timeline`` given: the chart grid (every window to the end of the run); else only the
    windows from the first play to the last one.
    """
    columns = ["at_once", "playing", "played_s", "stall_s", "stall_ratio", "stalled", "plays_with_stall",
               "startup_samples", "startup_p50", "startup_p95"]
    if plays.empty:
        return pd.DataFrame(columns=columns, dtype="float64")
    spans = _spans(plays)
    first = math.floor((float(np.nanmin(spans["ts"])) - origin) / width)
    last = math.floor((float(np.nanmax(spans["end"])) - origin) / width)
    if timeline is not None:
        grid = timeline.window_grid(np.array([first, last], dtype="float64") * width)
    else:
        grid = np.arange(first, last + 1) * width
    edges = np.append(grid, grid[-1] + width) + origin
    rt = spans.loc[spans["realtime"]]
    playing_time = _time_in(rt["play_start"], rt["end"], edges)
    gaps = _gaps(rt)
    silence = _time_in(gaps["start"], gaps["end"], edges)
    stalled_gaps = gaps.loc[gaps["kind"] == "stall"]
    stall_time = _time_in(stalled_gaps["start"], stalled_gaps["end"], edges)
    played = np.maximum(playing_time - silence, 0.0)
    playing = _overlapping(rt["play_start"], rt["end"], edges)
    stalled = _plays_touching(stalled_gaps, edges)
    at_once = _most_at_once(spans["ts"].to_numpy(), spans["end"].to_numpy(), edges)
    table = pd.DataFrame(
        {
            "at_once": at_once,
            "playing": playing,
            "played_s": played,
            "stall_s": stall_time,
            "stall_ratio": np.where(played > 0, stall_time / np.where(played > 0, played, 1), np.nan),
            "stalled": stalled,
            "plays_with_stall": np.where(playing > 0, stalled / np.where(playing > 0, playing, 1), np.nan),
        },
        index=pd.Index(grid, name="window"),
    )
    started = plays.loc[plays["startup_ms"].notna(), ["ts", "startup_ms"]]
    where = np.floor((started["ts"].to_numpy(dtype="float64") - origin) / width) * width
    startup = grouped_percentiles(started.assign(window=where), "window", "startup_ms", (50, 95))
    startup = startup.reindex(table.index)
    table["startup_samples"] = startup["count"].fillna(0).astype("int64")
    table["startup_p50"] = startup["p50"]
    table["startup_p95"] = startup["p95"]
    return table


def _spans(plays: pd.DataFrame) -> pd.DataFrame:
    """Each play's wall-clock span: request, playback start, end."""
    ts = plays["ts"].to_numpy(dtype="float64")
    startup = plays["startup_ms"].to_numpy(dtype="float64") / 1000
    silent = (np.nan_to_num(plays["stall_ms"].to_numpy(dtype="float64"))
              + np.nan_to_num(plays["seek_wait_ms"].to_numpy(dtype="float64"))) / 1000
    played = np.nan_to_num(plays["played_s"].to_numpy(dtype="float64"))
    play_start = ts + np.nan_to_num(startup)
    return pd.DataFrame({
        "ts": ts,
        "play_start": play_start,
        "end": play_start + played + silent,
        "realtime": (plays["playback"] == "realtime").to_numpy() & ~np.isnan(startup),
        "gaps": plays["gaps"].to_numpy(),
    })


def _gaps(spans: pd.DataFrame) -> pd.DataFrame:
    """Every stall and seek wait as a wall-clock interval, with the play it belongs to."""
    rows = []
    for number, (ts, text) in enumerate(zip(spans["ts"], spans["gaps"], strict=True)):
        if not isinstance(text, str) or not text:
            continue
        for item in text.split():
            kind, _, rest = item.partition("@")
            offset, _, seconds = rest.partition("+")
            start = ts + float(offset)
            rows.append((number, kind, start, start + float(seconds)))
    return pd.DataFrame(rows, columns=["play", "kind", "start", "end"])


def _time_in(starts: pd.Series | np.ndarray, ends: pd.Series | np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Total time the intervals spend in each window between consecutive ``edges``.

    ``F(t) = Σ (min(t, end) − start)`` over intervals begun by ``t`` grows by the time spent
    before ``t``; a window's share is ``F(right) − F(left)``, in O((n + w) log n).
    """
    start = np.sort(np.asarray(starts, dtype="float64"))
    end = np.sort(np.asarray(ends, dtype="float64"))
    if not len(start):
        return np.zeros(len(edges) - 1)
    start_sum = np.concatenate([[0.0], np.cumsum(start)])
    end_sum = np.concatenate([[0.0], np.cumsum(end)])
    begun = np.searchsorted(start, edges, side="right")
    ended = np.searchsorted(end, edges, side="right")
    spent = (begun * edges - start_sum[begun]) - (ended * edges - end_sum[ended])
    return np.diff(spent)


def _overlapping(starts: pd.Series, ends: pd.Series, edges: np.ndarray) -> np.ndarray:
    """Intervals overlapping each window (begun before its right edge, not ended by its left)."""
    start = np.sort(starts.to_numpy(dtype="float64"))
    end = np.sort(ends.to_numpy(dtype="float64"))
    return (np.searchsorted(start, edges[1:], side="left") - np.searchsorted(end, edges[:-1], side="right")).clip(0)


def _plays_touching(gaps: pd.DataFrame, edges: np.ndarray) -> np.ndarray:
    """Distinct plays with an interval in each window."""
    counts = np.zeros(len(edges) - 1, dtype="int64")
    if gaps.empty:
        return counts
    first = np.searchsorted(edges, gaps["start"].to_numpy(), side="right") - 1
    last = np.searchsorted(edges, gaps["end"].to_numpy(), side="left") - 1
    touched = {(play, window) for play, low, high in zip(gaps["play"], first, np.maximum(first, last), strict=True)
               for window in range(max(low, 0), min(high, len(counts) - 1) + 1)}
    for _play, window in touched:
        counts[window] += 1
    return counts


def _most_at_once(starts: np.ndarray, ends: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Most plays in progress at any moment of each window (a play is in progress from its request to its end)."""
    order = np.argsort(starts, kind="stable")
    sorted_start, sorted_end = starts[order], np.sort(ends)
    at_starts = np.arange(1, len(starts) + 1) - np.searchsorted(sorted_end, sorted_start, side="right")
    at_edges = np.searchsorted(sorted_start, edges[:-1], side="right") - np.searchsorted(sorted_end, edges[:-1],
                                                                                          side="right")
    window_of = np.searchsorted(edges, sorted_start, side="right") - 1
    most = at_edges.copy()
    inside = (window_of >= 0) & (window_of < len(most))
    np.maximum.at(most, window_of[inside], at_starts[inside])
    return most
