"""Faults done to the stand-in from outside: the API restarting, the import worker killed.

A process cannot restart itself on its own port, nor kill its Celery worker from an API
worker, so whoever started the stand-in does it, on a timer from the moment the faults
were armed. The embedded launcher restarts its one process; in stack mode the stack
process, asked by the launcher (`fwload.standin.stack.restart`), restarts its ``api``
component alone while nginx answers 502, and the launcher may kill ``celery-worker`` (the
in-process worker fault already stops every import in both modes, so killing the process
is optional realism).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from fwload.common.faults import Faults

log = logging.getLogger("fwload.standin.faults")


class FaultTarget(Protocol):
    """What a launcher offers: `restart_api` is required; ``kill_import_worker()`` is optional."""

    def restart_api(self, down_s: float) -> None: ...


@dataclass(frozen=True)
class Happened:
    """One lifecycle fault done: ``kind`` is ``restart`` or ``worker_killed``."""

    kind: str
    started_at: float
    ended_at: float
    detail: str
    error: str = ""


class LifecycleSchedule:
    """Runs the plan's restarts (and worker kill) on a daemon thread; `cancel` stops what has not happened."""

    def __init__(
        self, plan: Faults, target: FaultTarget, on_event: Callable[[Happened], None] | None = None
    ) -> None:
        self._steps: list[tuple[float, str, Callable[[], str]]] = [
            (restart.after, "restart", lambda down=restart.down: self._restart(down))
            for restart in plan.restarts
        ]
        kill = getattr(target, "kill_import_worker", None)
        if plan.worker is not None and callable(kill):
            self._steps.append((plan.worker.dies_after, "worker_killed", lambda: kill() or "killed"))
        self._steps.sort(key=lambda step: step[0])
        self._target = target
        self._on_event = on_event
        self._cancelled = threading.Event()
        self._thread = threading.Thread(target=self._run, name="standin-lifecycle-faults", daemon=True)
        self.happened: list[Happened] = []

    def start(self) -> LifecycleSchedule:
        self._armed_at = time.monotonic()
        if self._steps:
            self._thread.start()
        return self

    def cancel(self, timeout_s: float = 30.0) -> None:
        self._cancelled.set()
        if self._thread.is_alive():
            self._thread.join(timeout_s)

    def _restart(self, down_s: float) -> str:
        self._target.restart_api(down_s)
        return f"down {down_s:g} s"

    def _run(self) -> None:
        for at, kind, action in self._steps:
            if self._cancelled.wait(max(self._armed_at + at - time.monotonic(), 0)):
                return
            started = time.time()
            try:
                detail, error = action(), ""
            except Exception as failure:
                log.exception("lifecycle fault %s failed", kind)
                detail, error = "", str(failure)
            happened = Happened(kind, started, time.time(), detail, error)
            self.happened.append(happened)
            if self._on_event is not None:
                self._on_event(happened)


def arm_when(
    started: Callable[[], bool], arm: Callable[[], None], *, timeout_s: float, poll_s: float = 0.1
) -> threading.Thread:
    """Call ``arm`` on a daemon thread once ``started()`` holds (the load began), so every fault's
    ``after``/``for`` counts from the load's start rather than from Locust's own start-up."""

    def wait_then_arm() -> None:
        deadline = time.monotonic() + timeout_s
        while not started():
            if time.monotonic() >= deadline:
                log.warning("the load never started: faults not armed")
                return
            time.sleep(poll_s)
        arm()

    thread = threading.Thread(target=wait_then_arm, name="standin-arm-faults", daemon=True)
    thread.start()
    return thread
