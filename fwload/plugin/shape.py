"""The load shape locustfiles expose: the scenario's schedule, and the moment a test begins."""

from __future__ import annotations

import time
from typing import Any

from fwload.scenario.shapes import ScenarioShape, set_active_scenario


class FwloadShape(ScenarioShape):
    """`ScenarioShape` plus fwload's start and stage bookkeeping.

    Locust asks the shape for its first tick before it fires ``test_start`` and before the
    master dispatches users, so this is where the scenario must be loaded and applied to
    the user classes. A test that cannot start (bad scenario, target not ready) ends here.
    """

    load_started_at: float | None = None

    def tick(self) -> tuple[int, float] | None:
        session = getattr(self.runner.environment, "fwload", None) if self.runner is not None else None
        if session is not None:
            if not session.active:
                if not session.begin():
                    return None
                self.reset_time()  # the load starts once the target is checked, with the arrivals' clock
                self.load_started_at = time.time()
                session.load_started(self.load_started_at)
            set_active_scenario(session.scenario)
        previous = self.last_tick
        tick = super().tick()
        if session is not None and self.last_tick is not None and (
            previous is None or previous.stage != self.last_tick.stage
        ):
            tick_ = self.last_tick
            extra: dict[str, Any] = {"ts": self.planned_start()}
            if tick_.rate is not None:
                extra.update(arrival_rate=tick_.rate, from_arrival_rate=tick_.from_rate)
            session.stage_changed(tick_.stage, tick_.users, tick_.spawn_rate, **extra)
        return tick

    def planned_start(self) -> float | None:
        """When the current stage was planned to begin (epoch): the shape ticks once a second, so
        a stage event stamped at the tick would put up to a second of the new stage in the old one."""
        if self.load_started_at is None:
            return None
        planned = self.schedule().stage_at(self.get_run_time())
        return self.load_started_at + planned.start if planned is not None else None
