"""Streaming through listen URLs: time to first byte, transfer rate and concurrent streams.

TTFB is what a listener feels before playback starts; the transfer rate (body bytes over the
time after the first byte) tells whether nginx keeps up once audio flows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.metrics.requests import NOT_TIMED
from analysis.percentiles import grouped_percentiles, slowest, summarise
from analysis.timeline import Timeline
from fwload.recording import schema


@dataclass
class StreamMetrics:
    streams: int
    failed: dict[str, int]
    """Count per error kind (every kind listed, zeros included)."""
    ttfb: dict[str, float]
    ttfb_slowest: tuple[float, ...]
    """The longest times to first byte, longest first (`percentiles.slowest`)."""
    total: dict[str, float]
    rate: dict[str, float]
    """Per-stream transfer rate in bytes/s after the first byte."""
    bytes_total: float
    max_concurrent: int
    by_window: pd.DataFrame
    """``streams``, ``max_concurrent``, ``ttfb_samples``, ``ttfb_p50``, ``ttfb_p95`` per window."""


def stream_metrics(streams: pd.DataFrame, timeline: Timeline) -> StreamMetrics:
    timed = streams.loc[~streams["error_kind"].isin(NOT_TIMED)]
    body_s = (timed["total_ms"] - timed["ttfb_ms"]) / 1000
    rate = (timed["bytes"] / body_s.where(body_s > 0)).dropna()
    failed = streams["error_kind"].value_counts().reindex(schema.ERROR_KINDS, fill_value=0)
    start = streams["ts"].to_numpy(dtype="float64")
    end = start + streams["total_ms"].fillna(0).to_numpy(dtype="float64") / 1000
    concurrency = concurrent_at_starts(start, end)
    windows = timeline.window(start)
    by_window = pd.DataFrame({"streams": pd.Series(1, index=windows).groupby(level=0).sum()})
    if len(start):
        grid = timeline.window_grid(by_window.index)
        by_window = by_window.reindex(grid, fill_value=0)
        at_window_start = open_at(timeline.start + grid, start, end)
        within = pd.Series(concurrency, index=windows).groupby(level=0).max().reindex(grid, fill_value=0)
        by_window["max_concurrent"] = np.maximum(at_window_start, within.to_numpy())
    ttfb = grouped_percentiles(
        timed.assign(window=timeline.window(timed["ts"])), "window", "ttfb_ms", (50, 95)
    )
    by_window = by_window.join(
        ttfb.add_prefix("ttfb_").rename(columns={"ttfb_count": "ttfb_samples"}), how="left"
    )
    return StreamMetrics(
        streams=int(len(streams)),
        failed={str(kind): int(count) for kind, count in failed.items()},
        ttfb=summarise(timed["ttfb_ms"]),
        ttfb_slowest=slowest(timed["ttfb_ms"]),
        total=summarise(timed["total_ms"]),
        rate=summarise(rate),
        bytes_total=float(streams["bytes"].sum()),
        max_concurrent=int(concurrency.max()) if len(concurrency) else 0,
        by_window=by_window,
    )


def concurrent_at_starts(start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Streams open at each stream's start (itself included), in the input order.

    Concurrency only rises at a start, so its maximum over any interval is the maximum of
    these values over the starts in that interval.
    """
    order = np.argsort(start, kind="stable")
    started = np.arange(1, len(start) + 1)
    ended = np.searchsorted(np.sort(end), start[order], side="right")
    result = np.empty(len(start), dtype="int64")
    result[order] = started - ended
    return result


def open_at(times: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Streams open at each of ``times`` (started at or before it, not yet ended)."""
    return np.searchsorted(np.sort(start), times, side="right") - np.searchsorted(
        np.sort(end), times, side="right"
    )
