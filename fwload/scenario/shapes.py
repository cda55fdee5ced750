"""`ScenarioShape`: the Locust load shape that follows the active scenario's schedule.

Imports Locust, so only the plugin and locustfiles import this module. The arithmetic is
in `fwload.scenario.schedule`; this class only hands it the elapsed time.

The plugin loads ``--scenario`` and calls `set_active_scenario`; without one the shape
follows Locust's own ``-u/-r/-t`` (``use_common_options``), from the command line or the
web UI's start form.
"""

from __future__ import annotations

from locust import LoadTestShape

from fwload.scenario.model import Scenario
from fwload.scenario.schedule import Schedule, Tick

_active_scenario: Scenario | None = None


def set_active_scenario(scenario: Scenario | None) -> None:
    """Make every `ScenarioShape` follow ``scenario`` (``None``: back to -u/-r/-t)."""
    global _active_scenario
    _active_scenario = scenario


def active_scenario() -> Scenario | None:
    """The scenario the shape follows, if the plugin set one."""
    return _active_scenario


class ScenarioShape(LoadTestShape):
    """The scenario's profile, capped by its ``caps``; or Locust's -u/-r/-t without a scenario.

    ``last_tick`` holds the latest (users, spawn_rate, stage) handed to Locust, so the plugin
    can record stage changes and tag resource samples with the stage.
    """

    use_common_options = True

    def __init__(self) -> None:
        super().__init__()
        self.last_tick: Tick | None = None

    def schedule(self) -> Schedule:
        """The schedule in force now (rebuilt each tick: the web UI may change -u/-r/-t between runs)."""
        if _active_scenario is not None:
            return Schedule.for_scenario(_active_scenario)
        options = self.runner.environment.parsed_options if self.runner is not None else None
        return Schedule.from_common_options(
            users=getattr(options, "num_users", None),
            spawn_rate=getattr(options, "spawn_rate", None),
            run_time=getattr(options, "run_time", None),
        )

    def tick(self) -> tuple[int, float] | None:
        self.last_tick = self.schedule().at(self.get_run_time())
        if self.last_tick is None:
            return None
        return self.last_tick.users, self.last_tick.spawn_rate
