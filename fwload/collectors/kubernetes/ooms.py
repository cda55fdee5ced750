"""One container's OOM kills from two sources, each kill counted once.

Pod status reports the kill that ended a container (``lastState.terminated.reason:
OOMKilled``); cAdvisor's ``container_oom_events_total`` counts every kill in the container's
cgroup, worker processes under a surviving main process included, and when a read falls
between the kill and the removal of the dead container's cgroup it reports the ending kill
too. A cAdvisor increase on a container pod status already reported ended, or one read at
or after the ``finishedAt`` it later reports, is that ending kill; one read before it is a
worker's, a kill of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


def finished_epoch(rfc3339: str) -> float | None:
    """``finishedAt`` as epoch seconds (None when absent or unreadable)."""
    try:
        return datetime.fromisoformat(rfc3339).timestamp() if rfc3339 else None
    except ValueError:
        return None


def bare_id(container_id: str) -> str:
    """``containerd://9b2f…`` → ``9b2f…``, the part a cAdvisor cgroup path contains."""
    return container_id.split("://")[-1]


@dataclass(slots=True)
class OomKills:
    """The tally behind a sample's ``oom_kills`` column and the ``oom_kill`` events."""

    from_status: int = 0
    from_cadvisor: float = 0.0
    _ended: set[str] = field(default_factory=set)
    _increased_at: dict[str, float] = field(default_factory=dict)
    _shared: set[str] = field(default_factory=set)

    @property
    def total(self) -> int:
        return int(self.from_status + self.from_cadvisor) - len(self._shared)

    def ended_by_oom(self, container_id: str, finished_at: str) -> int:
        """A termination pod status reports; returns the kills it adds (0 if cAdvisor had it)."""
        self.from_status += 1
        bare, finished = bare_id(container_id), finished_epoch(finished_at)
        self._ended.add(bare)
        late_read = finished is not None and any(
            bare in instance and read_at >= finished for instance, read_at in self._increased_at.items())
        return 0 if bare and late_read and self._share(bare) else 1

    def cadvisor_increase(self, instance: str, increase: float, read_at: float) -> int:
        """New kills on one cgroup (``instance``) read at ``read_at``; returns the kills added."""
        self.from_cadvisor += increase
        if increase <= 0:
            return 0
        self._increased_at[instance] = read_at
        ended = next((bare for bare in self._ended if bare and bare in instance), None)
        return int(increase) - (1 if ended and self._share(ended) else 0)

    def _share(self, bare: str) -> bool:
        """Count the ending kill of container ``bare`` once; False if it already was."""
        if bare in self._shared:
            return False
        self._shared.add(bare)
        return True
