"""``load:`` and ``caps:`` — how many users, for how long, in which shape, and the ceiling.

Profile sections are resolved while validating (a step's length, a spike's start), so the
model always holds the numbers the run used and its dump re-loads to the same schedule.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field, model_validator

from fwload.scenario.problems import Problem, raise_problems
from fwload.scenario.schedule import build_stages
from fwload.scenario.section import Section
from fwload.units import Duration, format_duration

Profile = Literal["constant", "ramp", "steps", "spike", "soak"]


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


class PacingSpec(Section):
    """``load.pacing``: an arrival-rate target the users keep with Locust's constant_pacing."""

    iterations_per_s: float = Field(
        gt=0, description="Task iterations per second for the whole run, all users and classes together."
    )
    tolerance: float = Field(
        0.1,
        ge=0,
        lt=1,
        description="Share by which the achieved rate may fall below the target "
        "before the run reports that the offered load was not reached.",
    )
    window: Duration = Field(30.0, ge=1, description="Seconds over which the achieved rate is measured.")


class Caps(Section):
    """``caps:`` — a ceiling the profile must fit in, so a typo cannot start a 10 000-user run."""

    max_duration: Duration = Field(3600.0, gt=0, description="Longest run allowed, in seconds.")
    max_users: int = Field(200, ge=1, description="Most concurrent users allowed.")


class Load(Section):
    """``load:`` — the profile and its numbers. Every field defaults, so ``load: {}`` is valid."""

    profile: Profile = Field(
        "constant",
        description="constant | ramp (linear) | steps (equal increments) | spike (base, jump, back) "
        "| soak (constant, meant for hours).",
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
    pacing: PacingSpec | None = Field(
        None,
        description="Optional arrival-rate mode: {iterations_per_s, tolerance, window}; "
        "null = each user paces itself with its own think time.",
    )

    @property
    def peak_users(self) -> int:
        """The most users the profile ever asks for."""
        return max(self.users, self.from_users if self.profile == "ramp" else 0)

    @model_validator(mode="after")
    def _resolve_profile(self) -> Load:
        problems = self._misplaced_sections()
        if self.profile == "steps":
            problems += self._resolve_steps()
        elif self.profile == "spike":
            problems += self._resolve_spike()
        if not problems:
            problems += self._unreachable_stages()
        raise_problems("Load", problems)
        return self

    def _misplaced_sections(self) -> list[Problem]:
        problems = []
        for key in ("steps", "spike"):
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
