"""The listener SLOs: stall ratio, plays with a stall and start-up delay, whole run and per window.

Over the whole run a check needs one sample (a play), as every SLO: none at all means the
SLO was never exercised, which fails. A window is judged only when one play cannot decide
it alone, the rule the latency windows follow (a p95 needs 100 / (100 − 95) = 20 samples):
a share ``s`` of plays, or of played time, needs at least ``1 / s`` plays in the window,
since one bad play among fewer would be more than ``s`` by itself.
"""

from __future__ import annotations

import math

import pandas as pd

from analysis.metrics.plays import PlayMetrics
from analysis.scenario import SloSpec
from analysis.verdict.check import SLO, Check, known, upper_bound

NO_PLAY = "no real-time play was made: nothing measured what a listener hears"
STARTUP_WINDOW_SAMPLES = 20


def playback_checks(slos: SloSpec, plays: PlayMetrics) -> list[Check]:
    checks = []
    if slos.stall_ratio is not None:
        check = upper_bound("stall ratio", SLO, plays.stall_ratio if plays.realtime else None, slos.stall_ratio,
                            "ratio", plays.realtime, missing=NO_PLAY)
        if plays.realtime:
            check.detail = (f"{plays.stall_s:.1f} s stalled in {plays.played_s:.0f} s played, "
                            f"{plays.stalls} stall(s)")
        checks.append(check)
    if slos.plays_with_stall is not None:
        check = upper_bound("plays with a stall", SLO, plays.plays_with_stall, slos.plays_with_stall, "ratio",
                            plays.realtime, missing=NO_PLAY)
        if plays.realtime:
            check.detail = f"{plays.stalled_plays} of {plays.realtime} real-time plays stalled"
        checks.append(check)
    if slos.startup_p95_ms is not None:
        check = upper_bound("start-up delay p95", SLO, known(plays.startup["p95"]), slos.startup_p95_ms, "ms",
                            int(plays.startup["count"]), missing="no play started")
        if plays.never_started:
            check.detail = f"{plays.never_started} play(s) never started (failed or cut short)"
        checks.append(check)
    if slos.window_s is not None and plays.by_slo_window is not None:
        checks.extend(playback_window_checks(slos, plays.by_slo_window))
    return checks


def playback_window_checks(slos: SloSpec, table: pd.DataFrame) -> list[Check]:
    """Each listener SLO in its worst window of ``slos.window`` seconds."""
    checks = []
    width = slos.window_s
    for name, column, threshold, unit, samples in (
        ("stall ratio", "stall_ratio", slos.stall_ratio, "ratio", "playing"),
        ("plays with a stall", "plays_with_stall", slos.plays_with_stall, "ratio", "playing"),
        ("start-up delay p95", "startup_p95", slos.startup_p95_ms, "ms", "startup_samples"),
    ):
        if threshold is None:
            continue
        needed = STARTUP_WINDOW_SAMPLES if unit == "ms" else plays_needed(threshold)
        label = f"{name} per {width:g}s window"
        judged = table.loc[(table[samples] >= needed) & table[column].notna()]
        if judged.empty:
            what = "started plays" if unit == "ms" else "plays playing"
            checks.append(Check(label, SLO, None, threshold, unit, 0, None,
                                f"no {width:g}s window held the {needed} {what} this needs: not evaluated"))
            continue
        worst = judged[column].idxmax()
        detail = f"worst of {len(judged)} windows: +{worst:.0f}s after the load started"
        if len(judged) < len(table):
            detail += f"; {len(table) - len(judged)} window(s) with fewer than {needed} plays not judged"
        checks.append(upper_bound(label, SLO, float(judged.at[worst, column]), threshold, unit,
                                  int(judged.at[worst, samples]), detail))
    return checks


def plays_needed(share: float) -> int:
    """Plays a window needs before one bad play cannot exceed ``share`` alone."""
    return 1 if share <= 0 else max(1, math.ceil(round(1 / share, 9)))
