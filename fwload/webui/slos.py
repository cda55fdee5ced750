"""The SLOs tab: each objective of the scenario, live, over the last window and the whole run.

Values come from the master's `LiveStats`, fed by every worker's rows, so they are the
figures the abort rules act on: latencies over the last window are exact, whole-run ones
come from 1 %-wide histograms. Whether an SLO holds is decided on the whole run, like the
verdict; a last window over the threshold is flagged, since that is how a breach starts.
The verdict itself is still written from the run directory when the test stops.
"""

from __future__ import annotations

from dataclasses import dataclass

from fwload.recording.live import LiveStats, nearest_rank
from fwload.scenario.model import Scenario
from fwload.webui import formatting as fmt

DEFAULT_WINDOW_S = 60.0

COLUMNS = (
    ("slo", "SLO"),
    ("threshold", "Threshold"),
    ("last_window", "Last window"),
    ("whole_run", "Whole run"),
    ("holds", "Holds"),
    ("detail", "Detail"),
)
CSV_COLUMNS = ("slo", "unit", "threshold", "last_window", "window_s", "window_samples", "whole_run",
               "whole_samples", "holds")


@dataclass(frozen=True, slots=True)
class SloValue:
    """One objective's live values; ``unit`` is ``ms`` or ``ratio``."""

    slo: str
    unit: str
    threshold: float
    last_window: float | None
    window_samples: int
    whole_run: float | None
    whole_samples: int
    window_s: float
    note: str = ""

    @property
    def holds(self) -> bool | None:
        """On the whole run, as the verdict decides; None while nothing was measured."""
        return None if self.whole_run is None else self.whole_run <= self.threshold

    @property
    def window_over(self) -> bool:
        return self.last_window is not None and self.last_window > self.threshold

    def status(self) -> str:
        if self.holds is None:
            return "no data yet"
        if not self.holds:
            return "NO"
        return "yes, last window over" if self.window_over else "yes"

    def table_row(self) -> dict[str, str]:
        show = fmt.ms if self.unit == "ms" else fmt.ratio
        detail = f"{self.window_samples:,} in the last {self.window_s:g} s, {self.whole_samples:,} in the run"
        return {"name": self.slo, "slo": self.slo, "threshold": show(self.threshold),
                "last_window": show(self.last_window), "whole_run": show(self.whole_run),
                "holds": self.status(), "detail": f"{detail}; {self.note}" if self.note else detail}

    def csv_row(self) -> tuple[object, ...]:
        holds = "" if self.holds is None else str(self.holds).lower()
        return (self.slo, self.unit, self.threshold, _rounded(self.last_window), self.window_s, self.window_samples,
                _rounded(self.whole_run), self.whole_samples, holds)


def window_of(scenario: Scenario | None, live: LiveStats) -> float:
    """The scenario's SLO window when it sets one, else a minute; never more than live keeps."""
    wanted = scenario.slos.window if scenario is not None and scenario.slos.window else DEFAULT_WINDOW_S
    return min(wanted, live.window_s)


def slo_values(scenario: Scenario, live: LiveStats, now: float) -> list[SloValue]:
    window = window_of(scenario, live)
    slos = scenario.slos
    values = []
    for group, targets in slos.groups.items():
        for key, threshold_ms in targets.thresholds_ms().items():
            q = float(key[1:])
            recent, recent_n = live.percentile(q, seconds=window, now=now, group=group)
            whole, whole_n = live.percentile(q, group=group)
            values.append(SloValue(f"latency {key} [{group}]", "ms", threshold_ms, recent, recent_n, whole, whole_n,
                                   window))
    if slos.error_ratio is not None:
        values.append(_error_ratio(slos.error_ratio, live, window, now))
    if slos.import_wait_p95 is not None:
        recent_waits = [row[1] for row in live.import_window.since(now, window)]
        values.append(SloValue("import wait p95", "ms", slos.import_wait_p95 * 1000,
                               nearest_rank(recent_waits, 95), len(recent_waits),
                               live.import_wait.percentile(95), live.import_wait.count, window,
                               "finished, skipped and errored imports"))
    if slos.stream_ttfb_p95 is not None:
        recent_ttfb = [row[1] for row in live.stream_window.since(now, window) if not row[2]]
        values.append(SloValue("stream ttfb p95", "ms", slos.stream_ttfb_p95 * 1000,
                               nearest_rank(recent_ttfb, 95), len(recent_ttfb),
                               live.ttfb.percentile(95), live.ttfb.count, window))
    values.extend(_playback_values(scenario, live, window, now))
    return values


def _playback_values(scenario: Scenario, live: LiveStats, window: float, now: float) -> list[SloValue]:
    """The listener SLOs: stalls as the players report them, start-up delays from finished plays."""
    slos, values = scenario.slos, []
    if slos.stall_ratio is not None:
        recent, recent_played = live.stall_ratio(window, now=now)
        whole, whole_played = live.stall_ratio(None)
        values.append(SloValue("stall ratio", "ratio", slos.stall_ratio, recent, round(recent_played), whole,
                               round(whole_played), window, "samples are seconds of audio played"))
    if slos.plays_with_stall is not None:
        recent, recent_n = live.plays_with_stall(window, now=now)
        whole, whole_n = live.plays_with_stall(None)
        values.append(SloValue("plays with a stall", "ratio", slos.plays_with_stall, recent, recent_n, whole,
                               whole_n, window, "real-time plays that ended"))
    if slos.startup_p95 is not None:
        recent_startups = [row[1] for row in live.startup_window.since(now, window)]
        values.append(SloValue("start-up delay p95", "ms", slos.startup_p95 * 1000, nearest_rank(recent_startups, 95),
                               len(recent_startups), live.startup.percentile(95), live.startup.count, window))
    return values


def _error_ratio(threshold: float, live: LiveStats, window: float, now: float) -> SloValue:
    """Failed / requests with throttled (and rejected) requests left out of both, as in the verdict."""
    failed_share, recent_all = live.error_ratio(window, now=now)
    throttled_share, _ = live.throttled_ratio(window, now=now)
    recent_failed = round(failed_share * recent_all)
    recent_counted = recent_all - round(throttled_share * recent_all)
    failed = sum(live.failures.values())
    throttled = sum(live.throttled.values())
    rejected = sum(live.rejected.values())
    counted = sum(live.requests.values()) - throttled - rejected
    apart = f"{throttled:,} throttled" + (f", {rejected:,} rejected bad files" if rejected else "")
    return SloValue("error ratio", "ratio", threshold,
                    recent_failed / recent_counted if recent_counted else None, recent_counted,
                    failed / counted if counted else None, counted, window,
                    f"{failed:,} failed; {apart}, left out")


def slo_rows(scenario: Scenario | None, scenario_file: str, live: LiveStats, now: float,
             refusal: str | None = None) -> list[dict[str, str]]:
    """The tab's rows: a line naming the scenario (or why there is none), then each SLO."""
    if refusal:
        return [_note("test refused", refusal)]
    if scenario is None:
        return [_note("no scenario", "set the scenario field under Custom parameters in the start form "
                                     "(e.g. scenarios/smoke.yaml) to judge a test by its SLOs")]
    rows = [_note(f"scenario {scenario.name}", f"{scenario_file} (its load profile, not the start form, "
                                               "sets the users)")]
    values = slo_values(scenario, live, now)
    if not values:
        rows.append(_note("no SLO", "the scenario sets no slos"))
    rows.extend(value.table_row() for value in values)
    return fmt.ordered(rows)


def _note(title: str, text: str) -> dict[str, str]:
    return {"name": title, "slo": title, "threshold": "", "last_window": "", "whole_run": "", "holds": "",
            "detail": text}


def _rounded(value: float | None) -> object:
    """Milliseconds to the microsecond, ratios to six places: the precision the live figures have."""
    return "" if value is None else round(value, 6 if value < 1 else 3)
