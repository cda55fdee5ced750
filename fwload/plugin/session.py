"""fwload's life inside one Locust process: from the first tick to the exit code.

On the master (or a local runner) a test begins when the load shape first ticks: the
scenario is loaded and applied, the run directory opened, the target checked, the
collector started. Workers only apply the scenario to their user classes. When the test
stops, the master drains the workers, closes the run directory and decides the exit code.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import time
from pathlib import Path
from typing import Any

import gevent
import locust
from locust.env import Environment
from locust.runners import MasterRunner, WorkerRunner

import fwload
from fwload import preflight
from fwload.errors import FwloadError
from fwload.plugin.arrivals import ArrivalDriver
from fwload.plugin.collecting import make_session_collector, start_collector
from fwload.plugin.lifetime import Lifetime
from fwload.plugin.mix import apply_scenario, configure_auth, prepare_uploads
from fwload.plugin.verdict import build_reports
from fwload.plugin.watch import Watch
from fwload.recording import schema
from fwload.recording.live import LatestResources, LiveStats
from fwload.recording.recorder import Recorder
from fwload.recording.rundir import RunDirectory, write_atomic
from fwload.scenario.loader import load_scenario, with_overrides
from fwload.scenario.model import Scenario
from fwload.status import ExitStatus

logger = logging.getLogger("fwload")


class FwloadSession:
    """The plugin's state for one Locust environment (``environment.fwload``)."""

    def __init__(self, environment: Environment):
        self.environment = environment
        self.live = LiveStats()
        self.resources = LatestResources()
        self.recorder = Recorder(environment, self.live).register()
        self.arrivals = ArrivalDriver(environment)
        self.scenario: Scenario | None = None
        self.run: RunDirectory | None = None
        self.collector: Any = None
        self.watch: Watch | None = None
        self.active = False
        self.failed: FwloadError | None = None
        self.exit_code: int | None = None
        self.form_overrides: dict[str, Any] = {}
        """Scenario overrides from the web UI's start form (users, spawn_rate, duration), for the next test."""
        self.interrupted: str | None = None
        """Why the test was stopped before its end (Ctrl-C, SIGTERM, fwload gone), if it was."""
        self.lifetime = Lifetime(self)
        self.stage = ""
        events = environment.events
        events.test_start.add_listener(self.on_test_start)
        events.test_stopping.add_listener(self.on_test_stopping)
        events.test_stop.add_listener(self.on_test_stop)
        events.quitting.add_listener(self.on_quitting)
        events.reset_stats.add_listener(self.on_reset_stats)

    @classmethod
    def attach(cls, environment: Environment) -> FwloadSession:
        session = cls(environment)
        environment.fwload = session  # type: ignore[attr-defined]
        session.lifetime.install()
        return session

    @property
    def options(self) -> Any:
        return self.environment.parsed_options

    @property
    def is_worker(self) -> bool:
        return isinstance(self.environment.runner, WorkerRunner)

    # -- beginning --------------------------------------------------------------------------

    def begin(self) -> bool:
        """Set the test up on the master/local runner; False means it must not start."""
        if self.active:
            return True
        if self.failed is not None or self.interrupted is not None:
            return False
        self.live.reset()
        try:
            self._begin()
        except FwloadError as error:
            self._refuse(error)
            return False
        except Exception as error:  # noqa: BLE001 - a bug must still end the test cleanly
            logger.exception("fwload: the test could not start")
            self._refuse(FwloadError(f"the test could not start: {error!r}", "report this as a bug"))
            return False
        self.active = True
        return True

    def _begin(self) -> None:
        opts = self.options
        self.scenario = load_scenario(opts.scenario) if getattr(opts, "scenario", "") else None
        if self.scenario is not None and self.form_overrides:
            self.scenario = with_overrides(self.scenario, **self.form_overrides)
        host = preflight.check_host(self.environment.host or (self.scenario.target.host if self.scenario else None))
        self.environment.host = host
        if self.scenario is not None:
            apply_scenario(self.environment, self.scenario)
        users_file = self._users_file()
        configure_auth(self._auth_mode(), users_file)
        prepare_uploads(self.environment, opts.fixtures_dir)
        self.run = self._open_run_dir(host)
        if self.scenario is not None:
            self.run.write_text(schema.SCENARIO_YAML, self.scenario.dump_resolved())
            if self.scenario.faults.active and not getattr(opts, "run_dir", ""):
                notice = ("the scenario's faults: are not injected: only `fwload run` arms them, "
                          "on the local stand-in they start")
                logger.warning("fwload: %s", notice)
                self.run.event("notice", source="scenario", detail=notice)
        collector = make_session_collector(self)
        if not opts.skip_preflight:
            self._preflight(host, collector)
        self.collector = start_collector(self, collector) if collector is not None else None
        self.recorder.start(self.run)
        self.watch = Watch(self)
        self.watch.start()
        self.run.event("run_start", scenario=self.scenario.name if self.scenario else "",
                       host=preflight.safe_url(host), user_classes=[c.__name__ for c in self.environment.user_classes])

    def _users_file(self) -> str | None:
        if getattr(self.options, "users_file", ""):
            return self.options.users_file
        if self.scenario is not None and self.scenario.target.users_file is not None:
            return str(self.scenario.target.users_file)
        return None

    def _auth_mode(self) -> str:
        if getattr(self.options, "auth_mode", ""):
            return self.options.auth_mode
        return self.scenario.target.auth if self.scenario is not None else "token"

    def _open_run_dir(self, host: str) -> RunDirectory:
        opts = self.options
        meta = {
            "host": preflight.safe_url(host),
            "scenario": {"name": self.scenario.name if self.scenario else "",
                         "file": str(Path(opts.scenario).resolve()) if getattr(opts, "scenario", "") else ""},
            "locust": {"version": locust.__version__, "headless": bool(opts.headless),
                       "workers": self._worker_count(), "user_classes": [c.__name__ for c in self.environment.user_classes]},
            "fwload_version": fwload.__version__,
            "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        }
        if getattr(opts, "run_dir", ""):
            run = RunDirectory.open(opts.run_dir)
            existing = run.read_meta()
            fresh = {k: v for k, v in meta.items() if not existing.get(k)}
            run.update_meta(**{**fresh, "locust": meta["locust"], "status": "running"})
            return run
        label = self.scenario.name if self.scenario else "adhoc"
        return RunDirectory.create(opts.reports_dir or "reports", label, meta)

    def _worker_count(self) -> int:
        runner = self.environment.runner
        return len(runner.clients.ready + runner.clients.running + runner.clients.spawning) \
            if isinstance(runner, MasterRunner) else 0

    def _preflight(self, host: str, collector: Any) -> None:
        assert self.run is not None
        deadline = self.scenario.target.ready_timeout if self.scenario else 60.0
        readiness = preflight.check_readiness(host, deadline, collector, sleep=gevent.sleep)
        self.run.event("readiness", **readiness.as_event())
        self.run.events({"ts": time.time(), "type": "startup_failure", **failure}
                        for failure in preflight.startup_failures(readiness))
        self.run.update_meta(readiness=readiness.as_event(), target={"version": readiness.nodeinfo.get("version", "")})
        preflight.require_ready(readiness, host, deadline, collector)
        if notice := preflight.shared_cpu_notice(host, local_standin=bool(getattr(self.options, "local_pids", ""))):
            logger.warning("fwload: %s", notice)
            self.run.event("notice", source="preflight", detail=notice)
        accounts = FwloadSession._accounts()
        peak = self.scenario.load.peak_users if self.scenario else int(getattr(self.options, "num_users", 0) or 1)
        plan = preflight.AuthPlan(self._auth_mode(), accounts, peak, max(self._worker_count(), 1))
        for notice in preflight.check_credentials(host, readiness.nodeinfo, accounts) + \
                preflight.throttling_notices(host, plan) + preflight.check_audio_serving(host, accounts):
            logger.warning("fwload: %s", notice)
            self.run.event("notice", source="preflight", detail=notice)

    @staticmethod
    def _accounts() -> list[Any] | None:
        from fwload.users.base import FunkwhaleUser

        pool = FunkwhaleUser.auth_settings.accounts
        return pool.peek() if pool is not None else None

    def _refuse(self, error: FwloadError) -> None:
        """Report a test that cannot start: one message, the right exit code, no load."""
        self.failed = error
        logger.error("fwload: error: %s", error)
        self.exit_code = int(error.status)
        self.environment.process_exit_code = self.exit_code
        if self.run is not None:
            if error.status == ExitStatus.NOT_READY:
                self.run.finalize("not_ready", exit_code=self.exit_code)
            else:
                self.run.refuse(error.problem, error.fix, self.exit_code)

    def interrupt(self, reason: str, *, then_exit: bool = False) -> None:
        """Stop the test before its end (a stop request, SIGTERM): it is closed as ``interrupted``.

        ``then_exit``: the process exits as soon as the run directory is closed (fwload is gone).
        """
        first = self.interrupted is None
        self.interrupted = self.interrupted or reason
        if first:
            logger.warning("fwload: %s: stopping the users and closing the run directory", reason)
        if first or then_exit:
            gevent.spawn(self._stop_interrupted, then_exit)

    def _stop_interrupted(self, then_exit: bool) -> None:
        try:
            self.environment.runner.quit()
        finally:
            if then_exit:
                os._exit(int(ExitStatus.INTERRUPTED))

    # -- stages --------------------------------------------------------------------------

    def load_started(self, at: float) -> None:
        """The load shape's clock starts (epoch ``at``): an arrivals run's sessions count from it."""
        self.arrivals.begin(self.scenario, at)

    def stage_changed(self, name: str, users: int, spawn_rate: float, ts: float | None = None,
                      **extra: Any) -> None:
        self.stage = name
        if self.run is not None:
            self.run.event("stage", ts=ts, stage=name, users=users, spawn_rate=spawn_rate, **extra)

    # -- Locust events -----------------------------------------------------------------

    def on_test_start(self, environment: Environment, **_kwargs: Any) -> None:
        if self.is_worker:
            self._prepare_worker()
        elif not self.active and self.failed is None:
            self.begin()

    def _prepare_worker(self) -> None:
        """Workers get the master's options with the spawn message: mirror its scenario."""
        opts = self.options
        try:
            scenario = load_scenario(opts.scenario) if getattr(opts, "scenario", "") else None
            if scenario is not None:
                apply_scenario(self.environment, scenario)
            self.scenario = scenario
            configure_auth(self._auth_mode(), self._users_file(), self.environment.runner.worker_index)
            prepare_uploads(self.environment, opts.fixtures_dir)
            self.arrivals.prepare(scenario)
        except FwloadError as error:
            logger.error("fwload: error on worker: %s", error)

    def on_test_stopping(self, environment: Environment, **_kwargs: Any) -> None:
        if not self.is_worker and self.active and not self.lifetime.hurried:  # orphaned workers are dying
            self.recorder.drain_workers()

    def on_test_stop(self, environment: Environment, **_kwargs: Any) -> None:
        if self.is_worker or not self.active or self.run is None:
            return
        self.active = False
        if self.watch is not None:
            self.watch.stop()
        if self.collector is not None:
            self.collector.stop()
        self.recorder.flush()
        self._write_locust_stats()
        self._let_locust_csv_catch_up()
        interrupted = self.interrupted is not None
        if self.watch is not None and self.watch.aborted:
            status = "aborted"
        elif interrupted:
            status = "interrupted"
            self.run.event("interrupted", detail=self.interrupted)
        else:
            status = "complete"
        self.run.finalize(status, exit_code=int(ExitStatus.INTERRUPTED) if interrupted else None)
        if not self.options.no_report:
            verdict = build_reports(self.run.path)
            self.exit_code = int(ExitStatus.INTERRUPTED) if interrupted else verdict
            self.run.update_meta(exit_code=self.exit_code)
        elif interrupted:
            self.exit_code = int(ExitStatus.INTERRUPTED)
        logger.info("fwload: run directory %s", self.run.path)

    def _let_locust_csv_catch_up(self) -> None:
        """Locust's ``--csv`` files are rewritten once a second by a greenlet and not again at
        exit: the requests of the users just stopped (a real-time play is reported when it
        ends) would be missing from them. One more interval of that greenlet puts them in."""
        if getattr(self.options, "csv_prefix", None):
            from locust.stats import CSV_STATS_INTERVAL_SEC

            gevent.sleep(CSV_STATS_INTERVAL_SEC + 0.1)

    def _write_locust_stats(self) -> None:
        """Copy Locust's statistics into the run directory, leaving them intact for Locust.

        Locust writes its own ``--json-file``, ``--csv`` and ``--html`` after ``test_stop``
        from the same statistics. ``locust.stats.save_stats_json`` serializes with
        ``RequestStats.serialize_stats``, which *resets* every entry (it is the worker's
        report-and-clear): calling it here emptied the user's ``--json-file`` (``[]``)
        and zeroed the HTML report. The entries are serialized without the reset instead.
        """
        import csv

        from locust.stats import PERCENTILES_TO_REPORT, StatsCSV

        assert self.run is not None
        folder = self.run.path / schema.LOCUST_DIR
        folder.mkdir(exist_ok=True)
        writer = StatsCSV(self.environment, PERCENTILES_TO_REPORT)
        for name, method in (("requests.csv", writer.requests_csv), ("failures.csv", writer.failures_csv),
                             ("exceptions.csv", writer.exceptions_csv)):
            with open(folder / name, "w", newline="", encoding="utf-8") as file:
                method(csv.writer(file))
        entries = [entry.serialize() for entry in self.environment.runner.stats.entries.values()
                   if entry.num_requests or entry.num_failures]
        write_atomic(folder / "stats.json", json.dumps(entries, indent=4))

    def on_quitting(self, environment: Environment, **_kwargs: Any) -> None:
        if self.is_worker:
            return
        if self.active:
            self.interrupted = self.interrupted or "Locust quit while the test was running"
            self.on_test_stop(environment)
        if self.exit_code is not None and environment.process_exit_code is None:
            environment.process_exit_code = self.exit_code

    def on_reset_stats(self, **_kwargs: Any) -> None:
        self.live.reset()
        if self.run is not None and self.active:
            self.run.event("stats_reset")

    def prepare_next_test(self) -> None:
        """Forget the last test's refusal, exit code and drained workers before the web UI starts another.

        One web UI process runs test after test: a refused start (a target not up yet) must
        not refuse every later one, and each test drains its workers afresh.
        """
        if self.active:
            return
        self.failed = None
        self.exit_code = None
        self.environment.process_exit_code = None
        self.recorder.drained.clear()

