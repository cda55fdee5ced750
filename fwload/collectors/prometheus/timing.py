"""Step, rate window and scrape interval of the queries, after the Prometheus documentation.

- Step: one point per collector interval (``step`` of ``query_range``); each point is
  evaluated at a multiple of the step, so successive collections join without overlap.
- Rate window: at least four scrape intervals, so that a window still holds two samples
  after a failed scrape and an unfinished one, and never shorter than step + one scrape
  interval, so that no sample falls between two windows (Grafana's ``$__rate_interval``).
  https://www.robustperception.io/what-range-should-i-use-with-rate/ and
  https://grafana.com/docs/grafana/latest/datasources/prometheus/template-variables/#use-__rate_interval
- Lookback: instant selectors take the latest sample no older than the server's lookback
  delta (``--query.lookback-delta``, 5 m by default), unless the series was marked stale
  when its target stopped exporting it.
  https://prometheus.io/docs/prometheus/latest/querying/basics/#staleness
- Scrape interval: measured from the stored samples of the CPU counter, else Prometheus'
  default ``scrape_interval`` (1 m).
  https://prometheus.io/docs/prometheus/latest/configuration/configuration/
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

from fwload.collectors.prometheus.api import MAX_POINTS, Series

DEFAULT_SCRAPE_INTERVAL_S = 60.0
LOOKBACK_DELTA_S = 300.0
NICE_STEPS_S = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400)
HISTORY_MIN_STEP_S = 60.0
HISTORY_MAX_POINTS = 5_000
"""A 7-day history at a 2-minute step: enough points for percentiles, light to fetch."""


@dataclass(frozen=True, slots=True)
class Timing:
    step_s: float
    scrape_interval_s: float
    explicit_rate_window_s: float | None = None
    measured: bool = False
    """True when the scrape interval was measured from the stored samples."""

    @property
    def rate_window_s(self) -> float:
        if self.explicit_rate_window_s:
            return self.explicit_rate_window_s
        return max(self.step_s + self.scrape_interval_s, 4 * self.scrape_interval_s)

    @property
    def gauge_window_s(self) -> float | None:
        """``max_over_time`` range for gauges when a step spans several scrapes, else None."""
        return self.step_s if self.step_s > self.scrape_interval_s else None

    def on_grid(self, ts: float) -> float:
        """The last evaluation time at or before ``ts`` (a multiple of the step)."""
        return math.floor(round(ts / self.step_s, 6)) * self.step_s

    def with_step(self, step_s: float) -> Timing:
        return Timing(step_s, self.scrape_interval_s, None, self.measured)

    def describe(self) -> dict[str, float | str]:
        return {"step_s": self.step_s, "scrape_interval_s": self.scrape_interval_s,
                "scrape_interval": "measured" if self.measured else "assumed",
                "rate_window_s": self.rate_window_s, "lookback_delta_s": LOOKBACK_DELTA_S}


def history_step(history_s: float, at_least_s: float) -> float:
    """A round step giving at most `HISTORY_MAX_POINTS` points over ``history_s``."""
    wanted = max(at_least_s, HISTORY_MIN_STEP_S, history_s / HISTORY_MAX_POINTS)
    for step in NICE_STEPS_S:
        if step >= wanted:
            return float(step)
    return float(math.ceil(history_s / MAX_POINTS))


def scrape_interval(series: list[Series]) -> float | None:
    """The median gap between consecutive raw samples of a range-vector answer, rounded to
    the millisecond (None with fewer than two samples in every series)."""
    gaps = [later - earlier for one in series
            for (earlier, _), (later, _) in zip(one.points, one.points[1:]) if later > earlier]
    if not gaps:
        return None
    return round(statistics.median(gaps), 3)
