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
        right = 1.5 if legend_outside else 0.75 if right_axis else 0.2
        figure.subplots_adjust(left=0.8 / width, right=1 - right / width, top=1 - 0.12 / total,
                               bottom=0.45 / total, hspace=0.35 * 1.9 / height)
        axes = figure.subplots(rows, 1, squeeze=False)[:, 0]
    return figure, axes


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


def overview_chart(analysis: RunAnalysis) -> str:
    """Users, throughput (ok / failed / throttled per second) and latency percentiles over time."""
    table = analysis.requests.by_window
    with matplotlib.rc_context(_STYLE):
        figure, (users, rps, latency) = _figure(3, 1.9)
        x = table.index.to_numpy(dtype="float64")
        stages = analysis.timeline.stages
        edges = np.append(stages["start"].to_numpy(), analysis.timeline.end) - analysis.timeline.start
        users.step(
            edges,
            np.append(stages["users"].to_numpy(), stages["users"].to_numpy()[-1:]),
            where="post",
            color=COLORS["users"],
        )
        users.set_ylabel("target users")
        width = analysis.timeline.window_s
        if len(table):
            failed = table["failed"] / width
            throttled = table["throttled"] / width
            rps.stackplot(
                x,
                table["ok_rps"],
                failed,
                throttled,
                step="post",
                labels=["ok", "failed", "throttled"],
                colors=[COLORS["ok"], COLORS["failed"], COLORS["throttled"]],
                alpha=0.8,
            )
            rps.legend(loc="upper left", fontsize=7, ncols=3)
            for column in ("p50", "p95", "p99"):
                latency.plot(x, table[column], drawstyle="steps-post", color=COLORS[column], label=column)
            if table["p99"].max() > 20 * max(table["p50"].median(), 1):
                latency.set_yscale("log")
            latency.legend(loc="upper left", fontsize=7, ncols=3)
        rps.set_ylabel("requests/s")
        latency.set_ylabel("latency (ms)")
        latency.set_xlabel(f"seconds since the load started (windows of {width:g} s; dotted: stage changes)")
        _stage_lines((users, rps, latency), analysis)
        _tidy(users, rps, latency, stacked=True)
        return to_svg(figure)


def group_latency_chart(analysis: RunAnalysis) -> str:
    """p50 / p95 / p99 per request group, with the scenario's SLO thresholds marked."""
    table = analysis.requests.by_group.loc[lambda frame: frame["samples"] > 0]
    with matplotlib.rc_context(_STYLE):
        figure, (axis,) = _figure(1, max(1.6, 0.45 * len(table) + 0.8))
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
        axis.legend(loc="lower right", fontsize=7)
        axis.grid(axis="x", alpha=0.3)
        axis.grid(axis="y", visible=False)
        _tidy(axis)
        return to_svg(figure)


def imports_chart(analysis: RunAnalysis) -> str:
    """Import wait distribution by outcome, and uploads offered vs imports processed over time."""
    imports = analysis.run.imports
    flow = analysis.imports.by_window
    with matplotlib.rc_context(_STYLE):
        figure = Figure(figsize=(10, 2.8))
        figure.subplots_adjust(left=0.07, right=0.92, top=0.95, bottom=0.45 / 2.8, wspace=0.3)
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
            wait.legend(fontsize=7)
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
            over_time.legend(loc="upper left", fontsize=7)
            _tidy(backlog)
        over_time.set_xlabel("seconds since the load started")
        over_time.set_ylabel("per second")
        _tidy(wait, over_time)
        return to_svg(figure)


def streams_chart(analysis: RunAnalysis) -> str:
    """Concurrent streams and time to first byte over time."""
    table = analysis.streams.by_window
    with matplotlib.rc_context(_STYLE):
        figure, (concurrent, ttfb) = _figure(2, 1.9)
        if len(table):
            x = table.index.to_numpy(dtype="float64")
            concurrent.plot(x, table["max_concurrent"], drawstyle="steps-post", color=COLORS["usage"])
            ttfb.plot(x, table["ttfb_p50"], drawstyle="steps-post", color=COLORS["p50"], label="p50")
            ttfb.plot(x, table["ttfb_p95"], drawstyle="steps-post", color=COLORS["p95"], label="p95")
            ttfb.legend(loc="upper left", fontsize=7)
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
        figure, (load, stalls, cpu) = _figure(3, 1.9)
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
            stalls.legend(loc="upper left", fontsize=7)
        load.legend(loc="upper left", fontsize=7, ncols=2)
        stalls.set_ylabel("stalled / played (%)")
        stalls.set_ylim(bottom=0)
        cpu_by_window = _cpu_by_window(analysis)
        for component in cpu_by_window.columns:
            cpu.plot(cpu_by_window.index, cpu_by_window[component], drawstyle="steps-post", label=str(component))
        if len(cpu_by_window.columns):
            cpu.legend(loc="upper left", fontsize=7, ncols=min(len(cpu_by_window.columns), 4))
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
            axis.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7, frameon=False)
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


REQUEST_CHARTS = ("overview", "groups", "imports", "streams", "listeners", "capacity")
"""The charts of the load, by name (then one ``component:<name>`` chart per component)."""


def applicable(analysis: RunAnalysis) -> list[str]:
    """The request charts this run has data for, in report order."""
    has_requests = bool(len(analysis.requests.overall))
    present = {
        "overview": has_requests,
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
    drawers = {"overview": overview_chart, "groups": group_latency_chart, "imports": imports_chart,
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
        requests=SimpleNamespace(by_window=analysis.requests.by_window, by_group=analysis.requests.by_group),
        scenario=SimpleNamespace(slos=SimpleNamespace(groups=analysis.scenario.slos.groups)),
        run=SimpleNamespace(imports=analysis.run.imports[["outcome", "wait_ms"]]),
        imports=SimpleNamespace(by_window=analysis.imports.by_window),
        streams=SimpleNamespace(by_window=analysis.streams.by_window),
        plays=SimpleNamespace(by_window=analysis.plays.by_window, empty=analysis.plays.empty),
        resources=SimpleNamespace(increases=analysis.resources.increases[["ts", "component", "cpu_m"]]),
        capacity=SimpleNamespace(levels=analysis.capacity.levels),
    )
