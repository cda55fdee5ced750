"""Arrival-rate mode (``load.pacing``): a fixed rate of iterations, whatever the target's speed.

Without pacing a slow target slows its own users down, so it is offered less load exactly
when it struggles. With ``load.pacing.iterations_per_s`` the users together start that many
task iterations per second, and a shortfall is reported instead of hidden:

* User classes wait with Locust's ``constant_pacing``, recomputing the interval from the
  current total user count (Locust keeps the pacing state on the user, so calling
  ``constant_pacing(interval)(self)`` afresh in ``wait_time`` is safe)::

      def wait_time(self):
          interval = pacing_interval(scenario, total_users)
          return constant_pacing(interval)(self) if interval is not None else default_wait(self)

* The plugin counts finished iterations (all workers) over each ``pacing.window`` seconds
  once spawning is complete, and calls ``offered_load_shortfall(target, achieved,
  pacing.tolerance)``. A non-None result is recorded as an event and makes the verdict say
  the offered load was not reached, with the shortfall, so a slow target cannot pass by
  lowering the load it receives.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fwload.scenario.model import Scenario


def pacing_interval(scenario: Scenario, user_count: int) -> float | None:
    """Seconds between the starts of two iterations of one user; ``None`` without pacing.

    ``user_count`` is the total number of running users (all classes, all workers): each
    of them iterates every ``user_count / iterations_per_s`` seconds to make the rate.
    """
    pacing = scenario.load.pacing
    if pacing is None or user_count <= 0:
        return None
    return user_count / pacing.iterations_per_s


def offered_load_shortfall(target_rate: float, achieved_rate: float, tolerance: float) -> float | None:
    """The share of the target rate that was not offered, or ``None`` when within tolerance.

    ``offered_load_shortfall(10, 8, 0.1)`` is ``0.2``: 20 % of the iterations asked for were
    never started, more than the 10 % allowed.
    """
    if target_rate <= 0:
        raise ValueError(f"target_rate must be positive (got {target_rate!r})")
    if achieved_rate < 0:
        raise ValueError(f"achieved_rate cannot be negative (got {achieved_rate!r})")
    if not 0 <= tolerance < 1:
        raise ValueError(f"tolerance must be in [0, 1) (got {tolerance!r})")
    shortfall = 1 - achieved_rate / target_rate
    return shortfall if shortfall > tolerance else None
