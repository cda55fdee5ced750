"""What the session's helpers (collector start, progress watch, lifetime) see of the session.

`FwloadSession` builds these helpers and hands itself to them; typing them against this
protocol instead of the session class keeps the imports one way (session → helpers → view),
with no circle even for the type checker.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from locust.env import Environment

    from fwload.recording.live import LatestResources, LiveStats
    from fwload.recording.rundir import RunDirectory
    from fwload.scenario.model import Scenario


class SessionView(Protocol):
    """The attributes and calls of `fwload.plugin.session.FwloadSession` its helpers use."""

    environment: Environment
    live: LiveStats
    resources: LatestResources
    scenario: Scenario | None
    run: RunDirectory | None
    interrupted: str | None
    stage: str

    @property
    def options(self) -> Any: ...

    @property
    def is_worker(self) -> bool: ...

    def interrupt(self, reason: str, *, then_exit: bool = False) -> None: ...
