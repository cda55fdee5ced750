"""``faults:`` — what the local stand-in does wrong on purpose, to test the suite against a sick target.

A real Funkwhale under load gets slow, answers 5xx, throttles (429), loses its import worker,
restarts and drops connections. The suite must record each of these as what it is, never
crash, lose or double-count a measurement. Only the local stand-in can be made sick on
demand, so `fwload run` refuses a scenario with faults and a remote host.

The model lives here, below both: the scenario holds a ``faults:`` section of this type
(`fwload.scenario.faults` re-exports it) and the stand-in arms and serves it.

Every fault can be limited in time (``after``/``for``, seconds since the faults were armed:
by `fwload run`, just before the load starts). Example::

    faults:
      requests:
        - {group: browse, latency: {distribution: lognormal, median: 200ms, p99: 2s}}
        - {group: upload, error: {ratio: 0.05, status: 503}}
        - {throttle: {storm: 0.3, retry_after: 2s}, after: 10s, for: 20s}
        - {scope: login, throttle: {rate: 5/minute}}
        - {group: search, reset: 0.1}
      imports: {delay: 2s, fail: 0.1, stuck: 0.05}
      worker: {dies_after: 30s}
      restarts: [{after: 1m, down: 5s}]
"""

from __future__ import annotations

import math
import random
import re
from statistics import NormalDist
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from fwload.common.problems import Problem, raise_problems
from fwload.common.requests import REQUEST_GROUPS, RequestGroup
from fwload.common.section import Section
from fwload.units import Duration, format_duration

THROTTLE_SCOPES = (
    "login",
    "signup",
    "subsonic",
    "oauth-token",
    "anonymous-oauth-app",
    "authenticated-oauth-app",
    *(
        f"{who}-{action}"
        for who in ("anonymous", "authenticated")
        for action in ("list", "retrieve", "create", "update", "destroy", "wildcard")
    ),
)
"""Funkwhale's throttle scopes (funkwhale-api.md §1.7) that a request of the suite can fall in."""

RATE = re.compile(r"^(\d+)/([smhd])[a-z]*$")
"""DRF's ``parse_rate``: ``N/period`` where only the period's first letter counts."""
PERIOD_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}
Z99 = NormalDist().inv_cdf(0.99)


def _share(value: float | None, name: str) -> float | None:
    if value is not None and not 0 < value <= 1:
        raise ValueError(f"{name} is a share of requests: a number above 0 and at most 1 (got {value!r})")
    return value


class Delay(Section):
    """A random extra time. A bare duration (``200ms``) means ``{distribution: fixed, value: 200ms}``."""

    distribution: Literal["fixed", "uniform", "lognormal"] = Field(
        "fixed",
        description="fixed (value) | uniform (low..high) | lognormal (median and p99: a long tail, as "
        "real latency has); left out, it follows from the keys given.",
    )
    value: Duration | None = Field(None, ge=0, description="fixed: the delay.")
    low: Duration | None = Field(None, ge=0, description="uniform: the shortest delay.")
    high: Duration | None = Field(None, ge=0, description="uniform: the longest delay.")
    median: Duration | None = Field(None, gt=0, description="lognormal: half the delays are shorter.")
    p99: Duration | None = Field(None, gt=0, description="lognormal: 99% of the delays are shorter.")

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if isinstance(data, int | float | str):
            return {"distribution": "fixed", "value": data}
        if isinstance(data, dict) and "distribution" not in data:
            keys = set(data)
            inferred = (
                "lognormal" if keys & {"median", "p99"} else "uniform" if keys & {"low", "high"} else "fixed"
            )
            return {"distribution": inferred, **data}
        return data

    @model_validator(mode="after")
    def _parameters_of_the_distribution(self) -> Delay:
        needed = {"fixed": ("value",), "uniform": ("low", "high"), "lognormal": ("median", "p99")}
        given = {name: getattr(self, name) for names in needed.values() for name in names}
        problems = [
            Problem((name,), f"required by distribution {self.distribution}", None)
            for name in needed[self.distribution]
            if given[name] is None
        ]
        problems += [
            Problem((name,), f"not used by distribution {self.distribution}; remove it", value)
            for name, value in given.items()
            if value is not None and name not in needed[self.distribution]
        ]
        low, high, median, p99 = given["low"], given["high"], given["median"], given["p99"]
        if not problems and self.distribution == "uniform" and low > high:
            problems.append(
                Problem(("high",), f"{format_duration(high)} is below low ({format_duration(low)})", high)
            )
        if not problems and self.distribution == "lognormal" and p99 <= median:
            problems.append(Problem(("p99",), "must be above the median (it is the long tail)", p99))
        raise_problems("Delay", problems)
        return self

    def seconds(self, rng: random.Random) -> float:
        """One delay drawn from the distribution."""
        if self.distribution == "fixed":
            return float(self.value or 0.0)
        if self.distribution == "uniform":
            return rng.uniform(self.low or 0.0, self.high or 0.0)
        median, p99 = self.median or 1.0, self.p99 or 1.0
        return rng.lognormvariate(math.log(median), math.log(p99 / median) / Z99)

    def describe(self) -> str:
        if self.distribution == "fixed":
            return format_duration(self.value or 0.0)
        if self.distribution == "uniform":
            return f"{format_duration(self.low or 0.0)}..{format_duration(self.high or 0.0)} (uniform)"
        return (
            f"lognormal, median {format_duration(self.median or 0.0)}, p99 {format_duration(self.p99 or 0.0)}"
        )


class ErrorFault(Section):
    """Answer a share of requests with a server error instead of the answer; a bare number is the ratio."""

    ratio: float = Field(description="Share of the requests (above 0, at most 1).")
    status: Literal[500, 502, 503] = Field(
        500, description="500 (Django's error page; kind http) | 502, 503 (nginx's pages; kind proxy)."
    )

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        return {"ratio": data} if isinstance(data, int | float) else data

    @field_validator("ratio")
    @classmethod
    def _a_share(cls, ratio: float) -> float:
        _share(ratio, "ratio")
        return ratio


class ThrottleFault(Section):
    """Funkwhale's rate limiter: 429 with its headers and body (a throttled login answers 500, as for real).

    ``rate`` throttles like the real limiter (a sliding window per user, or per IP when
    anonymous); ``storm`` throttles a share of the requests whatever their rate. A bare
    ``30/minute`` is a rate, a bare number a storm.
    """

    rate: str | None = Field(
        None, description="N/period, e.g. 30/minute, 1000/hour (Funkwhale's THROTTLING_RATES form)."
    )
    storm: float | None = Field(
        None, description="Share of the requests throttled at random (above 0, at most 1)."
    )
    retry_after: Duration = Field(
        1.0, ge=1, description="storm: the Retry-After the throttled answers carry (a rate computes its own)."
    )

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if isinstance(data, str):
            return {"rate": data}
        return {"storm": data} if isinstance(data, int | float) else data

    @field_validator("rate")
    @classmethod
    def _a_rate(cls, rate: str | None) -> str | None:
        if rate is not None and not RATE.match(rate.strip()):
            raise ValueError(f"{rate!r} is not a rate: write N/second, N/minute, N/hour or N/day (30/minute)")
        return None if rate is None else rate.strip()

    @field_validator("storm")
    @classmethod
    def _a_storm_share(cls, storm: float | None) -> float | None:
        return _share(storm, "storm")

    @model_validator(mode="after")
    def _rate_or_storm(self) -> ThrottleFault:
        if (self.rate is None) == (self.storm is None):
            raise ValueError("set exactly one of rate (e.g. 30/minute) and storm (a share, e.g. 0.5)")
        return self

    def limit(self) -> tuple[int, int]:
        """(requests, seconds) of ``rate``."""
        assert self.rate is not None
        match = RATE.match(self.rate)
        assert match is not None
        return int(match.group(1)), PERIOD_S[match.group(2)]

    def describe(self) -> str:
        if self.rate is not None:
            return f"throttled at {self.rate}"
        return f"429 storm on {self.storm:.0%} (Retry-After {format_duration(self.retry_after)})"


class Window(Section):
    """When a fault is on, in seconds since the faults were armed."""

    after: Duration = Field(
        0.0, description="Starts this long after the faults were armed (the load's start)."
    )
    for_: Duration | None = Field(None, alias="for", gt=0, description="Lasts this long; null = to the end.")

    def active(self, elapsed_s: float) -> bool:
        return elapsed_s >= self.after and (self.for_ is None or elapsed_s < self.after + self.for_)

    def describe_window(self) -> str:
        if not self.after and self.for_ is None:
            return ""
        if not self.after:
            return f" (for the first {format_duration(self.for_ or 0.0)})"
        end = "" if self.for_ is None else f" for {format_duration(self.for_)}"
        return f" (from {format_duration(self.after)}{end})"


class RequestFault(Window):
    """One rule for HTTP requests: which ones (group, scope), and what happens to them.

    Every rule that matches a request applies: delays add up; a reset wins over a throttle,
    a throttle over an error.
    """

    group: RequestGroup | None = Field(
        None, description="Only requests of this group (" + ", ".join(REQUEST_GROUPS) + "); null = all."
    )
    scope: Literal[THROTTLE_SCOPES] | None = Field(  # type: ignore[valid-type]
        None,
        description="Only requests in this Funkwhale throttle scope, e.g. login; null = all.",
    )
    latency: Delay | None = Field(None, description="Extra time before the answer.")
    error: ErrorFault | None = Field(None, description="Server errors instead of answers.")
    throttle: ThrottleFault | None = Field(
        None, description="429 throttling with Funkwhale's headers and body."
    )
    reset: float | None = Field(
        None,
        description="Share of the requests whose connection is reset with no answer (behind nginx: a 502). "
        "HTTP clients silently retry an unanswered GET; other methods fail as connection errors.",
    )

    @field_validator("reset")
    @classmethod
    def _a_reset_share(cls, reset: float | None) -> float | None:
        return _share(reset, "reset")

    @model_validator(mode="after")
    def _does_something(self) -> RequestFault:
        if self.latency is None and self.error is None and self.throttle is None and self.reset is None:
            raise ValueError("set at least one of latency, error, throttle, reset")
        return self

    def matches(self, group: str, scope: str) -> bool:
        return (self.group is None or self.group == group) and (self.scope is None or self.scope == scope)

    def describe(self) -> str:
        target = " / ".join(part for part in (self.group, self.scope) if part) or "every request"
        effects = [
            f"latency {self.latency.describe()}" if self.latency else "",
            f"{self.error.ratio:.0%} answered {self.error.status}" if self.error else "",
            self.throttle.describe() if self.throttle else "",
            f"{self.reset:.0%} connections reset" if self.reset else "",
        ]
        return f"{target}: " + ", ".join(e for e in effects if e) + self.describe_window()


class ImportFaults(Window):
    """What the import task does wrong: takes longer, fails (``errored``) or never ends (``pending``)."""

    delay: Delay | None = Field(None, description="Extra time each import takes (it holds the worker).")
    fail: float = Field(
        0.0, ge=0, le=1, description="Share of imports that end errored, with an import_details error."
    )
    stuck: float = Field(
        0.0, ge=0, le=1, description="Share of imports that stay pending forever, as a crashed task."
    )
    error_code: str = Field(
        "unknown_error", min_length=1, description="import_details.error_code of failed imports."
    )

    @model_validator(mode="after")
    def _shares_fit(self) -> ImportFaults:
        if self.fail + self.stuck > 1:
            raise ValueError(f"fail + stuck is {self.fail + self.stuck:g}: together they cannot exceed 1")
        return self

    def describe(self) -> str:
        parts = [
            f"imports take {self.delay.describe()} more" if self.delay else "",
            f"{self.fail:.0%} of imports fail" if self.fail else "",
            f"{self.stuck:.0%} stay pending" if self.stuck else "",
        ]
        return "; ".join(p for p in parts if p) + self.describe_window()


class WorkerFault(Section):
    """The import worker dies: nothing imports any more (embedded: the import thread stops working;
    stack: the Celery worker process is killed). Uploads are still accepted and stay pending."""

    dies_after: Duration = Field(0.0, description="Seconds after arming when the worker dies.")
    back_after: Duration | None = Field(
        None, description="Seconds after arming when it works again (a restarted pod); null = never."
    )

    @model_validator(mode="after")
    def _back_after_death(self) -> WorkerFault:
        if self.back_after is not None and self.back_after <= self.dies_after:
            raise_problems(
                "WorkerFault", [Problem(("back_after",), "must come after dies_after", self.back_after)]
            )
        return self

    def dead(self, elapsed_s: float) -> bool:
        return elapsed_s >= self.dies_after and (self.back_after is None or elapsed_s < self.back_after)

    def describe(self) -> str:
        back = f", back at {format_duration(self.back_after)}" if self.back_after is not None else ""
        return f"the import worker dies at {format_duration(self.dies_after)}{back}"


class RestartFault(Section):
    """The API restarts: it stops (in-flight requests finish, new ones are refused), then starts again."""

    after: Duration = Field(description="Seconds after arming when the API goes down.")
    down: Duration = Field(2.0, gt=0, le=600, description="How long it stays down before starting again.")

    def describe(self) -> str:
        return f"the API restarts at {format_duration(self.after)}, down for {format_duration(self.down)}"


class Faults(Section):
    """``faults:`` — trouble the local stand-in injects (see the module docstring); empty = none."""

    requests: list[RequestFault] = Field(default_factory=list, description="Rules for HTTP requests.")
    imports: ImportFaults | None = Field(None, description="Slow, failing or stuck imports.")
    worker: WorkerFault | None = Field(None, description="The import worker dies.")
    restarts: list[RestartFault] = Field(
        default_factory=list, description="API restarts (done by whoever started the stand-in)."
    )
    seed: int | None = Field(
        None, description="Seed of the random draws, for a repeatable run; null = random."
    )

    @property
    def active(self) -> bool:
        return bool(self.requests or self.imports or self.worker or self.restarts)

    def without_restarts(self) -> Faults:
        """What the stand-in itself applies; restarts are its launcher's job."""
        return self.model_copy(update={"restarts": []})

    def describe(self) -> list[str]:
        """One line per fault, for notices and logs."""
        return [
            *(rule.describe() for rule in self.requests),
            *([self.imports.describe()] if self.imports else []),
            *([self.worker.describe()] if self.worker else []),
            *(restart.describe() for restart in self.restarts),
        ]
