"""What the analysis needs from the run's ``scenario.yaml``: its SLOs, resource checks and schedule.

The scenario model (`fwload.scenario.model.Scenario`, read with `load_scenario`) is the
authority; this module turns it into the plain numbers the checks compare against
(latencies in milliseconds), so the checks do not depend on the model's layout.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from analysis.load import Run
from fwload.errors import FwloadError, RunDirectoryError
from fwload.scenario.loader import load_scenario
from fwload.scenario.model import Scenario
from fwload.scenario.schedule import Stage


@dataclass(frozen=True)
class SloSpec:
    """Latency and error SLOs; latencies in milliseconds, `None` when not set."""

    groups: dict[str, dict[str, float]] = field(default_factory=dict)
    """``{group: {"p95": ms}}``."""
    error_ratio: float | None = None
    import_wait_p95_ms: float | None = None
    stream_ttfb_p95_ms: float | None = None
    stall_ratio: float | None = None
    plays_with_stall: float | None = None
    startup_p95_ms: float | None = None
    window_s: float | None = None
    """Also judge each latency SLO in every window of this many seconds (None: whole run only)."""
    dropped_sessions: float | None = 0.0
    """Arrivals: most dropped / due sessions (None: not checked)."""
    session_start_p95_ms: float | None = None

    @property
    def empty(self) -> bool:
        return (
            not self.groups
            and self.error_ratio is None
            and self.import_wait_p95_ms is None
            and self.stream_ttfb_p95_ms is None
            and self.stall_ratio is None
            and self.plays_with_stall is None
            and self.startup_p95_ms is None
        )


@dataclass(frozen=True)
class ResourceSpec:
    """Resource checks per component; `None` disables a check."""

    limits: str = "documented"
    """``documented`` (k8s/base) or ``live`` (the pod specs the collector saw)."""
    memory_peak_pct: float | None = 100.0
    cpu_p95_pct: float | None = 90.0
    max_restarts: int | None = 0
    max_oom_kills: int | None = 0
    components: tuple[str, ...] | None = None
    """Only these components are checked; None = all."""


@dataclass(frozen=True)
class ScenarioSpec:
    name: str
    description: str = ""
    profile: str = ""
    ready_timeout_s: float | None = None
    slos: SloSpec = field(default_factory=SloSpec)
    resources: ResourceSpec = field(default_factory=ResourceSpec)
    stages: tuple[Stage, ...] = ()
    """The planned schedule (offsets in seconds from the load start); a ramp is one stage."""
    found: bool = True
    """False when the run directory holds no scenario.yaml (then only start-up and resources are checked)."""


def read_scenario(run: Run) -> ScenarioSpec:
    """The SLOs and resource checks of the run's scenario; a bad scenario.yaml is a `RunDirectoryError`."""
    path = run.scenario_path
    if not path.is_file():
        return ScenarioSpec(name=str(run.meta.get("scenario") or "(no scenario)"), found=False)
    try:
        scenario = load_scenario(path, check_files=False)
    except FwloadError as error:
        raise RunDirectoryError(error.problem, error.fix) from None
    return spec_from_scenario(scenario)


def spec_from_scenario(scenario: Scenario) -> ScenarioSpec:
    slos, resources = scenario.slos, scenario.resources
    return ScenarioSpec(
        name=scenario.name,
        description=scenario.description,
        profile=scenario.load.profile,
        ready_timeout_s=scenario.target.ready_timeout,
        slos=SloSpec(
            groups={str(group): slo.thresholds_ms() for group, slo in slos.groups.items()},
            error_ratio=slos.error_ratio,
            import_wait_p95_ms=_ms(slos.import_wait_p95),
            stream_ttfb_p95_ms=_ms(slos.stream_ttfb_p95),
            stall_ratio=slos.stall_ratio,
            plays_with_stall=slos.plays_with_stall,
            startup_p95_ms=_ms(slos.startup_p95),
            window_s=slos.window,
            dropped_sessions=slos.dropped_sessions,
            session_start_p95_ms=_ms(slos.session_start_p95),
        ),
        resources=ResourceSpec(
            limits=resources.limits,
            memory_peak_pct=resources.memory_peak_pct,
            cpu_p95_pct=resources.cpu_p95_pct,
            max_restarts=resources.max_restarts,
            max_oom_kills=resources.max_oom_kills,
            components=tuple(resources.components) if resources.components else None,
        ),
        stages=tuple(scenario.stages()),
    )


def percentile_of_key(key: str) -> float | None:
    """``"p95"`` → 95.0; anything else (``"max"``) → None."""
    return float(key[1:]) if key.startswith("p") and key[1:].replace(".", "", 1).isdigit() else None


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else seconds * 1000
