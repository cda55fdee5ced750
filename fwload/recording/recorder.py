"""The Locust listener that writes every measurement to the run directory as it happens.

On a local runner rows are buffered and flushed about once a second by a greenlet; on a
worker they travel to the master in ``report_to_master`` (every 3 s) and are written there
(``worker_report``). The request hook only classifies and appends a tuple: it runs once
per request, so it must stay cheap. At the end the master asks every worker to drain
(stop its users and send its last rows with the count it produced), waits for all of
them, and records any worker that never answered, so a run directory is complete —
nothing lost, nothing doubled — whatever the number of workers.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import gevent
from locust.env import Environment
from locust.runners import STATE_INIT, STATE_STOPPED, MasterRunner, WorkerRunner

from fwload.playback.tally import TALLY
from fwload.recording import measurements
from fwload.recording.classify import error_kind, short_error
from fwload.recording.live import LiveStats
from fwload.recording.rundir import RunDirectory

logger = logging.getLogger(__name__)

FLUSH_INTERVAL_S = 1.0
DRAIN_TIMEOUT_S = 30.0
_KINDS = ("requests", "imports", "streams", "plays", "sessions")
"""The `schema.TABLES` the recorder buffers, sends from workers to the master and writes."""
_NO_CONTEXT: dict[str, Any] = {}


class Recorder:
    """Subscribe with `register`; point at a run directory with `start` (master/local)."""

    def __init__(self, environment: Environment, live: LiveStats | None = None):
        self.environment = environment
        self.live = live or LiveStats()
        self.run: RunDirectory | None = None
        self.buffers: dict[str, list[tuple[Any, ...]]] = {kind: [] for kind in _KINDS}
        """Rows in schema column order, without the last column (worker), added where they land."""
        self.produced = dict.fromkeys(_KINDS, 0)
        self.received: dict[str, dict[str, int]] = {}
        self.drained: dict[str, dict[str, int]] = {}
        self.throttle_counts: dict[tuple[str, str], int] = {}
        self.stop_counts: dict[tuple[str, str], int] = {}
        """(user class, reason) -> users stopped before their first task, since the last flush."""
        self._flusher: gevent.Greenlet | None = None
        self.on_rows: list[Callable[[str, list[tuple[Any, ...]]], None]] = []

    def register(self) -> Recorder:
        events = self.environment.events
        events.request.add_listener(self.on_request)
        measurements.import_done.add_listener(self.on_import)
        measurements.stream_done.add_listener(self.on_stream)
        measurements.play_done.add_listener(self.on_play)
        measurements.throttled.add_listener(self.on_throttled)
        measurements.session_done.add_listener(self.on_session)
        measurements.user_stopped.add_listener(self.on_user_stopped)
        runner = self.environment.runner
        if isinstance(runner, WorkerRunner):
            events.report_to_master.add_listener(self.on_report_to_master)
            runner.register_message("fwload_drain", self.on_drain_request)
        elif isinstance(runner, MasterRunner):
            events.worker_report.add_listener(self.on_worker_report)
            runner.register_message("fwload_drained", self.on_worker_drained)
        return self

    # -- the hot path ---------------------------------------------------------------------

    def on_request(self, request_type: str, name: str, response_time: float, response_length: int,
                   response: Any = None, context: dict | None = None, exception: Any = None,
                   start_time: float | None = None, **_kwargs: Any) -> None:
        status = response.status_code if response is not None else 0
        ctx = context or _NO_CONTEXT
        if exception is None and 0 < status < 400:
            kind = error = ""
        else:
            kind = error_kind(status or 0, exception, response.headers if status in (429, 500) else None,
                              ctx.get("refusals", ()))
            error = short_error(exception, status or 0) if kind else ""
        self.buffers["requests"].append((
            round(start_time or time.time(), 3), ctx.get("group", ""), name, request_type, status or 0,
            round(response_time or 0.0, 3), response_length or 0, kind, error, ctx.get("user_class", ""),
        ))

    def on_import(self, ts: float, upload: str, outcome: str, wait_ms: Any, polls: int, fixture: str,
                  format: str, bytes: int, user_class: str, **_kwargs: Any) -> None:  # noqa: A002
        self.buffers["imports"].append((round(ts, 3), upload, outcome, _ms(wait_ms), polls, fixture, format,
                                        bytes, user_class))

    def on_stream(self, ts: float, track: int, status: int, ttfb_ms: Any, total_ms: Any, bytes: int,  # noqa: A002
                  range: str, error_kind: str, user_class: str, transcode: str = "",  # noqa: A002
                  **_kwargs: Any) -> None:
        self.buffers["streams"].append((round(ts, 3), track, status, _ms(ttfb_ms), _ms(total_ms), bytes, range,
                                        error_kind, transcode, user_class))

    def on_play(self, ts: float, track: Any, client: str, playback: str, transcode: str, startup_ms: Any,
                stalls: Any, stall_ms: Any, seek_wait_ms: Any, played_s: Any, duration_s: Any, bytes: int,  # noqa: A002
                requests: int, outcome: str, error_kind: str, gaps: str, user_class: str, **_kwargs: Any) -> None:
        self.buffers["plays"].append((round(ts, 3), track, client, playback, transcode, startup_ms, stalls, stall_ms,
                                      seek_wait_ms, played_s, duration_s, bytes, requests, outcome, error_kind, gaps,
                                      user_class))

    def on_throttled(self, group: str, retry_after_s: float, scope: str, **_kwargs: Any) -> None:
        key = (group, scope)
        self.throttle_counts[key] = self.throttle_counts.get(key, 0) + 1

    def on_session(self, intended_ts: float, start_ts: Any, start_delay_ms: Any, first_ms: Any, length_s: Any,
                   ended_ts: Any, iterations: int, outcome: str, reason: str, user_class: str,
                   **_kwargs: Any) -> None:
        self.buffers["sessions"].append((round(intended_ts, 3), _ts(start_ts), _ms(start_delay_ms), _ms(first_ms),
                                         _ms(length_s), _ts(ended_ts), iterations, outcome, reason, user_class))

    def on_user_stopped(self, user_class: str, reason: str, **_kwargs: Any) -> None:
        key = (user_class, reason)
        self.stop_counts[key] = self.stop_counts.get(key, 0) + 1

    # -- local and master side ----------------------------------------------------------

    def start(self, run: RunDirectory) -> None:
        """Write to ``run`` from now on (master or local runner)."""
        self.run = run
        run.ensure_files()
        if not isinstance(self.environment.runner, MasterRunner) and self._flusher is None:
            self._flusher = gevent.spawn(self._flush_loop)

    def _flush_loop(self) -> None:
        while True:
            gevent.sleep(FLUSH_INTERVAL_S)
            try:
                self.flush()
            except Exception:  # noqa: BLE001 - a full disk must not kill the load; it is logged
                logger.exception("fwload: could not write measurements")

    def flush(self) -> None:
        """Move buffered local rows to the run directory (local runner)."""
        rows = self._take()
        self._accept("local", rows)
        self._flush_throttles()
        self._flush_stops()
        self.live.add_playback("local", playback_snapshot())

    def _take(self) -> dict[str, list[tuple[Any, ...]]]:
        rows, self.buffers = self.buffers, {kind: [] for kind in _KINDS}
        for kind in _KINDS:
            self.produced[kind] += len(rows[kind])
        return rows

    def _accept(self, source: str, rows: dict[str, list]) -> None:
        """Write rows from ``source`` (a worker's client id, or "local"), labelled with the worker."""
        counted = self.received.setdefault(source, dict.fromkeys(_KINDS, 0))
        label = self._worker_label(source)
        for kind in _KINDS:
            batch = rows.get(kind) or []
            if not batch:
                continue
            counted[kind] += len(batch)
            batch = [(*row, label) for row in batch]
            if self.run is not None:
                self.run.append_rows(kind, batch)
            getattr(self.live, f"add_{kind}")(batch)
            if kind == "sessions":
                self._record_drops(batch)
            for callback in self.on_rows:
                callback(kind, batch)

    def _record_drops(self, batch: list[tuple[Any, ...]]) -> None:
        """One ``sessions_dropped`` event per reason and class in a batch: an arrivals run that
        dropped sessions says so in its events, not only in a table."""
        drops: dict[tuple[str, str], int] = {}
        for row in batch:
            if row[7] == "dropped":
                drops[(row[8], row[9])] = drops.get((row[8], row[9]), 0) + 1
        if self.run is not None and drops:
            now = time.time()
            self.run.events({"ts": now, "type": "sessions_dropped", "reason": reason, "user_class": user_class,
                             "count": count} for (reason, user_class), count in drops.items())

    def _flush_throttles(self, counts: dict[tuple[str, str], int] | None = None) -> None:
        if counts is None:
            counts, self.throttle_counts = self.throttle_counts, {}
        self._count_events("throttled", ("group", "scope"), counts)

    def _flush_stops(self, counts: dict[tuple[str, str], int] | None = None) -> None:
        if counts is None:
            counts, self.stop_counts = self.stop_counts, {}
        self._count_events("user_stopped", ("user_class", "reason"), counts)

    def _count_events(self, kind: str, keys: tuple[str, str], counts: dict[tuple[str, str], int]) -> None:
        """One event per key pair with its count, e.g. ``throttled`` {group, scope, count}."""
        if self.run is None or not counts:
            return
        now = time.time()
        self.run.events({"ts": now, "type": kind, **dict(zip(keys, key, strict=True)), "count": count}
                        for key, count in counts.items())

    def _worker_label(self, source: str) -> str:
        runner = self.environment.runner
        if isinstance(runner, MasterRunner) and source != "local":
            return str(runner.get_worker_index(source))
        return "local"

    # -- worker side --------------------------------------------------------------------

    def on_report_to_master(self, client_id: str, data: dict[str, Any]) -> None:
        rows = self._take()
        playback = playback_snapshot()
        if any(rows.values()) or self.throttle_counts or self.stop_counts or playback["plays"]:
            data["fwload"] = {**rows, "throttled": _pack_throttles(self.throttle_counts),
                              "stopped": _pack_throttles(self.stop_counts), "playback": playback}
            self.throttle_counts, self.stop_counts = {}, {}

    def on_drain_request(self, environment: Environment, msg: Any, **_kwargs: Any) -> None:
        """Stop this worker's users, then send every remaining row and the totals produced.

        Locust's own statistics go first (the worker's regular report, sent now rather than
        up to 3 s later): the master writes them in ``test_stop`` and Locust writes its
        ``--json-file``/``--csv``/``--html`` from them, so they must hold every request the
        run directory holds. The report also carries buffered rows (``report_to_master``).
        """
        runner = environment.runner
        if runner.state not in (STATE_STOPPED, STATE_INIT):
            runner.stop()
        runner._send_stats()  # noqa: SLF001 - Locust's report-to-master (stats + report_to_master hooks)
        rows = self._take()
        runner.send_message("fwload_drained", {
            "rows": rows, "produced": dict(self.produced),
            "throttled": _pack_throttles(self.throttle_counts), "stopped": _pack_throttles(self.stop_counts),
        })
        self.throttle_counts, self.stop_counts = {}, {}

    # -- master side ----------------------------------------------------------------------

    def on_worker_report(self, client_id: str, data: dict[str, Any]) -> None:
        payload = data.get("fwload")
        if payload:
            self._accept(client_id, payload)
            self._flush_throttles(_unpack_throttles(payload.get("throttled")))
            self._flush_stops(_unpack_throttles(payload.get("stopped")))
            if payload.get("playback"):
                self.live.add_playback(client_id, payload["playback"])

    def on_worker_drained(self, environment: Environment, msg: Any, **_kwargs: Any) -> None:
        data = msg.data
        self._accept(msg.node_id, data["rows"])
        self._flush_throttles(_unpack_throttles(data.get("throttled")))
        self._flush_stops(_unpack_throttles(data.get("stopped")))
        self.drained[msg.node_id] = data["produced"]

    def drain_workers(self, timeout: float = DRAIN_TIMEOUT_S) -> None:
        """Ask every worker for its last rows and wait; record workers that never answer."""
        runner = self.environment.runner
        if not isinstance(runner, MasterRunner):
            return
        workers = [client.id for client in runner.clients.all]
        for client_id in workers:
            if client_id not in self.drained:
                runner.send_message("fwload_drain", None, client_id=client_id)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and any(w not in self.drained for w in workers):
            gevent.sleep(0.1)
        for client_id in workers:
            self._check_worker(client_id)

    def _check_worker(self, client_id: str) -> None:
        if self.run is None:
            return
        produced = self.drained.get(client_id)
        received = self.received.get(client_id, dict.fromkeys(_KINDS, 0))
        if produced is None:
            self.run.event("worker_missing", worker=client_id, detail="never delivered its final rows",
                           received=received)
        elif produced != received:
            self.run.event("worker_missing", worker=client_id, detail="row counts differ",
                           produced=produced, received=received)


def playback_snapshot() -> dict[str, Any]:
    """This process's plays, cumulative, as of now (`fwload.playback.tally`)."""
    return TALLY.snapshot(time.monotonic(), time.time()).as_dict()


def _ms(value: Any) -> Any:
    return round(value, 3) if isinstance(value, float) else value


def _ts(value: Any) -> Any:
    return round(value, 3) if isinstance(value, float) else value


def _pack_throttles(counts: dict[tuple[str, str], int]) -> list[list[Any]]:
    """(a, b) -> count, as JSON-able lists for a worker's message (throttles and stops alike)."""
    return [[group, scope, count] for (group, scope), count in counts.items()]


def _unpack_throttles(packed: list[list[Any]] | None) -> dict[tuple[str, str], int]:
    return {(group, scope): count for group, scope, count in packed or []}
