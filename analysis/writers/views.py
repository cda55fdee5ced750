"""Report tables as rows of display strings, shared by the Markdown and HTML writers.

Each function returns ``(columns, rows)``; both writers lay the same rows out, so a figure
reads the same in summary.md and report.html.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pandas as pd

from analysis.capacity.projection import FLAT_NOTE
from analysis.percentiles import PERCENTILES, percentile_column
from analysis.redact import scrub, scrub_mapping
from analysis.verdict.check import COMPLETE, REFUSED, RESOURCE, SLO, STARTUP
from analysis.writers import formatting as fmt
from fwload.recording import schema
from fwload.status import ExitStatus

if TYPE_CHECKING:
    from analysis.analyse import RunAnalysis

Table = tuple[list[str], list[list[str]]]

HEADLINES = {
    ExitStatus.SUCCESS: "passed",
    ExitStatus.SLO_BROKEN: "SLO broken",
    ExitStatus.USAGE_ERROR: "refused before the load (bad input)",
    ExitStatus.RESOURCE_BROKEN: "resource check broken",
    ExitStatus.NOT_READY: "target not ready / component dead before the load",
    ExitStatus.INCOMPLETE: "incomplete run: what was measured is shown, nothing is judged passed",
}
PRECEDENCE_TEXT = ("refused (2) > not ready (4) > incomplete (5) > SLO broken (1) > resource broken (3) "
                   "> passed (0)")
VERDICT_WORDS = {ExitStatus.SUCCESS: "PASS", ExitStatus.INCOMPLETE: "INCOMPLETE", ExitStatus.USAGE_ERROR: "REFUSED"}
"""The first word of a verdict line; FAIL for the others."""
_PASSED_ORDER = {False: 0, None: 1, True: 2}
LATENCY_COLUMNS = [percentile_column(q) for q in PERCENTILES] + ["max"]


def headline(analysis: RunAnalysis) -> str:
    return f"{HEADLINES[analysis.status]} (exit {int(analysis.status)})"


def verdict_word(analysis: RunAnalysis) -> str:
    return VERDICT_WORDS.get(analysis.status, "FAIL")


def refusals(analysis: RunAnalysis) -> list[str]:
    """Why the run was refused before its load, as ``fwload run`` said it (empty if it was not)."""
    return [scrub(check.detail) for check in analysis.checks if check.kind == REFUSED and check.passed is False]


def overview(analysis: RunAnalysis) -> list[tuple[str, str]]:
    """Label → value pairs for the line under the headline."""
    overall = analysis.requests.overall
    total = int(overall["requests"].sum()) if len(overall) else 0
    duration = analysis.timeline.duration
    return [
        ("scenario", analysis.scenario.name),
        ("run", analysis.run.run_id),
        ("host", scrub(analysis.run.meta.get("host") or "local stand-in")),
        ("load", f"{len(analysis.timeline.stages)} stage(s), {duration:.0f} s"),
        ("requests", f"{total:,} ({total / duration:.1f}/s)" if duration else f"{total:,}"),
    ]


def checks_table(analysis: RunAnalysis, kinds: tuple[str, ...] | None = None) -> Table:
    """The checks of ``kinds``, failures first within each kind, so a reader sees them at a glance."""
    kind_order = {REFUSED: 0, COMPLETE: 0, STARTUP: 1, SLO: 2, RESOURCE: 3}
    checks = sorted(analysis.checks, key=lambda check: (kind_order.get(check.kind, 4), _PASSED_ORDER[check.passed]))
    rows = [
        [
            fmt.verdict_word(check.passed),
            check.name,
            fmt.value(check.observed, check.unit),
            fmt.value(check.threshold, check.unit),
            fmt.count(check.samples),
            scrub(check.detail),
        ]
        for check in checks
        if kinds is None or check.kind in kinds
    ]
    return ["", "check", "observed", "threshold", "samples", "detail"], rows


def startup_table(analysis: RunAnalysis) -> Table:
    columns, rows = checks_table(analysis, ("startup",))
    before = analysis.startup.incidents_before_load
    for _, incident in before.iterrows():
        rows.append(
            [
                fmt.WARNING,
                f"{incident['kind'].replace('_', ' ')} before the load [{incident['component']}]",
                fmt.count(incident["count"]),
                "",
                "",
                scrub(incident["detail"]) or incident["source"],
            ]
        )
    return columns, rows


def group_table(analysis: RunAnalysis) -> Table:
    table = analysis.requests.by_group
    rows = [
        [
            str(group),
            fmt.count(row["requests"]),
            fmt.count(row["failed"]),
            fmt.ratio(row["error_ratio"]),
            fmt.count(row["throttled"]),
            fmt.count(row["rejected"]),
            fmt.count(row["samples"]),
            *(fmt.ms(row[c]) for c in LATENCY_COLUMNS),
        ]
        for group, row in table.iterrows()
    ]
    columns = ["group", "requests", "failed", "error ratio", "throttled", "rejected", "samples"]
    return [*columns, *LATENCY_COLUMNS], rows


def endpoint_table(analysis: RunAnalysis, limit: int = 25) -> Table:
    table = analysis.requests.by_endpoint.sort_values("requests", ascending=False).head(limit)
    rows = [
        [
            str(group),
            str(method),
            str(name),
            fmt.count(row["requests"]),
            fmt.count(row["failed"]),
            fmt.count(row["samples"]),
            fmt.ms(row["p50"]),
            fmt.ms(row["p95"]),
            fmt.ms(row["max"]),
        ]
        for (group, method, name), row in table.iterrows()
    ]
    return ["group", "method", "endpoint", "requests", "failed", "samples", "p50", "p95", "max"], rows


def error_kind_table(analysis: RunAnalysis) -> Table:
    overall = analysis.requests.overall
    kinds = schema.ERROR_KINDS
    total = int(overall["requests"].sum()) if len(overall) else 0
    rows = [
        [
            kind,
            fmt.count(overall[f"errors_{kind}"].sum()),
            fmt.ratio(overall[f"errors_{kind}"].sum() / total) if total else "–",
        ]
        for kind in kinds
    ]
    return ["error kind", "requests", "share of all"], rows


def top_errors_table(analysis: RunAnalysis) -> Table:
    rows = [
        [
            str(row["group"]),
            str(row["error_kind"]),
            "" if pd.isna(row["status"]) else str(int(row["status"])),
            scrub(row["error"])[:160],
            fmt.count(row["count"]),
        ]
        for _, row in analysis.requests.top_errors.iterrows()
    ]
    return ["group", "kind", "status", "error", "count"], rows


def imports_table(analysis: RunAnalysis) -> Table:
    imports = analysis.imports
    rows = [
        ["uploads offered (POSTs)", fmt.count(imports.uploads_offered)],
        ["uploads accepted (imports followed)", fmt.count(imports.accepted)],
        *([f"outcome: {name}", fmt.count(number)] for name, number in imports.outcomes.items()),
        ["uploads offered per s", fmt.rate(imports.offered_per_s)],
        ["imports processed per s", fmt.rate(imports.processed_per_s)],
        *([f"wait {key} (all followed)", fmt.ms(imports.wait[key])] for key in ("p50", "p95", "max")),
        ["wait samples", fmt.count(imports.wait["count"])],
        ["wait p95 (finished only)", fmt.ms(imports.wait_finished["p95"])],
    ]
    return ["import pipeline", "value"], rows


def streams_table(analysis: RunAnalysis) -> Table:
    streams = analysis.streams
    rows = [
        ["streams", fmt.count(streams.streams)],
        ["failed", ", ".join(f"{k} {v}" for k, v in streams.failed.items() if v) or "0"],
        *([f"TTFB {key}", fmt.ms(streams.ttfb[key])] for key in ("p50", "p95", "p99", "max")),
        ["TTFB samples", fmt.count(streams.ttfb["count"])],
        ["transfer rate p50 (per stream)", fmt.bytes_per_s(streams.rate["p50"])],
        ["transfer rate p95 (per stream)", fmt.bytes_per_s(streams.rate["p95"])],
        ["bytes streamed", fmt.mib(streams.bytes_total)],
        ["max concurrent streams", fmt.count(streams.max_concurrent)],
    ]
    return ["streaming", "value"], rows


def sessions_table(analysis: RunAnalysis) -> Table:
    """Open arrivals per stage: asked and achieved rate, due/started/dropped/delayed sessions,
    start delay and due → first answer (empty outside an arrivals run)."""
    sessions = analysis.sessions
    if sessions is None or not sessions.active:
        return ["stage"], []
    rows = [
        [str(row["stage"]), str(row["asked_rate"]), fmt.rate(row["achieved_rate"]), fmt.count(row["due"]),
         fmt.count(row["started"]), fmt.count(row["dropped"]), fmt.count(row["delayed"]),
         fmt.ms(row["start_delay_p95"]), fmt.ms(row["first_p95"])]
        for _, row in sessions.by_stage.iterrows()
    ]
    rows.append(["whole run", fmt.rate(sessions.asked_rate), fmt.rate(sessions.achieved_rate),
                 fmt.count(sessions.due), fmt.count(sessions.started), fmt.count(sessions.dropped),
                 fmt.count(sessions.delayed), fmt.ms(sessions.start_delay.get("p95")),
                 fmt.ms(sessions.first.get("p95"))])
    return ["stage", "asked rate", "started rate", "due", "started", "dropped",
            f"delayed ≥ {schema.DELAYED_MS:g} ms", "start delay p95", "due → first answer p95"], rows
def listener_figures(analysis: RunAnalysis) -> list[tuple[str, str]]:
    """The listener experience in a few numbers (label, value), for headlines and first screens."""
    plays = analysis.plays
    if plays.empty:
        return []
    figures = [
        ("plays at once (max)", fmt.count(plays.max_at_once)),
        ("start-up delay p50 / p95", f"{fmt.ms(plays.startup['p50'])} / {fmt.ms(plays.startup['p95'])}"),
    ]
    if plays.realtime:
        figures += [
            ("stall ratio", fmt.ratio(plays.stall_ratio)),
            ("plays with a stall", f"{fmt.ratio(plays.plays_with_stall)} ({plays.stalled_plays} of {plays.realtime})"),
        ]
    return figures


def listeners_table(analysis: RunAnalysis) -> Table:
    plays = analysis.plays
    outcomes = ", ".join(f"{name} {count}" for name, count in plays.outcomes.items() if count) or "–"
    rows = [
        ["plays", fmt.count(plays.plays)],
        ["outcomes", outcomes],
        ["real-time plays that started", fmt.count(plays.realtime)],
        ["plays that never started", fmt.count(plays.never_started)],
        ["plays at once (max)", fmt.count(plays.max_at_once)],
        *([f"start-up delay {key}", fmt.ms(plays.startup[key])] for key in ("p50", "p95", "p99", "max")),
        ["audio played", fmt.seconds(plays.played_s)],
        ["stalled", f"{fmt.seconds(plays.stall_s)} in {fmt.count(plays.stalls)} stall(s)"],
        ["stall ratio (stalled / played time)", fmt.ratio(plays.stall_ratio)],
        ["plays with a stall", fmt.ratio(plays.plays_with_stall)],
        ["waiting after seeks", fmt.seconds(plays.seek_wait_s)],
    ]
    return ["listener experience", "value"], rows


def components_table(analysis: RunAnalysis) -> Table:
    rows = []
    for component, row in analysis.resources.summary.iterrows():
        rows.append(
            [
                str(component),
                fmt.count(row["samples"]),
                f"{fmt.millicores(row['cpu_p95'])} / {fmt.millicores(row['cpu_max'])}",
                _shares(row, "cpu_p95_pct"),
                fmt.pct(row["throttled_pct"])
                + (
                    f" ({row['throttled_s']:.1f} s)"
                    if fmt.known(row["throttled_s"]) and row["throttled_s"]
                    else ""
                ),
                f"{fmt.mib(row['memory_p95'])} / {fmt.mib(row['memory_peak'])}",
                _shares(row, "memory_peak_pct"),
                fmt.mib(row["memory_anon_peak"]),
                f"{row['restarts']} / {row['oom_kills']} / {row['respawns']}",
            ]
        )
    return [
        "component",
        "samples",
        "CPU p95 / max",
        "CPU p95 % of doc limit · live limit · live request",
        "throttled",
        "memory p95 / peak",
        "peak % of doc limit · live limit · live request",
        "anon peak",
        "restarts / OOM / respawns",
    ], rows


def _shares(row: pd.Series, prefix: str) -> str:
    """A usage figure as % of the documented limit · live limit · live request."""
    limits = ("doc_limit", "live_limit", "live_request")
    return " · ".join(fmt.pct(row[f"{prefix}_{which}"]) for which in limits)


def incidents_table(analysis: RunAnalysis) -> Table:
    timeline = analysis.timeline
    rows = [
        [
            f"{row['ts'] - timeline.start:+.0f} s",
            str(row["component"]),
            str(row["pod"]),
            str(row["kind"]).replace("_", " "),
            fmt.count(row["count"]),
            timeline.stage_label(int(row["stage"])),
            str(row["source"]),
            scrub(row["detail"]),
        ]
        for _, row in analysis.resources.incidents.iterrows()
    ]
    return ["when", "component", "pod", "what", "count", "stage", "seen by", "detail"], rows


def levels_table(analysis: RunAnalysis) -> Table:
    rows = [
        [
            str(level["label"]),
            fmt.count(level["users"]),
            f"{level['duration_s']:.0f} s",
            fmt.count(level["requests"]),
            fmt.rate(level["rps"], ""),
            fmt.rate(level["ok_rps"], ""),
            fmt.ratio(level["error_ratio"]),
            fmt.ms(level["p95_ms"]),
            fmt.verdict_word(None if level["slo_passed"] is None else bool(level["slo_passed"])),
            str(level["broken"]),
        ]
        for _, level in analysis.capacity.levels.iterrows()
    ]
    return [
        "stage",
        "users",
        "length",
        "requests",
        "rps",
        "ok rps",
        "error ratio",
        "p95",
        "SLOs",
        "broken",
    ], rows


def saturation_table(analysis: RunAnalysis) -> Table:
    timeline = analysis.timeline
    rows = [
        [
            timeline.stage_label(int(row["stage"])),
            fmt.count(row["users"]),
            fmt.rate(row["rps"], ""),
            str(row["component"]),
            "; ".join(row["evidence"]),
        ]
        for _, row in analysis.capacity.saturation.iterrows()
    ]
    return ["stage", "users", "rps", "component", "evidence"], rows


def projections_table(analysis: RunAnalysis) -> Table:
    """Fits where usage grows with load; flat ones are named by `flat_projections`."""
    table = analysis.capacity.projections
    if len(table):
        table = table.loc[table["note"] != FLAT_NOTE]
    rows = []
    for _, row in table.iterrows():
        unit = fmt.millicores if row["resource"] == "cpu" else fmt.mib
        rows.append(
            [
                str(row["component"]),
                str(row["resource"]),
                str(row["load"]),
                fmt.count(row["points"]),
                f"{row['slope']:.3g}" if fmt.known(row["slope"]) else "–",
                f"{row['r2']:.2f}" if fmt.known(row["r2"]) else "–",
                unit(row["limit"]),
                f"{row['load_at_limit']:.1f}" if fmt.known(row["load_at_limit"]) else "–",
                str(row["note"]),
            ]
        )
    return [
        "component",
        "resource",
        "load",
        "levels",
        "slope",
        "R²",
        "documented limit",
        "load at limit",
        "note",
    ], rows


def flat_projections(analysis: RunAnalysis) -> str:
    table = analysis.capacity.projections
    if not len(table):
        return ""
    flat = table.loc[table["note"] == FLAT_NOTE]
    names = sorted({f"{row['component']} {row['resource']}" for _, row in flat.iterrows()})
    return ", ".join(names)


def recommendations_table(analysis: RunAnalysis) -> Table:
    rows = [
        [
            str(row["component"]),
            str(row["window"]),
            f"{row['cpu_samples']} / {row['memory_samples']}",
            fmt.millicores(row["krr_cpu_request_m"]),
            "none",
            fmt.mib(row["krr_memory_bytes"]),
            fmt.millicores(row["vpa_cpu_target_m"]),
            fmt.mib(row["vpa_memory_target_bytes"]),
            "; ".join(row["caveats"][1:]),
        ]
        for _, row in analysis.capacity.recommendations.iterrows()
    ]
    return [
        "component",
        "window",
        "samples (CPU / memory)",
        "KRR CPU request (p95)",
        "KRR CPU limit",
        "KRR memory request = limit (peak × 1.15)",
        "VPA CPU target",
        "VPA memory target",
        "caveats",
    ], rows


def metadata_table(analysis: RunAnalysis) -> Table:
    meta = scrub_mapping(analysis.run.meta)
    keys = (
        "run_id",
        "status",
        "started_at",
        "ended_at",
        "host",
        "scenario",
        "fwload_version",
        "locust",
        "collector",
        "machine",
        "target",
        "readiness",
        "counts",
        "exit_code",
    )
    rows = [
        [key, _when(meta[key]) if key.endswith("_at") else _compact(meta[key])] for key in keys if key in meta
    ]
    rows.append(
        ["timeline", f"load start {analysis.timeline.start:.3f}, window {analysis.timeline.window_s:g} s"]
    )
    return ["run.json", "value"], rows


def _when(value: object) -> str:
    if not isinstance(value, int | float):
        return str(value)
    return datetime.fromtimestamp(value, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC") + f" ({value:.3f})"


def _compact(value: object) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{key}: {_compact(item)}" for key, item in value.items())
    if isinstance(value, list):
        return ", ".join(_compact(item) for item in value)
    return str(value)
