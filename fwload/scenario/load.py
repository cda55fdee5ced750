"""``load:`` and ``caps:`` — how many users, for how long, in which shape, and the ceiling.

Profile sections are resolved while validating (a step's length, a spike's start), so the
model always holds the numbers the run used and its dump re-loads to the same schedule.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from fwload.scenario.problems import PROBLEM_TYPE, Problem, raise_problems
from fwload.scenario.schedule import build_stages
from fwload.scenario.section import Section
from fwload.units import Duration, Rate, format_duration

Profile = Literal["constant", "ramp", "steps", "spike", "soak", "arrivals"]


class StepsSpec(Section):
    """``load.steps``: equal increments up to ``load.users``."""

    count: int = Field(
        5, ge=1, le=100, description="Number of steps; step i runs load.users * i / count users."
    )
    duration: Duration | None = Field(
        None, gt=0, description="Length of each step in seconds; null = load.duration / count."
    )


class SpikeSpec(Section):
    """``load.spike``: a base load, a sudden jump to ``load.users``, then back to the base."""

    base_users: int = Field(
        1, ge=0, description="Users before and after the spike (load.users is its height)."
    )
    at: Duration | None = Field(
        None, description="When the spike starts, in seconds; null = a third of load.duration."
    )
    hold: Duration | None = Field(
        None, gt=0, description="How long the spike lasts; null = a third of load.duration."
    )
    spawn_rate: float | None = Field(
        None,
        gt=0,
        description="Users started (and stopped) per second at the spike's edges; "
        "null = the whole jump within one second.",
    )


class SessionSpec(Section):
    """``load.arrivals.session``: how long one arriving person stays."""

    length: Duration | None = Field(
        300.0,
        gt=0,
        description="Median session length (fixed: exactly this); null = only iterations end a session. "
        "A session ends at its first task boundary after the length (a play in progress may stop it "
        "sooner), so a slow server makes sessions overrun and the concurrency grow.",
    )
    distribution: Literal["lognormal", "exponential", "fixed"] = Field(
        "lognormal",
        description="lognormal (median = length, spread = sigma; mean = length·e^(sigma²/2)) | exponential "
        "(median = length, mean = length/ln 2) | fixed.",
    )
    sigma: float = Field(1.0, gt=0, le=3, description="lognormal only: standard deviation of ln(length).")
    iterations: int | None = Field(
        None,
        ge=1,
        description="End a session after this many task iterations (with a length too: whichever comes "
        "first); iterations: 1 is k6's arrival-rate model, one iteration per arrival.",
    )

    @model_validator(mode="after")
    def _ends_somehow(self) -> SessionSpec:
        if self.length is None and self.iterations is None:
            raise ValueError("a session needs a length or a number of iterations (e.g. length: 5m)")
        return self


class ArrivalStageSpec(Section):
    """One stretch of ``load.arrivals.stages``."""

    duration: Duration = Field(gt=0, description="Length of the stretch.")
    rate: Rate = Field(ge=0, description="Sessions started per second (2, '2/s', '30/min').")
    ramp: bool = Field(
        False, description="true: go linearly from the previous stretch's rate (0 for the first) to this one; "
        "false: hold this rate (a step)."
    )


class ArrivalsSpec(Section):
    """``load.arrivals``: sessions start at a rate, whatever the server's speed (an open model)."""

    rate: Rate | None = Field(
        None, gt=0, description="Sessions started per second for the whole load.duration (2, '2/s', '30/min'); "
        "or give stages."
    )
    stages: list[ArrivalStageSpec] | None = Field(
        None, min_length=1, description="Rates in order: [{duration, rate, ramp}]; load.duration is their sum."
    )
    session: SessionSpec = Field(default_factory=SessionSpec, description="Session length: {length, distribution, "
                                 "sigma, iterations}.")
    slots: int | None = Field(
        None,
        ge=1,
        description="Most sessions at once (virtual users kept ready, all processes together, like k6's "
        "maxVUs); a session due with no free slot is dropped and reported. null = caps.max_users.",
    )
    max_start_delay: Duration = Field(
        1.0,
        gt=0,
        description="A session the generator can only start later than this after it was due is dropped "
        "(the generator is overloaded); below it the start delay is recorded.",
    )

    @model_validator(mode="after")
    def _rate_or_stages(self) -> ArrivalsSpec:
        if (self.rate is None) == (self.stages is None):
            raise ValueError("give either rate (constant) or stages, not both (e.g. rate: 2/s)")
        return self


PACING_REPLACED = (
    "load.pacing was replaced by the open-arrivals profile: write `profile: arrivals` with "
    "`arrivals: {rate: <iterations_per_s>, session: {iterations: 1}, slots: <users>}`"
)


class Caps(Section):
    """``caps:`` — a ceiling the profile must fit in, so a typo cannot start a 10 000-user run."""

    max_duration: Duration = Field(3600.0, gt=0, description="Longest run allowed, in seconds.")
    max_users: int = Field(200, ge=1, description="Most concurrent users allowed.")


class Load(Section):
    """``load:`` — the profile and its numbers. Every field defaults, so ``load: {}`` is valid."""

    profile: Profile = Field(
        "constant",
        description="constant | ramp (linear) | steps (equal increments) | spike (base, jump, back) "
        "| soak (constant, meant for hours) | arrivals (sessions start at a rate: load.arrivals).",
    )
    users: int = Field(
        1,
        ge=1,
        description="constant/soak: users; ramp: final users; steps: users of the last step; "
        "spike: users at the top of the spike.",
    )
    spawn_rate: float = Field(
        1.0, gt=0, description="Users started (or stopped) per second when the count changes."
    )
    duration: Duration = Field(60.0, gt=0, description="Length of the whole run, in seconds.")
    from_users: int = Field(0, ge=0, description="ramp only: users at the start of the ramp.")
    steps: StepsSpec | None = Field(None, description="steps only: {count, duration}.")
    spike: SpikeSpec | None = Field(None, description="spike only: {base_users, at, hold, spawn_rate}.")
    arrivals: ArrivalsSpec | None = Field(
        None,
        description="arrivals only: {rate | stages, session, slots, max_start_delay}: sessions start at a rate "
        "and the users at once follow from it (an open model, as k6's arrival-rate executors).",
    )

    @property
    def peak_users(self) -> int:
        """The most users the profile ever asks for (arrivals: its slots, once resolved)."""
        if self.profile == "arrivals":
            return self.arrivals.slots or 0 if self.arrivals is not None else 0
        return max(self.users, self.from_users if self.profile == "ramp" else 0)

    @model_validator(mode="before")
    @classmethod
    def _pacing_replaced(cls, data: Any) -> Any:
        """A ``pacing:`` section is refused with its replacement; the ``pacing: null`` that run
        directories of earlier versions hold in their resolved scenario is dropped, so they still report."""
        if isinstance(data, dict) and "pacing" in data:
            if data["pacing"] is not None:
                raise PydanticCustomError(PROBLEM_TYPE, PACING_REPLACED)
            data = {key: value for key, value in data.items() if key != "pacing"}
        return data

    @model_validator(mode="after")
    def _resolve_profile(self) -> Load:
        problems = self._misplaced_sections()
        if self.profile == "steps":
            problems += self._resolve_steps()
        elif self.profile == "spike":
            problems += self._resolve_spike()
        elif self.profile == "arrivals":
            problems += self._resolve_arrivals()
        if not problems and self.profile != "arrivals":
            problems += self._unreachable_stages()
        raise_problems("Load", problems)
        return self

    def _misplaced_sections(self) -> list[Problem]:
        problems = []
        for key in ("steps", "spike", "arrivals"):
            if self.profile != key and getattr(self, key) is not None:
                problems.append(
                    Problem(
                        (key,),
                        f"only used with profile: {key} (profile is {self.profile!r}); "
                        f"remove it or set profile: {key}",
                    )
                )
        if self.profile != "ramp" and self.from_users:
            problems.append(
                Problem(
                    ("from_users",),
                    f"only used with profile: ramp (profile is {self.profile!r})",
                    self.from_users,
                )
            )
        return problems

    def _resolve_steps(self) -> list[Problem]:
        steps = self.steps or StepsSpec()
        if steps.duration is None:
            steps = steps.model_copy(update={"duration": self.duration / steps.count})
        elif "duration" not in self.model_fields_set:
            self.duration = steps.count * steps.duration
        elif not math.isclose(steps.count * steps.duration, self.duration):
            total = format_duration(steps.count * steps.duration)
            return [
                Problem(
                    ("duration",),
                    f"{steps.count} steps of {format_duration(steps.duration)} take {total}, "
                    f"not {format_duration(self.duration)}; make it {total} or remove load.duration",
                    self.duration,
                )
            ]
        self.steps = steps
        if self.users < steps.count:
            return [
                Problem(
                    ("steps", "count"),
                    f"{steps.count} steps need at least {steps.count} users (load.users is {self.users})",
                    steps.count,
                )
            ]
        return []

    def _resolve_arrivals(self) -> list[Problem]:
        if self.arrivals is None:
            return [Problem(("arrivals",), "profile: arrivals needs load.arrivals, e.g. "
                            "{rate: 2/s, session: {length: 5m}}")]
        problems = [
            Problem((name,), f"not used with profile: arrivals (the users at once follow from the rate); "
                    f"remove it{' and set load.arrivals.slots for a ceiling' if name == 'users' else ''}",
                    getattr(self, name))
            for name, unset in (("users", 1), ("from_users", 0)) if getattr(self, name) != unset
        ]
        arrivals = self.arrivals
        if arrivals.stages is None:
            return problems
        total = sum(stage.duration for stage in arrivals.stages)
        if "duration" not in self.model_fields_set:
            self.duration = total
        elif not math.isclose(total, self.duration):
            problems.append(Problem(
                ("duration",), f"the arrival stages take {format_duration(total)}, not "
                f"{format_duration(self.duration)}; make it {format_duration(total)} or remove load.duration",
                self.duration))
        return problems

    def _resolve_spike(self) -> list[Problem]:
        spike = self.spike or SpikeSpec()
        third = self.duration / 3
        at = third if spike.at is None else spike.at
        hold = third if spike.hold is None else spike.hold
        rate = spike.spawn_rate or float(max(1, self.users - spike.base_users))
        self.spike = spike.model_copy(update={"at": at, "hold": hold, "spawn_rate": rate})
        problems = []
        if spike.base_users >= self.users:
            problems.append(
                Problem(
                    ("spike", "base_users"),
                    f"must be below load.users, the spike's height ({self.users})",
                    spike.base_users,
                )
            )
        if at + hold > self.duration:
            problems.append(
                Problem(
                    ("spike", "hold"),
                    f"the spike ends at {format_duration(at + hold)}, after "
                    f"load.duration ({format_duration(self.duration)}); shorten at/hold or "
                    "lengthen load.duration",
                    hold,
                )
            )
        return problems

    def _unreachable_stages(self) -> list[Problem]:
        problems, users = [], 0
        for stage in build_stages(self):
            if stage.from_users is None and stage.users > users:
                seconds = (stage.users - users) / stage.spawn_rate
                if seconds > stage.end - stage.start:
                    field = ("spike", "spawn_rate") if stage.name == "spike" else ("spawn_rate",)
                    problems.append(
                        Problem(
                            field,
                            f"starting {stage.users - users} users at "
                            f"{stage.spawn_rate:g}/s takes {format_duration(seconds)}, longer than "
                            f"stage {stage.name!r} ({format_duration(stage.end - stage.start)}); "
                            "raise the spawn rate or lengthen the stage",
                            stage.spawn_rate,
                        )
                    )
            users = stage.users
        return problems
