"""The arrival scheduler: every process that runs users starts its share of the sessions on time.

``load.profile: arrivals`` keeps a pool of slots spawned (the shape asks Locust for
``load.arrivals.slots`` users, which idle in `fwload.users.sessions.SlotPool`). One greenlet
per process walks the arrival plan (`fwload.scenario.arrivals`), sleeps until each of its
instants, and hands the session to an idle slot of the class the mix's share calls for.
A session it cannot start on time is **dropped** and recorded, never postponed or thinned
out: no idle slot (``no_slot``), the process above 90 % CPU (``generator_cpu``), or the
scheduler itself reaching the instant later than ``max_start_delay`` (``late``).

The master (or local runner) fixes one clock for the run: the instant the first session
is due, after the ``slots`` stage. It tells each worker that instant, the worker's place
``w`` and the number of workers ``W`` (custom message ``fwload_arrivals``, sent before the
spawn message), and each worker takes the arrivals ``k % W == w``: the workers together
start exactly the sequence one process would.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass
from typing import Any

import gevent
from locust.runners import MasterRunner, WorkerRunner

from fwload.scenario.arrivals import ArrivalPlan, ClassPicker, SessionLength, plan_of, session_length, \
    slot_allocation_s
from fwload.scenario.model import Scenario
from fwload.users.base import FunkwhaleUser
from fwload.users.sessions import Session, SlotPool, record

logger = logging.getLogger("fwload")

CPU_BUSY_SHARE = 0.9
CPU_SAMPLE_S = 0.5
MESSAGE = "fwload_arrivals"


class CpuGauge:
    """This process's CPU share (CPU time over wall time), refreshed at most every `CPU_SAMPLE_S`.

    A gevent process runs on one core: above 90 % of it the greenlets are late for everything,
    and a session started then would measure the generator rather than the server.
    """

    def __init__(self, interval_s: float = CPU_SAMPLE_S):
        self.interval_s = interval_s
        self.share = 0.0
        self._wall = time.monotonic()
        self._cpu = time.process_time()

    def busy(self) -> bool:
        now = time.monotonic()
        if now - self._wall >= self.interval_s:
            cpu = time.process_time()
            self.share = (cpu - self._cpu) / (now - self._wall)
            self._wall, self._cpu = now, cpu
        return self.share > CPU_BUSY_SHARE


@dataclass(frozen=True)
class Clock:
    """When the run's first session is due (epoch seconds), and this process's share."""

    first_due: float
    worker: int = 0
    workers: int = 1


class ArrivalScheduler:
    """Releases this process's share of the plan's sessions to the slot pool, in a greenlet."""

    def __init__(self, plan: ArrivalPlan, length: SessionLength | None, max_iterations: int | None,
                 max_start_delay: float, pool: SlotPool, clock: Clock, rng: random.Random | None = None):
        self.plan, self.length, self.max_iterations = plan, length, max_iterations
        self.max_start_delay, self.pool, self.clock = max_start_delay, pool, clock
        self.rng = rng or random.Random()
        self.picker = ClassPicker()
        self.cpu = CpuGauge()
        self.released = 0
        self._greenlet: gevent.Greenlet | None = None

    def start(self) -> None:
        self._greenlet = gevent.spawn(self._run)

    def stop(self) -> None:
        if self._greenlet is not None:
            self._greenlet.kill(block=False)
            self._greenlet = None

    def _run(self) -> None:
        first_due = self.clock.first_due
        for _k, offset in self.plan.instants(self.clock.worker, self.clock.workers):
            due = first_due + offset
            gevent.sleep(max(due - time.time(), 0.0))
            try:
                self.release(due)
            except Exception:  # noqa: BLE001 - a bug in one release must not end the arrivals
                logger.exception("fwload: could not release a session")

    def release(self, due: float) -> None:
        """Start the session due at ``due`` on an idle slot, or record it as dropped."""
        self.released += 1
        user_class = self.picker.pick(self.pool.slots) or ""
        length = self.length.draw(self.rng) if self.length is not None else None
        session = Session(due, length, self.max_iterations)
        if time.time() - due > self.max_start_delay:
            record(session, "dropped", "late", user_class)
        elif self.cpu.busy():
            record(session, "dropped", "generator_cpu", user_class)
        elif not self.pool.hand(user_class, session):
            record(session, "dropped", "no_slot", user_class)


class ArrivalDriver:
    """fwload's arrivals in one Locust process: the clock on the master, the scheduler where users run."""

    def __init__(self, environment: Any):
        self.environment = environment
        self.scenario: Scenario | None = None
        self.clock: Clock | None = None
        self.scheduler: ArrivalScheduler | None = None
        runner = environment.runner
        if isinstance(runner, WorkerRunner):
            runner.register_message(MESSAGE, self._on_clock)
        events = environment.events
        events.test_stopping.add_listener(self.stop)
        events.test_stop.add_listener(self.stop)

    def begin(self, scenario: Scenario | None, load_start: float) -> None:
        """On the master or local runner, as the load starts (epoch ``load_start``): fix the clock
        (the first session is due when the ``slots`` stage ends) and share it out."""
        if scenario is None or scenario.load.profile != "arrivals":
            return
        assert scenario.load.arrivals is not None and scenario.load.arrivals.slots is not None
        first_due = load_start + slot_allocation_s(scenario.load.arrivals.slots, scenario.load.spawn_rate)
        runner = self.environment.runner
        if isinstance(runner, MasterRunner):
            clients = sorted((c for c in runner.clients.all if c.state != "missing"),
                             key=lambda c: runner.get_worker_index(c.id))
            for place, client in enumerate(clients):
                share = {"first_due": first_due, "worker": place, "workers": len(clients)}
                runner.send_message(MESSAGE, share, client_id=client.id)
            return
        self.prepare(scenario)
        self._set_clock(Clock(first_due))

    def prepare(self, scenario: Scenario | None) -> None:
        """Where users run, once the scenario is applied to the user classes (`apply_scenario`)."""
        self.scenario = scenario if scenario is not None and scenario.load.profile == "arrivals" else None
        self._maybe_start()

    def _on_clock(self, environment: Any, msg: Any, **_kwargs: Any) -> None:
        self._set_clock(Clock(msg.data["first_due"], msg.data["worker"], msg.data["workers"]))

    def _set_clock(self, clock: Clock) -> None:
        if self.scheduler is not None:
            self.scheduler.stop()
            self.scheduler = None
        self.clock = clock
        self._maybe_start()

    def _maybe_start(self) -> None:
        pool = FunkwhaleUser.arrivals
        if self.scheduler is not None or self.scenario is None or self.clock is None or pool is None:
            return
        arrivals = self.scenario.load.arrivals
        assert arrivals is not None
        self.scheduler = ArrivalScheduler(
            plan_of(self.scenario.load), session_length(arrivals.session), arrivals.session.iterations,
            arrivals.max_start_delay, pool, self.clock)
        self.scheduler.start()

    def stop(self, **_kwargs: Any) -> None:
        """The test is stopping: no session starts after this (those not yet due were never asked)."""
        if self.scheduler is not None:
            self.scheduler.stop()
            self.scheduler = None
        self.clock = None
        self.scenario = None
