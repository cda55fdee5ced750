"""``slos:``, ``resources:`` and ``abort:`` — what a run is judged by, and what stops it early.

Latency thresholds are written as durations ("300ms", "2s") and held in seconds, like every
`fwload.units.Duration`; `GroupSLO.thresholds_ms` gives them in the milliseconds the run
directory measures. An abort rule on ``p95_ms`` is held in milliseconds, as its name says.
"""

from __future__ import annotations

import itertools
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_serializer, field_validator, model_validator

from fwload.common.requests import REQUEST_GROUPS, RequestGroup
from fwload.scenario.problems import Problem, raise_problems
from fwload.scenario.section import Section
from fwload.units import Duration, format_duration, parse_duration

COMPONENTS = ("nginx", "api", "postgres", "redis", "celery-worker", "celery-beat", "standin")
"""Component names (the ``app.kubernetes.io/component`` labels; ``standin`` locally)."""
Component = Literal[COMPONENTS]  # type: ignore[valid-type]

PERCENTILES = ("p50", "p90", "p95", "p99")


class GroupSLO(Section):
    """Latency thresholds of one request group; set at least one percentile."""

    p50: Duration | None = Field(None, gt=0, description="Median response time must stay at or below this.")
    p90: Duration | None = Field(None, gt=0, description="90th percentile response time limit.")
    p95: Duration | None = Field(None, gt=0, description="95th percentile response time limit.")
    p99: Duration | None = Field(None, gt=0, description="99th percentile response time limit.")

    def thresholds_ms(self) -> dict[str, float]:
        """The percentiles that are set, in milliseconds, e.g. ``{"p95": 1000.0}``."""
        return {name: value * 1000 for name in PERCENTILES if (value := getattr(self, name)) is not None}

    @model_validator(mode="after")
    def _set_and_ordered(self) -> GroupSLO:
        thresholds = self.thresholds_ms()
        if not thresholds:
            raise ValueError("set at least one of p50, p90, p95, p99 (e.g. {p95: 1s})")
        problems = []
        names = list(thresholds)
        for lower, higher in itertools.pairwise(names):
            if thresholds[higher] < thresholds[lower]:
                problems.append(
                    Problem(
                        (higher,),
                        f"{format_duration(thresholds[higher] / 1000)} is below "
                        f"{lower} ({format_duration(thresholds[lower] / 1000)}); a higher "
                        "percentile cannot be faster",
                        thresholds[higher] / 1000,
                    )
                )
        raise_problems("GroupSLO", problems)
        return self


class SLOs(Section):
    """``slos:`` — service level objectives; a broken one makes the run exit 1."""

    groups: dict[RequestGroup, GroupSLO] = Field(
        default_factory=dict,
        description="Latency thresholds per request group: " + ", ".join(REQUEST_GROUPS) + ".",
    )
    error_ratio: float | None = Field(
        0.01,
        ge=0,
        le=1,
        description="Most failed requests / all requests; throttled requests "
        "are excluded (reported apart); null = not checked.",
    )
    import_wait_p95: Duration | None = Field(
        None, gt=0, description="95th percentile of upload accepted → import finished; null = not checked."
    )
    stream_ttfb_p95: Duration | None = Field(
        None, gt=0, description="95th percentile of the time to the first audio byte; null = not checked."
    )
    stall_ratio: float | None = Field(
        None,
        ge=0,
        le=1,
        description="Most stalled time / played time of real-time plays (the music stopping on an empty "
        "buffer); null = not checked.",
    )
    plays_with_stall: float | None = Field(
        None, ge=0, le=1, description="Largest share of real-time plays that stalled at least once; null = not checked."
    )
    startup_p95: Duration | None = Field(
        None,
        gt=0,
        description="95th percentile of the start-up delay (play pressed → enough audio buffered to "
        "start); null = not checked.",
    )
    window: Duration | None = Field(
        None,
        gt=0,
        description="Also judge every latency and playback SLO in each window of this many seconds, "
        "so a bad moment cannot hide in a good average; null = over the whole run only.",
    )
    dropped_sessions: float | None = Field(
        0.0,
        ge=0,
        le=1,
        description="profile: arrivals: most sessions dropped / sessions due (no free slot, generator "
        "overloaded); the default 0 fails a run that did not offer the whole asked rate; null = not checked.",
    )
    session_start_p95: Duration | None = Field(
        None,
        gt=0,
        description="profile: arrivals: 95th percentile of a session's due instant → its first answer "
        "(the generator's start delay included); null = not checked.",
    )


class ResourceChecks(Section):
    """``resources:`` — per-component checks against the limits; a broken one makes the run exit 3."""

    limits: Literal["documented", "live"] = Field(
        "documented", description="Compare with the documented limits (k8s/base) or the live pod specs."
    )
    memory_peak_pct: float = Field(
        100.0, gt=0, le=100, description="Highest allowed peak memory, as % of the component's limit."
    )
    cpu_p95_pct: float = Field(
        90.0, gt=0, le=100, description="Highest allowed 95th percentile CPU, as % of the component's limit."
    )
    max_restarts: int = Field(0, ge=0, description="Container restarts allowed per component during the run.")
    max_oom_kills: int = Field(
        0, ge=0, description="OOM kills allowed per component (worker kills count too)."
    )
    components: tuple[Component, ...] | None = Field(
        None,
        min_length=1,
        description="Check only these components: " + ", ".join(COMPONENTS) + "; null = all.",
    )


AbortMetric = Literal["error_ratio", "p95_ms", "throttled_ratio", "stall_ratio"]
RATIO_METRICS = ("error_ratio", "throttled_ratio", "stall_ratio")


class AbortRule(Section):
    """One ``abort:`` rule: stop the run when ``metric`` stays above ``above`` for ``for`` seconds."""

    metric: AbortMetric = Field(
        description="error_ratio (failed / all) | p95_ms (95th percentile latency) | "
        "throttled_ratio (429s / all) | stall_ratio (stalled / played seconds of real-time plays), "
        "over the last seconds of traffic."
    )
    group: RequestGroup | None = Field(
        None, description="Only this request group; null = every request (not for stall_ratio)."
    )
    above: float = Field(
        description="Threshold: a ratio from 0 to 1 for error_ratio and throttled_ratio; for p95_ms a "
        "duration with its unit ('800ms', '10s'), held in milliseconds."
    )
    for_: Duration = Field(
        30.0,
        alias="for",
        ge=0,
        description="How long, in seconds, the metric must stay above the "
        "threshold before the run is stopped.",
    )

    @field_validator("above", mode="before")
    @classmethod
    def _latency_with_unit(cls, above: Any, info: ValidationInfo) -> Any:
        if info.data.get("metric") != "p95_ms":
            return above
        if not isinstance(above, str):
            raise ValueError(f"write p95_ms thresholds with a unit, e.g. '800ms' or '10s' (got {above!r})")
        return parse_duration(above) * 1000

    @field_validator("above")
    @classmethod
    def _in_range(cls, above: float, info: ValidationInfo) -> float:
        metric = info.data.get("metric")
        if metric == "p95_ms" and above < 1:
            raise ValueError("a p95_ms threshold must be at least 1ms")
        if metric in RATIO_METRICS and not 0 <= above <= 1:
            raise ValueError(f"{metric} is a ratio: use a number from 0 to 1 (got {above!r})")
        return above

    @model_validator(mode="after")
    def _group_applies(self) -> AbortRule:
        if self.metric == "stall_ratio" and self.group is not None:
            raise ValueError("stall_ratio is measured on plays, not on a request group: remove group")
        return self

    @field_serializer("above")
    def _latency_as_text(self, above: float) -> float | str:
        if self.metric != "p95_ms":
            return above
        return f"{int(above)}ms" if above.is_integer() else f"{above!r}ms"
