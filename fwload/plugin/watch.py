"""A greenlet on the master that watches the run once a second.

It stops a hopeless run early (the scenario's abort rules, to protect a staging cluster),
says as soon as an arrivals run drops sessions (the load asked for was not offered: a
slow target or a too small slot pool must not pass unnoticed), and keeps ``progress.json``
up to date for ``fwload run``'s progress line.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import gevent

from fwload.common.files import write_atomic
from fwload.plugin.view import SessionView
from fwload.recording.schema import PROGRESS_JSON

logger = logging.getLogger("fwload")

MIN_SAMPLES = 10
"""Requests (or, for ``stall_ratio``, plays in progress) a window needs before an abort rule judges it."""


def _cpu_by_component(samples: list) -> dict[str, float]:
    """Millicores per component, its containers summed, from the newest samples."""
    cpu: dict[str, float] = {}
    for sample in samples:
        if sample.cpu_m is not None:
            cpu[sample.component] = cpu.get(sample.component, 0.0) + sample.cpu_m
    return cpu


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


class Watch:
    def __init__(self, session: SessionView, interval_s: float = 1.0):
        self.session = session
        self.interval_s = interval_s
        self.started = time.time()
        self.aborted = False
        self.dropped_reported = 0
        self._greenlet: gevent.Greenlet | None = None

    def start(self) -> None:
        self.started = time.time()
        self._greenlet = gevent.spawn(self._loop)

    def stop(self) -> None:
        if self._greenlet is not None and self._greenlet is not gevent.getcurrent():
            self._greenlet.kill(block=False)
        self._greenlet = None

    def _loop(self) -> None:
        while True:
            gevent.sleep(self.interval_s)
            try:
                self.tick(time.time())
            except Exception:  # noqa: BLE001 - watching must never break the load
                logger.exception("fwload: watch failed")

    def tick(self, now: float) -> None:
        self.session.live.trim(now)
        runner = self.session.environment.runner
        self.session.live.tick_playback(now, users=runner.user_count if runner is not None else 0,
                                        cpu=_cpu_by_component(self.session.resources.latest()))
        self.write_progress(now)
        scenario = self.session.scenario
        if scenario is None or self.aborted:
            return
        for rule in scenario.abort:
            broken = self.broken(rule, now)
            if broken is not None:
                self.abort(rule, broken)
                return
        if scenario.load.profile == "arrivals":
            self.check_dropped()

    def broken(self, rule: Any, now: float) -> float | None:
        """The observed value if ``rule`` held over its whole window, else None."""
        window = max(rule.for_, 1.0)
        if now - self.started < window:
            return None
        live = self.session.live
        if rule.metric == "p95_ms":
            value, samples = live.percentile(95, seconds=window, now=now, group=rule.group)
        elif rule.metric == "throttled_ratio":
            value, samples = live.throttled_ratio(window, now=now, group=rule.group)
        elif rule.metric == "stall_ratio":
            value, _played = live.stall_ratio(window, now=now)
            samples = live.playing_now()[0]
        else:
            value, samples = live.error_ratio(window, now=now, group=rule.group)
        if value is None or samples < MIN_SAMPLES or value <= rule.above:
            return None
        return value

    def abort(self, rule: Any, observed: float) -> None:
        self.aborted = True
        where = f" ({rule.group})" if rule.group else ""
        detail = (f"{rule.metric}{where} = {observed:.3g} stayed above {rule.above:g} for {rule.for_:g} s: "
                  "stopping the run early to protect the target")
        logger.error("fwload: ABORT: %s", detail)
        run = self.session.run
        if run is not None:
            run.event("abort", rule=rule.model_dump(mode="json", by_alias=True), observed=observed, detail=detail)
        runner = self.session.environment.runner
        if self.session.environment.parsed_options.headless:
            gevent.spawn(runner.quit)
        else:
            gevent.spawn(runner.stop)

    def check_dropped(self) -> None:
        """Log the first dropped sessions, and again each time the count doubles (events hold each batch)."""
        sessions = self.session.live.sessions
        dropped = sessions["dropped"]
        if dropped and dropped >= 2 * self.dropped_reported:
            self.dropped_reported = dropped
            logger.warning("fwload: %d session(s) dropped so far (%d started): the generator could not start "
                           "them on time (see sessions.csv; raise load.arrivals.slots, or add workers if the "
                           "generator's CPU is the limit)", dropped, sessions["started"])

    def write_progress(self, now: float) -> None:
        session = self.session
        if session.run is None:
            return
        live = session.live
        runner = session.environment.runner
        error_ratio, recent = live.error_ratio(10, now=now)
        p95, _ = live.percentile(95, seconds=30, now=now)
        progress = {
            "ts": now, "elapsed_s": round(now - self.started, 1), "stage": session.stage,
            "users": runner.user_count if runner is not None else 0,
            "requests": sum(live.requests.values()), "failures": sum(live.failures.values()),
            "throttled": sum(live.throttled.values()), "rps_10s": round(recent / 10, 2),
            "error_ratio_10s": round(error_ratio, 4), "p95_ms_30s": round(p95, 1) if p95 is not None else None,
            "imports": dict(live.imports), "streams": live.ttfb.count,
            "plays_now": live.playing_now()[0], "stall_ratio_30s": _rounded(live.stall_ratio(30, now=now)[0]),
        }
        if live.sessions:
            progress["sessions"] = dict(live.sessions)
        write_atomic(session.run.path / PROGRESS_JSON, json.dumps(progress) + "\n")
