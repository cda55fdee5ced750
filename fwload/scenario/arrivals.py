"""Open arrivals (``load.profile: arrivals``) as pure arithmetic: when each session is due.

Kept free of Locust and gevent so it can be tested with exact values; the plugin's
scheduler (`fwload.plugin.arrivals`) only walks the instants this module gives.

The rate is piecewise linear in time (a constant rate, steps, ramps: `ArrivalStage`), and
arrival ``k`` (0, 1, 2, ...) is due at the instant where the cumulative count
``N(t) = ∫ rate`` reaches ``k``, as k6's arrival-rate executors space their iterations:
2 sessions/s over 3 s are due at 0, 0.5, 1.0, ... 2.5 s. A run with several processes
splits the one sequence: process ``w`` of ``W`` takes the arrivals with ``k % W == w``,
so the processes together start exactly the sequence one process would, and their
totals add up.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from fwload.units import format_rate

if TYPE_CHECKING:
    from fwload.scenario.load import Load, SessionSpec

_EPSILON = 1e-9
SLOT_MARGIN_S = 1.0
"""Time left after the slots are spawned before the first session is due."""


def slot_allocation_s(slots: int, spawn_rate: float) -> float:
    """Seconds the ``slots`` stage lasts: spawning every slot, plus `SLOT_MARGIN_S`
    (like k6's pre-allocated VUs, they are ready before the first arrival)."""
    return math.ceil(slots / spawn_rate) + SLOT_MARGIN_S


@dataclass(frozen=True, slots=True)
class ArrivalStage:
    """A stretch of the arrivals (offsets in seconds from the first arrival instant) whose rate
    goes linearly from ``from_rate`` to ``rate`` sessions per second (equal: a constant rate)."""

    start: float
    end: float
    from_rate: float
    rate: float

    @property
    def length(self) -> float:
        return self.end - self.start

    @property
    def total(self) -> float:
        """Arrivals due over the whole stage (the area under its rate)."""
        return (self.from_rate + self.rate) / 2 * self.length

    def rate_at(self, t: float) -> float:
        if self.length <= 0:
            return self.rate
        return self.from_rate + (self.rate - self.from_rate) * (t - self.start) / self.length

    def count_at(self, t: float) -> float:
        """Arrivals due from the stage's start up to ``t`` (inside the stage)."""
        tau = min(max(t - self.start, 0.0), self.length)
        slope = (self.rate - self.from_rate) / self.length if self.length > 0 else 0.0
        return self.from_rate * tau + slope * tau * tau / 2

    def time_of(self, n: float) -> float:
        """The instant at which ``n`` arrivals (0 <= n <= total) have become due since the stage's start.

        Solves ``from_rate·τ + a·τ² = n`` (a = slope / 2) in the form that stays exact for
        a constant rate and a ramp from zero alike: ``τ = 2n / (r0 + √(r0² + 4an))``.
        """
        if n <= 0:
            return self.start
        half_slope = (self.rate - self.from_rate) / (2 * self.length)
        root = math.sqrt(max(self.from_rate * self.from_rate + 4 * half_slope * n, 0.0))
        denominator = self.from_rate + root
        tau = 2 * n / denominator if denominator > 0 else self.length
        return self.start + min(tau, self.length)


class ArrivalPlan:
    """The stages of an arrivals run, in order, without gaps, from 0 to `end` seconds."""

    def __init__(self, stages: Sequence[ArrivalStage]):
        if not stages:
            raise ValueError("an arrival plan needs at least one stage")
        self.stages = tuple(stages)
        self._bases: list[float] = []
        base = 0.0
        for stage in self.stages:
            self._bases.append(base)
            base += stage.total
        self.total = base
        """Arrivals due over the whole plan (fractional when the rates do not add up to whole sessions)."""

    @property
    def end(self) -> float:
        return self.stages[-1].end

    def rate_at(self, t: float) -> float:
        """Sessions per second due at ``t`` (0 outside the plan)."""
        if t < 0 or t >= self.end:
            return 0.0
        return next(stage for stage in self.stages if t < stage.end).rate_at(t)

    def count_until(self, t: float) -> float:
        """Arrivals due in ``[0, t]``: the cumulative count N(t)."""
        if t <= 0:
            return 0.0
        for base, stage in zip(self._bases, self.stages, strict=True):
            if t < stage.end:
                return base + stage.count_at(t)
        return self.total

    def due(self) -> int:
        """How many arrivals the plan starts (k = 0 .. due-1): every k with N⁻¹(k) before the end."""
        return math.ceil(self.total - _EPSILON)

    def instant(self, k: int) -> float | None:
        """When arrival ``k`` is due (seconds from the plan's start), None past the plan's end."""
        for instant in self._instants(k, 1, limit=k + 1):
            return instant[1]
        return None

    def instants(self, worker: int = 0, workers: int = 1) -> Iterator[tuple[int, float]]:
        """``(k, due at)`` for every arrival of process ``worker`` of ``workers`` (k % workers == worker)."""
        if workers < 1 or not 0 <= worker < workers:
            raise ValueError(f"worker {worker} of {workers} does not exist")
        return self._instants(worker, workers)

    def _instants(self, first: int, step: int, limit: int | None = None) -> Iterator[tuple[int, float]]:
        stage_index, due = 0, self.due()
        last = due if limit is None else min(due, limit)
        for k in range(first, last, step):
            while stage_index < len(self.stages) - 1 and k >= self._bases[stage_index + 1] - _EPSILON:
                stage_index += 1
            stage = self.stages[stage_index]
            yield k, stage.time_of(k - self._bases[stage_index])


def plan_of(load: Load) -> ArrivalPlan:
    """The plan of a validated ``load`` with ``profile: arrivals``: a constant ``rate`` for
    ``load.duration``, or the ``stages`` in order.

    A stage with ``ramp: true`` goes linearly from the previous stage's rate (0 for the
    first) to its own; any other stage holds its rate (a step).
    """
    spec = load.arrivals
    assert spec is not None
    if spec.stages is None:
        assert spec.rate is not None
        return ArrivalPlan([ArrivalStage(0.0, load.duration, spec.rate, spec.rate)])
    stages, start, previous = [], 0.0, 0.0
    for stage in spec.stages:
        begin = previous if stage.ramp else stage.rate
        stages.append(ArrivalStage(start, start + stage.duration, begin, stage.rate))
        start, previous = start + stage.duration, stage.rate
    return ArrivalPlan(stages)


def stage_name(stage: ArrivalStage) -> str:
    """``"2/s"`` for a held rate, ``"1/s→5/s"`` for a ramp (how reports and stage events name it)."""
    if math.isclose(stage.from_rate, stage.rate):
        return format_rate(stage.rate)
    return f"{format_rate(stage.from_rate)}→{format_rate(stage.rate)}"


class ClassPicker:
    """Which user class the next session goes to: smooth weighted round robin (nginx's).

    Over any run of ``sum(weights)`` picks, each class gets exactly its weight, interleaved
    (3:1 → L, L, U, L); weights may change between picks (slots registering as they spawn).
    """

    def __init__(self) -> None:
        self.current: dict[str, float] = {}

    def pick(self, weights: Mapping[str, float]) -> str | None:
        live = {name: weight for name, weight in weights.items() if weight > 0}
        if not live:
            return None
        total = sum(live.values())
        for name, weight in live.items():
            self.current[name] = self.current.get(name, 0.0) + weight
        chosen = max(live, key=lambda name: self.current[name])
        self.current[chosen] -= total
        return chosen


@dataclass(frozen=True, slots=True)
class SessionLength:
    """How long a session lives: ``fixed``, or drawn around a ``median`` (exponential, lognormal)."""

    distribution: str
    median: float
    sigma: float = 1.0

    def draw(self, rng: random.Random) -> float:
        if self.distribution == "fixed":
            return self.median
        if self.distribution == "exponential":
            return rng.expovariate(math.log(2) / self.median)
        return rng.lognormvariate(math.log(self.median), self.sigma)

    @property
    def mean(self) -> float:
        if self.distribution == "exponential":
            return self.median / math.log(2)
        if self.distribution == "lognormal":
            return self.median * math.exp(self.sigma * self.sigma / 2)
        return self.median


def session_length(spec: SessionSpec) -> SessionLength | None:
    """The length distribution of ``load.arrivals.session``; None when only ``iterations`` end a session."""
    if spec.length is None:
        return None
    return SessionLength(spec.distribution, spec.length, spec.sigma)
