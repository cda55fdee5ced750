"""One call from a run directory to everything the reports show: `analyse_run`.

The result, `RunAnalysis`, is what every report writer, the compare command and the notebooks
take, so the numbers in verdict.json, junit.xml, summary.md and report.html cannot disagree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from analysis.capacity.rightsizing import history_of
from analysis.capacity.summary import Capacity, capacity_report
from analysis.limits import Limits, documented_limits, live_limits
from analysis.load import Run, load_run
from analysis.metrics.imports import ImportMetrics, import_metrics
from analysis.metrics.plays import PlayMetrics, play_metrics
from analysis.metrics.requests import RequestMetrics, request_metrics
from analysis.metrics.resources import ResourceMetrics, resource_metrics
from analysis.metrics.sessions import SessionMetrics, session_metrics
from analysis.metrics.startup import Startup, startup_report
from analysis.metrics.streams import StreamMetrics, stream_metrics
from analysis.notices import Notice, run_notices
from analysis.scenario import ScenarioSpec, read_scenario
from analysis.timeline import Timeline, build_timeline
from analysis.verdict import Check, exit_status, resource_checks, run_checks, slo_checks, startup_checks
from analysis.verdict.playback import playback_checks
from analysis.verdict.resource import no_samples_reason
from analysis.verdict.sessions import session_checks
from fwload.errors import FwloadError
from fwload.status import ExitStatus


@dataclass
class RunAnalysis:
    run: Run
    scenario: ScenarioSpec
    timeline: Timeline
    startup: Startup
    requests: RequestMetrics
    imports: ImportMetrics
    streams: StreamMetrics
    plays: PlayMetrics
    resources: ResourceMetrics
    documented: dict[str, Limits]
    live: dict[str, Limits]
    capacity: Capacity
    checks: list[Check]
    notices: list[Notice]
    status: ExitStatus
    charts: dict[str, str] | None = None
    """Charts already drawn, by `analysis.writers.charts.draw` name (set by `build_outputs` when
    another process drew them while the requests were analysed); None: the HTML writer draws them."""
    sessions: SessionMetrics | None = None
    """Open arrivals (sessions.csv); ``sessions.active`` is False in other runs."""

    @property
    def limits(self) -> dict[str, Limits]:
        """The limits the resource checks and the capacity model use (the scenario's ``resources.limits``)."""
        return self.live if self.scenario.resources.limits == "live" else self.documented


def analyse_run(
    run: Run | str | Path,
    window_s: float | None = None,
    on_resources: Callable[[Timeline, ResourceMetrics, dict[str, Limits], dict[str, Limits]], None] | None = None,
) -> RunAnalysis:
    """Analyse a run directory (or an already loaded `Run`); ``window_s`` overrides the window width.

    ``on_resources`` is called as soon as the resource figures are known, before the (much
    longer) request tables: the component charts can be drawn meanwhile.
    """
    if not isinstance(run, Run):
        run = load_run(run)
    scenario = read_scenario(run)
    timeline = build_timeline(run, scenario.stages, window_s)
    documented, live = _documented_unless_unused(scenario), live_limits(run.resources)
    resources = resource_metrics(run.resources, run.events, timeline, documented, live)
    if on_resources is not None:
        on_resources(timeline, resources, documented, live)
    requests = request_metrics(run.requests, timeline, scenario.slos.window_s)
    imports = import_metrics(run.imports, run.requests, timeline)
    streams = stream_metrics(run.streams, timeline)
    sessions = session_metrics(run.sessions, timeline, scenario.stages)
    plays = play_metrics(run.plays, timeline, scenario.slos.window_s)
    startup = startup_report(run, resources.incidents)
    limits = live if scenario.resources.limits == "live" else documented
    capacity = capacity_report(
        timeline, requests, imports, run.streams, resources, run.resources, scenario.slos, limits,
        history_of(run.resource_history, run.meta),
        no_samples_reason(run.meta.get("collector")),
    )
    checks = [
        *run_checks(run),
        *startup_checks(startup, scenario),
        *slo_checks(scenario.slos, requests, imports, streams, run.events_of("abort")),
        *playback_checks(scenario.slos, plays),
        *session_checks(scenario.slos, scenario.profile, sessions),
        *resource_checks(scenario.resources, resources, run.meta.get("collector")),
    ]
    return RunAnalysis(
        run=run,
        scenario=scenario,
        timeline=timeline,
        startup=startup,
        requests=requests,
        imports=imports,
        streams=streams,
        plays=plays,
        resources=resources,
        documented=documented,
        live=live,
        capacity=capacity,
        checks=checks,
        notices=run_notices(run, requests, scenario.found),
        status=exit_status(checks),
        sessions=sessions,
    )


def _documented_unless_unused(scenario: ScenarioSpec) -> dict[str, Limits]:
    """The documented limits; a run judged against live limits can do without them."""
    try:
        return documented_limits()
    except FwloadError:
        if scenario.resources.limits == "live":
            return {}
        raise
