"""How a Locust process running the plugin stops: asked by fwload, by a signal, or orphaned.

Locust 2.47 headless with a shape class sits in ``shape_greenlet.join()`` before it installs
its SIGTERM handler, so a SIGTERM then kills it by the default action: no run directory
closed, no Locust outputs. The plugin therefore installs its own handlers in ``init`` and
watches the lifeline `fwload.run` handed down (`fwload.lifeline`):

- a stop request on the lifeline, SIGTERM or Ctrl-C: the run is *interrupted*; the users stop
  as they do at the end of a run (``--stop-timeout``), the run directory is closed with status
  ``interrupted`` and the partial report is written (exit code 130);
- the lifeline's end-of-file, or SIGTERM once the parent is gone (``PR_SET_PDEATHSIG``):
  fwload is gone and nobody will read this run's end, so the users are killed at once (no
  stop timeout), the directory is closed as well as can be, and the process exits within
  `HARD_EXIT_S` whatever happens. Workers (``--processes``) watch for the hang-up themselves
  and die with their master (parent-death signal), so no worker keeps loading the target.
"""

from __future__ import annotations

import logging
import os
import signal
from types import FrameType
from typing import Any

import gevent
import gevent.monkey

from fwload import lifeline
from fwload.plugin.view import SessionView
from fwload.status import ExitStatus

logger = logging.getLogger("fwload")

POLL_S = 0.2
HARD_EXIT_S = 1.5
"""Once the parent is gone, the process exits this long after, finished or not."""

LIFELINE_FD = lifeline.take()
"""Taken when the locustfile imports the plugin: before Locust forks its ``--processes`` workers,
which inherit the descriptor (and this value)."""
PARENT_PID = os.getppid()
"""The master's parent (fwload, or a shell)."""
MASTER_PID = os.getpid()
"""The process that imported the plugin: the parent of the workers it forks."""


def parent_gone() -> bool:
    """This process's parent is gone (a worker's is its master), or whoever holds the lifeline is."""
    if os.getppid() != (MASTER_PID if os.getpid() != MASTER_PID else PARENT_PID):
        return True
    return LIFELINE_FD is not None and lifeline.hung_up(LIFELINE_FD, gevent.monkey.get_original("select", "poll"))


class Lifetime:
    """Installed once per Locust process by `install`."""

    def __init__(self, session: SessionView):
        self.session = session
        self.hurried = False

    def install(self) -> Lifetime:
        if self.session.is_worker:
            if os.getpid() != MASTER_PID:  # a --processes fork: it lives as long as its master
                lifeline.set_death_signal(signal.SIGKILL)
                if parent_gone():  # the master (or fwload) died before the signal was set
                    os._exit(int(ExitStatus.INTERRUPTED))
            if LIFELINE_FD is not None:
                gevent.spawn(self._watch_hang_up)
            return self
        if self.session.options.headless:  # the web UI's own SIGTERM handler is installed before any test
            gevent.signal_handler(signal.SIGTERM, self._on_sigterm)
        if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            signal.signal(signal.SIGINT, self._on_sigint)
        if LIFELINE_FD is not None:
            gevent.spawn(self._watch_requests)
        return self

    # -- what stops the run --------------------------------------------------------------

    def _on_sigterm(self) -> None:
        if parent_gone():
            self.orphaned("SIGTERM after the fwload process that started Locust died")
        else:
            self.session.interrupt("stopped by SIGTERM")

    def _on_sigint(self, signum: int, frame: FrameType | None) -> None:
        """Ctrl-C on plain ``locust``: Locust stops on the KeyboardInterrupt; the run is marked first."""
        self.session.interrupted = self.session.interrupted or "stopped by Ctrl-C"
        signal.default_int_handler(signum, frame)

    def _watch_requests(self) -> None:
        assert LIFELINE_FD is not None
        while True:
            gevent.sleep(POLL_S)
            request = lifeline.read_request(LIFELINE_FD)
            if request == "stop":
                self.session.interrupt("stopped by fwload (Ctrl-C or SIGTERM)")
            elif request == "gone":
                self.orphaned("the fwload process that started Locust is gone")
                return

    def _watch_hang_up(self) -> None:
        assert LIFELINE_FD is not None
        while not parent_gone():
            gevent.sleep(POLL_S)
        self.orphaned("the fwload process that started Locust is gone")

    def orphaned(self, reason: str) -> None:
        """Stop loading the target now; exit within `HARD_EXIT_S`."""
        if self.hurried:
            return
        self.hurried = True
        logger.error("fwload: %s: stopping the load now", reason)
        _exit_after(HARD_EXIT_S, int(ExitStatus.INTERRUPTED))
        environment = self.session.environment
        environment.stop_timeout = 0
        if self.session.is_worker:
            gevent.spawn(_quit_and_exit, environment.runner)
        else:
            self.session.interrupt(reason, then_exit=True)


def _quit_and_exit(runner: Any) -> None:
    try:
        runner.quit()
    finally:
        os._exit(int(ExitStatus.INTERRUPTED))


def _exit_after(seconds: float, code: int) -> None:
    """A real thread (gevent patches `threading`), so a blocked hub cannot delay the exit."""
    start_thread = gevent.monkey.get_original("_thread", "start_new_thread")
    sleep = gevent.monkey.get_original("time", "sleep")

    def exit_later() -> None:
        sleep(seconds)
        os._exit(code)

    start_thread(exit_later, ())
