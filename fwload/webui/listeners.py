"""The Listeners tab: what the listeners hear, live, next to the load and the components' CPU.

A row for the whole run, one for the last window, then one per `BUCKET_S` seconds of the
last minute, newest first, so a stall ratio climbing with the users (and the CPU of the
component that runs out) reads down the table. Stall figures come from every process's
players as they play (`fwload.playback.tally`, summed in `LiveStats.series`), not from
finished plays, so a stall shows within a second or two, not when its track ends.
Start-up delays and plays with a stall come from the plays.csv rows reaching the master.
"""

from __future__ import annotations

from fwload.recording.live import LiveStats, Tick, nearest_rank
from fwload.webui import formatting as fmt

COLUMNS = (
    ("when", "When"),
    ("users", "Users"),
    ("plays", "Plays at once"),
    ("stall_ratio", "Stall ratio"),
    ("plays_with_stall", "Plays with a stall"),
    ("startup", "Start-up p50 / p95"),
    ("cpu", "Component CPU"),
)
BUCKET_S = 10.0
BUCKETS = 6


def listener_rows(live: LiveStats, now: float, window_s: float) -> list[dict[str, str]]:
    series = list(live.series)
    if not series and not live.plays:
        return fmt.ordered([_row("no play yet", "", "", "", "", "", "", "the listeners have not started a track")])
    last = series[-1] if series else None
    playing, stalled = live.playing_now()
    rows = [_row(
        "whole run", str(last.users) if last else fmt.UNKNOWN,
        f"{playing} now, {stalled} stalled",
        _ratio(live.stall_ratio(None)), _share(live.plays_with_stall(None)),
        f"{fmt.ms(live.startup.percentile(50))} / {fmt.ms(live.startup.percentile(95))}",
        _cpu(last.cpu if last else {}), f"{sum(live.plays.values()):,} plays ended: {_outcomes(live)}",
    )]
    recent = [tick for tick in series if tick.ts >= now - window_s]
    startups = [row[1] for row in live.startup_window.since(now, window_s)]
    rows.append(_row(
        f"last {window_s:g} s", str(last.users) if last else fmt.UNKNOWN, _most(recent),
        _ratio(live.stall_ratio(window_s, now=now)), _share(live.plays_with_stall(window_s, now=now)),
        f"{fmt.ms(nearest_rank(startups, 50))} / {fmt.ms(nearest_rank(startups, 95))}",
        _cpu(_mean_cpu(recent)), f"{len(startups):,} plays started",
    ))
    for number in range(BUCKETS):
        end = now - number * BUCKET_S
        ticks = [tick for tick in series if end - BUCKET_S < tick.ts <= end]
        if not ticks:
            break
        started = [row[1] for row in live.startup_window.rows if end - BUCKET_S <= row[0] < end]
        ended = [row for row in live.play_window.rows if end - BUCKET_S <= row[0] < end]
        stalled_plays = sum(1 for row in ended if row[2])
        rows.append(_row(
            f"−{number * BUCKET_S:g}…{(number + 1) * BUCKET_S:g} s", str(ticks[-1].users), _most(ticks),
            _ratio(live.stall_ratio(BUCKET_S, until=end)),
            f"{stalled_plays} of {len(ended)} ended" if ended else fmt.UNKNOWN,
            f"{fmt.ms(nearest_rank(started, 50))} / {fmt.ms(nearest_rank(started, 95))}",
            _cpu(_mean_cpu(ticks)), "",
        ))
    return fmt.ordered(rows)


def _row(when: str, users: str, plays: str, stall_ratio: str, plays_with_stall: str, startup: str, cpu: str,
         detail: str) -> dict[str, str]:
    return {"name": when, "when": when if not detail else f"{when} ({detail})", "users": users, "plays": plays,
            "stall_ratio": stall_ratio, "plays_with_stall": plays_with_stall, "startup": startup, "cpu": cpu}


def _ratio(value: tuple[float | None, float]) -> str:
    ratio, played = value
    return f"{fmt.ratio(ratio)} of {played:,.0f} s" if ratio is not None else fmt.UNKNOWN


def _share(value: tuple[float | None, int]) -> str:
    share, plays = value
    return f"{fmt.ratio(share)} of {plays:,}" if share is not None else fmt.UNKNOWN


def _most(ticks: list[Tick]) -> str:
    return f"{max(tick.playing for tick in ticks)} at most" if ticks else fmt.UNKNOWN


def _mean_cpu(ticks: list[Tick]) -> dict[str, float]:
    totals: dict[str, list[float]] = {}
    for tick in ticks:
        for component, value in tick.cpu.items():
            totals.setdefault(component, []).append(value)
    return {component: sum(values) / len(values) for component, values in totals.items()}


def _cpu(cpu: dict[str, float]) -> str:
    if not cpu:
        return fmt.UNKNOWN
    return " · ".join(f"{component} {fmt.millicores(value)}" for component, value in sorted(cpu.items()))


def _outcomes(live: LiveStats) -> str:
    return ", ".join(f"{name} {count:,}" for name, count in sorted(live.plays.items())) or "none"
