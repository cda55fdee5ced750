"""The load schedule as pure arithmetic: elapsed seconds → (users, spawn rate, stage).

Kept free of Locust so it can be tested directly and imported by the analysis, which maps
timestamps to the same stages. `fwload.scenario.shapes.ScenarioShape` only calls `Schedule.at`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from fwload.scenario.arrivals import plan_of, slot_allocation_s, stage_name

if TYPE_CHECKING:
    from fwload.scenario.load import Load
    from fwload.scenario.model import Scenario


@dataclass(frozen=True, slots=True)
class Stage:
    """A stretch of the run with one target; offsets are seconds from the start of the load.

    ``from_users`` is set only for a linear ramp: the count then goes from ``from_users`` at
    ``start`` to ``users`` at ``end``. In an arrivals run ``users`` is the slots kept ready
    and ``rate`` (from ``from_rate`` when it ramps) the sessions started per second; the
    first stage, ``slots``, starts them before any session is due (``rate`` 0).
    """

    name: str
    start: float
    end: float
    users: int
    spawn_rate: float
    from_users: int | None = None
    rate: float | None = None
    from_rate: float | None = None

    def users_at(self, elapsed: float) -> int:
        if self.from_users is None or self.end <= self.start:
            return self.users
        progress = min(1.0, max(0.0, (elapsed - self.start) / (self.end - self.start)))
        return _round_half_up(self.from_users + (self.users - self.from_users) * progress)


class Tick(NamedTuple):
    """What the load shape asks Locust for at one instant."""

    users: int
    spawn_rate: float
    stage: str
    rate: float | None = None
    """Arrivals: the stage's session rate (sessions/s; it ramps from ``from_rate``)."""
    from_rate: float | None = None


def build_stages(load: Load) -> list[Stage]:
    """The stages of a validated `Load`, in order, without gaps, ending at ``load.duration``."""
    duration, users, rate = load.duration, load.users, load.spawn_rate
    if load.profile == "arrivals":
        return _arrival_stages(load)
    if load.profile in ("constant", "soak"):
        return [Stage(load.profile, 0.0, duration, users, rate)]
    if load.profile == "ramp":
        slope = abs(users - load.from_users) / duration
        return [Stage("ramp", 0.0, duration, users, max(rate, slope), from_users=load.from_users)]
    if load.profile == "steps":
        assert load.steps is not None and load.steps.duration is not None
        count, length = load.steps.count, load.steps.duration
        return [
            Stage(f"step-{i}", (i - 1) * length, i * length, max(1, _round_half_up(users * i / count)), rate)
            for i in range(1, count + 1)
        ]
    assert load.spike is not None and load.spike.at is not None and load.spike.hold is not None
    spike = load.spike
    top_rate = spike.spawn_rate or float(users - spike.base_users)
    end_of_spike = spike.at + spike.hold
    stages = [
        Stage("base", 0.0, spike.at, spike.base_users, rate),
        Stage("spike", spike.at, end_of_spike, users, top_rate),
        Stage("recovery", end_of_spike, duration, spike.base_users, top_rate),
    ]
    return [stage for stage in stages if stage.end > stage.start]


def _arrival_stages(load: Load) -> list[Stage]:
    assert load.arrivals is not None and load.arrivals.slots is not None, "slots are resolved by Scenario"
    slots, spawn = load.arrivals.slots, load.spawn_rate
    offset = slot_allocation_s(slots, spawn)
    stages = [Stage("slots", 0.0, offset, slots, spawn, rate=0.0)]
    for stage in plan_of(load).stages:
        stages.append(Stage(stage_name(stage), offset + stage.start, offset + stage.end, slots, spawn,
                            rate=stage.rate, from_rate=stage.from_rate))
    return stages


class Schedule:
    """Stages plus the caps: what to run at any elapsed time, ``None`` once the run is over."""

    def __init__(
        self, stages: Sequence[Stage], *, max_users: int | None = None, max_duration: float | None = None
    ):
        if not stages:
            raise ValueError("a schedule needs at least one stage")
        self.stages = tuple(stages)
        self.max_users = max_users
        self.end = min(self.stages[-1].end, math.inf if max_duration is None else max_duration)

    @classmethod
    def for_scenario(cls, scenario: Scenario) -> Schedule:
        """The scenario's profile, never above its caps."""
        return cls(
            scenario.stages(), max_users=scenario.caps.max_users, max_duration=scenario.caps.max_duration
        )

    @classmethod
    def from_common_options(
        cls, users: int | None, spawn_rate: float | None, run_time: float | None
    ) -> Schedule:
        """Locust's own ``-u/-r/-t`` (unset: 1 user, 1/s, no end), for runs without a scenario."""
        users = 1 if users is None else users
        spawn_rate = spawn_rate or 1.0
        return cls([Stage("constant", 0.0, run_time or math.inf, users, spawn_rate)])

    def at(self, elapsed: float) -> Tick | None:
        """The target at ``elapsed`` seconds since the load started; ``None`` when it is over."""
        elapsed = max(0.0, elapsed)
        if elapsed >= self.end:
            return None
        stage = next(s for s in self.stages if elapsed < s.end)
        users = stage.users_at(elapsed)
        if self.max_users is not None:
            users = min(users, self.max_users)
        return Tick(users, stage.spawn_rate, stage.name, stage.rate, stage.from_rate)

    def stage_at(self, elapsed: float) -> Stage | None:
        """The stage running at ``elapsed`` (for mapping samples to stages), ``None`` outside the run."""
        if elapsed < 0 or elapsed >= self.end:
            return None
        return next(s for s in self.stages if elapsed < s.end)


def _round_half_up(value: float) -> int:
    return math.floor(value + 0.5)
