"""Charts for report.html, drawn with matplotlib and returned as inline SVG text.

`matplotlib.figure.Figure` is used without pyplot, so no GUI backend or global figure state
is involved; SVG metadata (creator, dates, links to schema URLs) is left out, so the report
holds no external reference and the same run gives the same file.

Drawing is what costs (text layout and one artist per tick, label and grid line), not the
data, which arrives aggregated: so every figure has fixed margins (no layout engine, which
draws each figure twice), at most `TICKS` major ticks per linear axis and grid lines across
the value axis only.
"""

from __future__ import annotations

import io
import re
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import AutoLocator, MaxNLocator, NullLocator

from analysis.timeline import NO_STAGE

if TYPE_CHECKING:
    from analysis.analyse import RunAnalysis

MIB = 1024**2
MAX_POINTS = 600
TICKS = 6
COLORS = {
    "ok": "#2f7d32",
    "failed": "#c62828",
    "throttled": "#ef8f00",
    "p50": "#5c6bc0",
    "p95": "#1a237e",
    "p99": "#9fa8da",
    "users": "#455a64",
    "doc": "#c62828",
    "live": "#6a1b9a",
    "usage": "#1565c0",
}
INCIDENT_STYLE = {
    "oom_kill": ("#c62828", "x", "OOM kill"),
    "restart": ("#ef6c00", "v", "restart"),
    "respawn": ("#6a1b9a", "|", "respawn"),
}
_STYLE = {
    "svg.fonttype": "none",
    "svg.hashsalt": "fwload",
    "font.size": 9,
    "axes.grid": True,
    "axes.grid.axis": "y",
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


def to_svg(figure: Figure) -> str:
    """The figure as an ``<svg>`` element to inline in HTML (no XML prolog, no metadata)."""
    buffer = io.StringIO()
    figure.savefig(
        buffer, format="svg", metadata={"Creator": None, "Date": None, "Format": None, "Type": None}
    )
    text = buffer.getvalue()
    text = text[text.index("<svg") :]
    return re.sub(r"<metadata>.*?</metadata>", "", text, flags=re.DOTALL)


def _figure(rows: int = 1, height: float = 2.4, width: float = 10.0,
            legend_outside: bool = False, right_axis: bool = False):
    """A figure of ``rows`` axes with fixed margins (in inches, so they fit the labels at any
    size): legends outside on the right when ``legend_outside``, room for a right-hand axis
    label when ``right_axis``."""
    total = height * rows
    with matplotlib.rc_context(_STYLE):
        figure = Figure(figsize=(width, total))
        right = (2.1 if right_axis else 1.5) if legend_outside else 0.75 if right_axis else 0.2
        figure.subplots_adjust(left=0.8 / width, right=1 - right / width, top=1 - 0.12 / total,
                               bottom=0.45 / total, hspace=0.35 * 1.9 / height)
        axes = figure.subplots(rows, 1, squeeze=False)[:, 0]
    return figure, axes


def _legend(axis: Any, handles: list | None = None, labels: list | None = None, *, twin: bool = False,
            above: bool = False) -> None:
    """A legend outside the plot, so it never covers data: on the right (past a right-hand axis
    when ``twin``), or in a row above the axes when ``above``."""
    where: dict[str, Any] = ({"loc": "lower left", "bbox_to_anchor": (0.0, 1.0), "ncols": 4} if above
                             else {"loc": "upper left", "bbox_to_anchor": (1.08 if twin else 1.01, 1.0)})
    if handles is None:
        axis.legend(fontsize=7, frameon=False, **where)
    else:
        axis.legend(handles, labels, fontsize=7, frameon=False, **where)


def _merged(*axes: Any) -> tuple[list, list]:
    """The legend entries of axes drawn over each other (a ``twinx`` pair)."""
    pairs = [axis.get_legend_handles_labels() for axis in axes]
    return [h for handles, _ in pairs for h in handles], [label for _, labels in pairs for label in labels]


def _tidy(*axes, stacked: bool = False) -> None:
    """At most `TICKS` major ticks on linear axes (matplotlib's default picks up to ten).

    ``stacked``: the axes are one above the other over the same time (top first): they get
    the same x range and only the bottom one draws x ticks (sharing the x axis would draw
    every axis's ticks, labels hidden).
    """
    if stacked and len(axes) > 1:
        lows, highs = zip(*(axis.get_xlim() for axis in axes), strict=True)
        for axis in axes:
            axis.set_xlim(min(lows), max(highs))
        for axis in axes[:-1]:
            axis.xaxis.set_major_locator(NullLocator())
    for axis in axes:
        for side in (axis.xaxis, axis.yaxis):
            if isinstance(side.get_major_locator(), AutoLocator):
                side.set_major_locator(MaxNLocator(TICKS, steps=[1, 2, 2.5, 5, 10]))


def _stage_lines(axes, analysis: RunAnalysis) -> None:
    timeline = analysis.timeline
    if not timeline.staged:
        return
    for start in timeline.stages["start"].to_numpy()[1:] - timeline.start:
        for axis in axes:
            axis.axvline(start, color="#9e9e9e", linewidth=0.8, linestyle=":")


GLANCE_EVENTS = {**INCIDENT_STYLE, "abort": ("#212121", "*", "abort")}
"""Events marked across every panel of the first-screen chart: colour, marker, legend label."""
_SERIES = ("#1565c0", "#ef6c00", "#2e7d32", "#6a1b9a", "#00838f", "#ad1457", "#5d4037", "#9e9d24")


def glance_chart(analysis: RunAnalysis) -> str:
    """The first screen's chart: users and throughput, p95 per judged group, listeners' stall
    ratio, and each component's CPU and memory as a share of its limit, on one time axis, with
    SLO thresholds and limits as lines and restarts, OOM kills and aborts marked on every panel.

    Legends sit outside the plots on the right, so they never cover data.
    """
    table = analysis.requests.by_window
    width = analysis.timeline.window_s
    shares = _limit_shares(analysis)
    stalls = analysis.plays.realtime and len(analysis.plays.by_window)
    panels = ["load", "latency"] + (["stalls"] if stalls else []) + (["resources"] if len(shares) else [])
    with matplotlib.rc_context(_STYLE):
        figure, axes = _figure(len(panels), 1.3, width=12.0, legend_outside=True, right_axis=True)
        axis = dict(zip(panels, axes, strict=True))
        x = table.index.to_numpy(dtype="float64")
        load = axis["load"]
        if len(table):
            load.stackplot(x, table["ok_rps"], table["failed"] / width, table["throttled"] / width, step="post",
                           labels=["ok/s", "failed/s", "throttled/s"], alpha=0.75,
                           colors=[COLORS["ok"], COLORS["failed"], COLORS["throttled"]])
        load.set_ylabel("requests/s")
        users = load.twinx()
        stages = analysis.timeline.stages
        edges = np.append(stages["start"].to_numpy(), analysis.timeline.end) - analysis.timeline.start
        users.step(edges, np.append(stages["users"].to_numpy(), stages["users"].to_numpy()[-1:]), where="post",
                   color=COLORS["users"], linewidth=1.6, label="target users")
        users.set_ylabel("users")
        users.set_ylim(bottom=0)
        users.grid(False)
        _latency_panel(axis["latency"], analysis)
        if stalls:
            plays = analysis.plays.by_window
            panel = axis["stalls"]
            panel.plot(plays.index.to_numpy(dtype="float64"), plays["stall_ratio"] * 100, drawstyle="steps-post",
                       color=COLORS["failed"], label="stalled / played")
            threshold = analysis.scenario.slos.stall_ratio
            if threshold is not None:
                panel.axhline(threshold * 100, color=COLORS["failed"], linestyle="--", linewidth=0.9,
                              label=f"SLO {threshold * 100:g}%")
            panel.set_ylabel("stall ratio (%)")
            panel.set_ylim(bottom=0)
        if "resources" in axis:
            _resource_panel(axis["resources"], shares, analysis.scenario.resources)
        _mark_events(axes, analysis)
        _stage_lines(axes, analysis)
        axes[-1].set_xlabel(f"seconds since the load started (windows of {width:g} s; dotted: stage changes)")
        handles, labels = load.get_legend_handles_labels()
        more_handles, more_labels = users.get_legend_handles_labels()
        _legend(load, more_handles + handles, more_labels + labels, twin=True)
        for panel in axes[1:]:
            if panel.get_legend() is None:
                _legend(panel)
        _tidy(*axes, stacked=True)
        _tidy(users)
        return to_svg(figure)


LATENCY_LINES = 4
"""At most this many groups' p95 lines on the first-screen chart (the latency section has them all)."""


def _latency_panel(panel: Any, analysis: RunAnalysis) -> None:
    """p95 over time of the groups with a p95 SLO (dashed: the threshold, same colour), else
    the whole run's p50/p95/p99. With more than `LATENCY_LINES` such groups, those whose p95
    check failed come first, then browse and listen, then the nearest to their threshold."""
    slos = {group: limits["p95"] for group, limits in analysis.scenario.slos.groups.items() if "p95" in limits}
    by_group = analysis.requests.by_window_group
    grid = analysis.requests.by_window.index
    failed = {check.name for check in analysis.checks if check.passed is False}
    candidates = []
    if slos and by_group is not None and len(by_group):
        present = set(by_group.index.get_level_values("group").astype(str))
        for group, threshold in slos.items():
            if group not in present:
                continue
            rows = by_group.xs(group, level="group")
            series = rows["p95"].where(rows["samples"] > 0).reindex(grid)
            if series.notna().any():
                priority = (0 if f"latency p95 [{group}]" in failed
                            else 1 if group in ("browse", "listen") else 2)
                candidates.append((priority, -float(np.nanmax(series)) / threshold, group, threshold, series))
    chosen = sorted(sorted(candidates)[:LATENCY_LINES], key=lambda candidate: candidate[2])
    drawn, thresholds = [], []
    for index, (_, _, group, threshold, series) in enumerate(chosen):
        color = _SERIES[index % len(_SERIES)]
        panel.plot(grid.to_numpy(dtype="float64"), series, drawstyle="steps-post", color=color,
                   label=f"{group} p95 (SLO {threshold:g} ms)")
        panel.axhline(threshold, color=color, linestyle="--", linewidth=0.9)
        drawn.append(series)
        thresholds.append(threshold)
    keys = []
    if chosen:
        keys.append(Line2D([], [], color="#616161", linestyle="--", label="dashed: its SLO"))
    if len(candidates) > len(chosen):
        keys.append(Line2D([], [], linestyle="none", label=f"{len(candidates) - len(chosen)} more group(s): "
                                                          "see latency"))
    if not drawn and len(analysis.requests.by_window):
        table = analysis.requests.by_window
        for column in ("p50", "p95", "p99"):
            panel.plot(table.index.to_numpy(dtype="float64"), table[column], drawstyle="steps-post",
                       color=COLORS[column], label=f"all {column}")
            drawn.append(table[column])
    top = max([float(np.nanmax(series)) for series in drawn if series.notna().any()] + thresholds, default=0.0)
    low = min((float(np.nanmin(series[series > 0])) for series in drawn if (series > 0).any()), default=1.0)
    if top > 50 * max(low, 1.0):
        panel.set_yscale("log")
    else:
        panel.set_ylim(bottom=0)
    panel.set_ylabel("p95 latency (ms)" if chosen else "latency (ms)")
    handles, labels = panel.get_legend_handles_labels()
    _legend(panel, handles + keys, labels + [key.get_label() for key in keys])


def _resource_panel(panel: Any, shares: pd.DataFrame, spec: Any) -> None:
    """Each component's CPU (solid) and memory (dashed) as a % of its limit, one colour per
    component, with the limit and the checks' thresholds as lines."""
    for index, component in enumerate(shares.columns.levels[0]):
        color = _SERIES[index % len(_SERIES)]
        for column, style in (("cpu_m", "-"), ("memory_bytes", "--")):
            if (component, column) in shares:
                series = shares[(component, column)].dropna()
                panel.plot(series.index, series, color=color, linestyle=style, linewidth=1.1)
        panel.plot([], [], color=color, linewidth=3, label=str(component))
    keys = [Line2D([], [], color="#616161", linestyle="-", label="CPU"),
            Line2D([], [], color="#616161", linestyle="--", label="memory")]
    which = "live" if spec.limits == "live" else "documented"
    panel.axhline(100, color=COLORS["doc"], linewidth=1.2, label=f"{which} limit")
    for threshold, what in ((spec.cpu_p95_pct, "CPU p95"), (spec.memory_peak_pct, "memory peak")):
        if threshold is not None and threshold != 100:
            panel.axhline(threshold, color=COLORS["doc"], linestyle=":", linewidth=0.9,
                          label=f"{what} check {threshold:g}%")
    handles, labels = panel.get_legend_handles_labels()
    _legend(panel, handles + keys, labels + [key.get_label() for key in keys])
    panel.set_ylabel("% of limit")
    panel.set_ylim(bottom=0)


def _limit_shares(analysis: RunAnalysis) -> pd.DataFrame:
    """Per sampling time (seconds since the load started): each component's largest container's
    CPU and memory as a percentage of its limit; columns (component, ``cpu_m``/``memory_bytes``)."""
    rows = analysis.resources.increases
    limits = analysis.limits
    columns = {}
    for component, mine in rows.groupby("component", observed=True):
        limit = limits.get(str(component))
        if limit is None or mine.empty:
            continue
        series = _per_time_max(mine, analysis.timeline.start)
        for column, of in (("cpu_m", limit.cpu_limit_m), ("memory_bytes", limit.memory_limit_bytes)):
            if of and series[column].notna().any():
                columns[(str(component), column)] = 100.0 * series[column] / of
    if not columns:
        return pd.DataFrame()
    return pd.DataFrame(columns).sort_index(axis=1)


def _mark_events(axes: Any, analysis: RunAnalysis) -> None:
    """Restarts, OOM kills, respawns and aborts: a vertical line on every panel, a marker on the first."""
    incidents = analysis.resources.incidents
    start = analysis.timeline.start
    times = {kind: incidents.loc[incidents["kind"] == kind, "ts"].to_numpy(dtype="float64") - start
             for kind in INCIDENT_STYLE}
    times["abort"] = np.array([float(event["ts"]) - start for event in analysis.run.events
                               if event.get("type") == "abort" and "ts" in event])
    for kind, (color, marker, label) in GLANCE_EVENTS.items():
        if not len(times[kind]):
            continue
        for panel in axes:
            for when in times[kind]:
                panel.axvline(when, color=color, linewidth=0.9, alpha=0.7)
        top = axes[0]
        top.scatter(times[kind], np.full(len(times[kind]), 1.0), transform=top.get_xaxis_transform(),
                    color=color, marker=marker, s=36, zorder=6, clip_on=False, label=label)


def group_latency_chart(analysis: RunAnalysis) -> str:
    """p50 / p95 / p99 per request group, with the scenario's SLO thresholds marked."""
    table = analysis.requests.by_group.loc[lambda frame: frame["samples"] > 0]
    with matplotlib.rc_context(_STYLE):
        figure, (axis,) = _figure(1, max(1.6, 0.45 * len(table) + 0.8), legend_outside=True)
        figure.subplots_adjust(left=1.1 / 10)
        y = np.arange(len(table))
        for offset, column in zip((-0.25, 0, 0.25), ("p50", "p95", "p99")):
            axis.barh(y + offset, table[column], height=0.25, color=COLORS[column], label=column)
        for index, group in enumerate(table.index):
            for key, threshold in analysis.scenario.slos.groups.get(str(group), {}).items():
                axis.plot([threshold], [index], marker="|", markersize=14, color=COLORS["failed"])
                axis.annotate(f"SLO {key}", (threshold, index + 0.3), fontsize=7, color=COLORS["failed"])
        axis.set_yticks(y, [str(group) for group in table.index])
        axis.set_xscale("log")
        axis.set_xlabel("latency (ms, log scale); red ticks: SLO thresholds")
        axis.set_ylabel("request group")
        _legend(axis)
        axis.grid(axis="x", alpha=0.3)
        axis.grid(axis="y", visible=False)
        _tidy(axis)
        return to_svg(figure)


def imports_chart(analysis: RunAnalysis) -> str:
    """Import wait distribution by outcome, and uploads offered vs imports processed over time."""
    imports = analysis.run.imports
    flow = analysis.imports.by_window
    with matplotlib.rc_context(_STYLE):
        figure = Figure(figsize=(10, 3.0))
        figure.subplots_adjust(left=0.07, right=0.92, top=1 - 0.45 / 3.0, bottom=0.45 / 3.0, wspace=0.3)
        wait, over_time = figure.subplots(1, 2)
        waited = imports.loc[imports["outcome"] != "failed"]
        groups = [
            (str(outcome), rows["wait_ms"].dropna() / 1000)
            for outcome, rows in waited.groupby("outcome", observed=True)
            if rows["wait_ms"].notna().any()
        ]
        if groups:
            wait.hist(
                [values for _, values in groups], bins=30, stacked=True, label=[name for name, _ in groups]
            )
            _legend(wait, above=True)
        wait.set_xlabel("wait from upload accepted to final status (s)")
        wait.set_ylabel("imports")
        if len(flow):
            x = flow.index.to_numpy(dtype="float64")
            for column, label in (
                ("offered_per_s", "uploads offered/s"),
                ("accepted_per_s", "accepted/s"),
                ("processed_per_s", "imports processed/s"),
            ):
                over_time.plot(x, flow[column], drawstyle="steps-post", label=label)
            backlog = over_time.twinx()
            backlog.plot(x, flow["backlog"], color="#9e9e9e", linestyle="--", label="backlog")
            backlog.set_ylabel("backlog (accepted − processed)")
            backlog.grid(False)
            _legend(over_time, *_merged(over_time, backlog), above=True)
            _tidy(backlog)
        over_time.set_xlabel("seconds since the load started")
        over_time.set_ylabel("per second")
        _tidy(wait, over_time)
        return to_svg(figure)


def streams_chart(analysis: RunAnalysis) -> str:
    """Concurrent streams and time to first byte over time."""
    table = analysis.streams.by_window
    with matplotlib.rc_context(_STYLE):
        figure, (concurrent, ttfb) = _figure(2, 1.9, legend_outside=True)
        if len(table):
            x = table.index.to_numpy(dtype="float64")
            concurrent.plot(x, table["max_concurrent"], drawstyle="steps-post", color=COLORS["usage"])
            ttfb.plot(x, table["ttfb_p50"], drawstyle="steps-post", color=COLORS["p50"], label="p50")
            ttfb.plot(x, table["ttfb_p95"], drawstyle="steps-post", color=COLORS["p95"], label="p95")
            _legend(ttfb)
        concurrent.set_ylabel("concurrent streams (max)")
        ttfb.set_ylabel("TTFB (ms)")
        ttfb.set_xlabel("seconds since the load started")
        _stage_lines((concurrent, ttfb), analysis)
        _tidy(concurrent, ttfb, stacked=True)
        return to_svg(figure)


def listeners_chart(analysis: RunAnalysis) -> str:
    """Users and plays at once, stall ratio and start-up delay, and component CPU, on one time axis."""
    table = analysis.plays.by_window
    width = analysis.timeline.window_s
    with matplotlib.rc_context(_STYLE):
        figure, (load, stalls, cpu) = _figure(3, 1.9, legend_outside=True, right_axis=True)
        stages = analysis.timeline.stages
        edges = np.append(stages["start"].to_numpy(), analysis.timeline.end) - analysis.timeline.start
        load.step(edges, np.append(stages["users"].to_numpy(), stages["users"].to_numpy()[-1:]), where="post",
                  color=COLORS["users"], label="target users")
        if len(table):
            x = table.index.to_numpy(dtype="float64")
            load.plot(x, table["at_once"], drawstyle="steps-post", color=COLORS["usage"], label="plays at once")
            stalls.plot(x, table["stall_ratio"] * 100, drawstyle="steps-post", color=COLORS["failed"],
                        label="stall ratio")
            startup = stalls.twinx()
            startup.scatter(x, table["startup_p95"], color=COLORS["p95"], marker=".", s=18, label="start-up p95")
            startup.set_ylabel("start-up p95 (ms, dots)")
            startup.set_ylim(bottom=0)
            _legend(stalls, *_merged(stalls, startup), twin=True)
        _legend(load, twin=True)
        load.set_ylabel("users, plays")
        stalls.set_ylabel("stalled / played (%)")
        stalls.set_ylim(bottom=0)
        cpu_by_window = _cpu_by_window(analysis)
        for component in cpu_by_window.columns:
            cpu.plot(cpu_by_window.index, cpu_by_window[component], drawstyle="steps-post", label=str(component))
        if len(cpu_by_window.columns):
            _legend(cpu, twin=True)
        cpu.set_ylabel("CPU (millicores)")
        cpu.set_xlabel(f"seconds since the load started (windows of {width:g} s; dotted: stage changes)")
        _stage_lines((load, stalls, cpu), analysis)
        return to_svg(figure)


def _cpu_by_window(analysis: RunAnalysis) -> pd.DataFrame:
    """Mean CPU of each component per window (its containers summed at each sample)."""
    rows = analysis.resources.increases
    if rows.empty or rows["cpu_m"].isna().all():
        return pd.DataFrame()
    per_sample = rows.groupby(["component", "ts"], observed=True)["cpu_m"].sum().reset_index()
    per_sample["window"] = analysis.timeline.window(per_sample["ts"])
    return per_sample.groupby(["window", "component"], observed=True)["cpu_m"].mean().unstack("component")


def component_chart(analysis: RunAnalysis, component: str) -> str:
    """CPU and memory of one component over time, with request/limit lines and incidents marked."""
    rows = analysis.resources.increases.loc[lambda frame: frame["component"] == component]
    series = _per_time_max(rows, analysis.timeline.start)
    documented = analysis.documented.get(component)
    live = analysis.live.get(component)
    incidents = analysis.resources.incidents.loc[lambda frame: frame["component"] == component]
    with matplotlib.rc_context(_STYLE):
        figure, (cpu, memory) = _figure(2, 1.8, legend_outside=True)
        cpu.plot(series.index, series["cpu_m"], color=COLORS["usage"], label="usage")
        memory.plot(series.index, series["memory_bytes"] / MIB, color=COLORS["usage"], label="working set")
        if series["memory_anon_bytes"].notna().any():
            memory.plot(
                series.index,
                series["memory_anon_bytes"] / MIB,
                color=COLORS["usage"],
                alpha=0.5,
                linestyle="--",
                label="anonymous",
            )
        for limits, source, style in ((documented, "doc", "-"), (live, "live", ":")):
            if limits is None:
                continue
            for axis, value, scale, name in (
                (cpu, limits.cpu_limit_m, 1, "limit"),
                (cpu, limits.cpu_request_m, 1, "request"),
                (memory, limits.memory_limit_bytes, MIB, "limit"),
                (memory, limits.memory_request_bytes, MIB, "request"),
            ):
                if value is not None:
                    axis.axhline(
                        value / scale,
                        color=COLORS[source],
                        linestyle=style,
                        linewidth=1.2 if name == "limit" else 0.7,
                        label=f"{source} {name}",
                    )
        for kind, (color, marker, label) in INCIDENT_STYLE.items():
            times = incidents.loc[incidents["kind"] == kind, "ts"].to_numpy() - analysis.timeline.start
            if len(times):
                top = series["memory_bytes"].max() / MIB if series["memory_bytes"].notna().any() else 1
                memory.scatter(
                    times, np.full(len(times), top), color=color, marker=marker, s=40, label=label, zorder=5
                )
        cpu.set_ylabel("CPU (millicores)")
        memory.set_ylabel("memory (MiB)")
        memory.set_xlabel("seconds since the load started")
        for axis in (cpu, memory):
            axis.set_ylim(bottom=0)
            _legend(axis)
        _stage_lines((cpu, memory), analysis)
        _tidy(cpu, memory, stacked=True)
        return to_svg(figure)


def capacity_chart(analysis: RunAnalysis) -> str:
    """Achieved requests/s and p95 per load level, coloured by whether the level met every SLO."""
    levels = analysis.capacity.levels.loc[lambda frame: frame.index != NO_STAGE]
    with matplotlib.rc_context(_STYLE):
        figure, (axis,) = _figure(1, 2.6, right_axis=True)
        colors = [
            COLORS["ok"] if passed else COLORS["failed"] if passed is False else "#9e9e9e"
            for passed in levels["slo_passed"]
        ]
        axis.scatter(levels["users"], levels["rps"], c=colors, s=40, zorder=3)
        axis.plot(levels["users"], levels["rps"], color="#9e9e9e", linewidth=0.8)
        axis.set_xlabel("target users (green: every SLO met, red: an SLO broken)")
        axis.set_ylabel("achieved requests/s")
        p95 = axis.twinx()
        p95.plot(levels["users"], levels["p95_ms"], color=COLORS["p95"], linestyle="--", marker=".")
        p95.set_ylabel("p95 (ms, dashed)")
        p95.grid(False)
        _tidy(axis, p95)
        return to_svg(figure)


def _per_time_max(rows: pd.DataFrame, start: float) -> pd.DataFrame:
    """Per sampling time, the largest container of the component; at most `MAX_POINTS` points."""
    columns = ["cpu_m", "memory_bytes", "memory_anon_bytes"]
    series = rows.groupby("ts")[columns].max()
    series.index = series.index.to_numpy(dtype="float64") - start
    if len(series) > MAX_POINTS:
        buckets = np.floor(np.arange(len(series)) * MAX_POINTS / len(series))
        series = series.groupby(buckets).max().set_index(series.index.to_series().groupby(buckets).first())
    return series


REQUEST_CHARTS = ("glance", "groups", "imports", "streams", "listeners", "capacity")
"""The charts of the load, by name (then one ``component:<name>`` chart per component)."""


def applicable(analysis: RunAnalysis) -> list[str]:
    """The request charts this run has data for, in report order."""
    has_requests = bool(len(analysis.requests.overall))
    present = {
        "glance": has_requests,
        "groups": has_requests,
        "imports": not analysis.imports.empty,
        "streams": bool(analysis.streams.streams),
        "listeners": not analysis.plays.empty,
        "capacity": analysis.capacity.applicable,
    }
    return [name for name in REQUEST_CHARTS if present[name]]


def draw(analysis: Any, names: list[str]) -> dict[str, str]:
    """Draw the named charts (`REQUEST_CHARTS` names, ``component:<name>``) of ``analysis``.

    ``analysis`` is a `RunAnalysis` or what `chart_inputs` / `component_inputs` keep of one.
    """
    drawers = {"glance": glance_chart, "groups": group_latency_chart, "imports": imports_chart,
               "streams": streams_chart, "listeners": listeners_chart, "capacity": capacity_chart}
    return {name: component_chart(analysis, name.split(":", 1)[1]) if name.startswith("component:")
            else drawers[name](analysis) for name in names}


def component_inputs(timeline: Any, resources: Any, documented: dict, live: dict, component: str) -> SimpleNamespace:
    """What the chart of ``component`` reads, small enough to hand to another process."""
    columns = ["ts", "component", "cpu_m", "memory_bytes", "memory_anon_bytes"]
    increases = resources.increases
    incidents = resources.incidents
    return SimpleNamespace(
        timeline=timeline,
        resources=SimpleNamespace(increases=increases.loc[increases["component"] == component, columns],
                                  incidents=incidents.loc[incidents["component"] == component]),
        documented={component: documented[component]} if component in documented else {},
        live={component: live[component]} if component in live else {},
    )


def chart_inputs(analysis: RunAnalysis) -> SimpleNamespace:
    """What the request charts read of an analysis, small enough to hand to another process."""
    return SimpleNamespace(
        timeline=analysis.timeline,
        requests=SimpleNamespace(by_window=analysis.requests.by_window, by_group=analysis.requests.by_group,
                                 by_window_group=analysis.requests.by_window_group),
        scenario=SimpleNamespace(slos=analysis.scenario.slos, resources=analysis.scenario.resources),
        run=SimpleNamespace(imports=analysis.run.imports[["outcome", "wait_ms"]],
                            events=analysis.run.events_of("abort")),
        imports=SimpleNamespace(by_window=analysis.imports.by_window),
        streams=SimpleNamespace(by_window=analysis.streams.by_window),
        plays=SimpleNamespace(by_window=analysis.plays.by_window, empty=analysis.plays.empty,
                              realtime=analysis.plays.realtime),
        resources=SimpleNamespace(
            increases=analysis.resources.increases[
                ["ts", "component", "cpu_m", "memory_bytes", "memory_anon_bytes"]],
            incidents=analysis.resources.incidents),
        limits=analysis.limits,
        checks=analysis.checks,
        capacity=SimpleNamespace(levels=analysis.capacity.levels),
    )
