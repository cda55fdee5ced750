"""The load shape locustfiles expose: the scenario's schedule, and the moment a test begins."""

from __future__ import annotations

from fwload.scenario.shapes import ScenarioShape, set_active_scenario


class FwloadShape(ScenarioShape):
    """`ScenarioShape` plus fwload's start and stage bookkeeping.

    Locust asks the shape for its first tick before it fires ``test_start`` and before the
    master dispatches users, so this is where the scenario must be loaded and applied to
    the user classes. A test that cannot start (bad scenario, target not ready) ends here.
    """

    def tick(self) -> tuple[int, float] | None:
        session = getattr(self.runner.environment, "fwload", None) if self.runner is not None else None
        if session is not None:
            if not session.active and not session.begin():
                return None
            set_active_scenario(session.scenario)
        previous = self.last_tick
        tick = super().tick()
        if session is not None and self.last_tick is not None and (
            previous is None or previous.stage != self.last_tick.stage
        ):
            session.stage_changed(self.last_tick.stage, self.last_tick.users, self.last_tick.spawn_rate)
        return tick
