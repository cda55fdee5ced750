"""Cumulative counters kept across container restarts, for backends that read raw counters."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class Accumulated:
    """A counter kept cumulative across container restarts (cAdvisor's restart from zero).

    ``instance`` names the counter's source (a cgroup id); a new one, or a value below the
    last, is a reset, as Prometheus' ``increase()`` reads it.
    """

    total: float = 0.0
    _instance: str | None = None
    _last: float = 0.0

    def update(self, instance: str, value: float) -> float:
        """Add what happened since the last reading; returns that increase."""
        fresh = instance != self._instance or value < self._last
        increase = value if fresh else value - self._last
        self._instance, self._last = instance, value
        self.total += increase
        return increase
