"""One process's view of the faults: the shared plan, the counters, the limiter and the dice.

Built by `Services.build` in every process of a stand-in (the embedded server, each stack
API worker, the Celery worker), so the ASGI middleware and the import task ask the same
object what to do.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from pathlib import Path

from starlette.responses import Response

from fwload.common.faults import Faults
from fwload.standin.backends.cache import Cache
from fwload.standin.faults import answers
from fwload.standin.faults.board import FaultBoard
from fwload.standin.faults.counts import RequestCounts
from fwload.standin.faults.groups import request_group, throttle_scope
from fwload.standin.faults.throttle import Limiter, ident_of

FOLDER = "faults"
"""Under the data directory: the shared plan and every process's counts."""


@dataclass
class Decision:
    """What happens to one request: at most one of reset, throttled, error; then the delay."""

    group: str
    reset: bool = False
    throttled: Response | None = None
    error: int | None = None
    delay_s: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    """Rate-limit headers the real answer carries too (a throttled view's, as Funkwhale's)."""


class FaultRuntime:
    def __init__(self, folder: Path, cache: Cache) -> None:
        self.board = FaultBoard(folder)
        self.counts = RequestCounts(folder)
        self.limiter = Limiter(cache)
        self.rng = random.Random()
        self.closing = threading.Event()
        """Set when the process stops, so a slow import or a dead worker never holds it up."""
        self._seeded: Faults | None = None

    @classmethod
    def for_data_dir(cls, data_dir: Path, cache: Cache) -> FaultRuntime:
        return cls(data_dir / FOLDER, cache)

    def start(self, plan: Faults | None) -> None:
        """Arm ``plan`` for every process of this stand-in; None keeps the one its data directory holds."""
        if plan is not None:
            self.board.arm(plan.without_restarts())

    def stop(self) -> None:
        self.closing.set()
        self.counts.stop()

    def plan(self) -> tuple[Faults, float]:
        """(plan, seconds since armed)."""
        plan, elapsed = self.board.current()
        if plan is not self._seeded:
            self._seeded = plan
            if plan.seed is not None:
                self.rng.seed(plan.seed)
        return plan, elapsed

    def decide(
        self, method: str, path: str, raw_headers: list[tuple[bytes, bytes]], client_host: str
    ) -> Decision:
        """Every active rule that matches applies: delays add up; reset > throttle > error."""
        group = request_group(method, path)
        plan, elapsed = self.plan()
        decision = Decision(group)
        if not plan.requests:
            return decision
        headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in raw_headers}
        ident, authenticated = ident_of(headers, client_host)
        scope = throttle_scope(method, path, authenticated)
        for index, rule in enumerate(plan.requests):
            if not rule.active(elapsed) or not rule.matches(group, scope):
                continue
            if rule.reset is not None and self.rng.random() < rule.reset:
                decision.reset = True
            if rule.throttle is not None and decision.throttled is None:
                verdict = self.limiter.check(index, rule.throttle, scope, ident, self.rng)
                decision.headers.update(verdict.headers)
                if verdict.throttled:
                    decision.throttled = answers.throttled(scope, verdict.headers)
            if rule.error is not None and decision.error is None and self.rng.random() < rule.error.ratio:
                decision.error = rule.error.status
            if rule.latency is not None:
                decision.delay_s += rule.latency.seconds(self.rng)
        return decision
