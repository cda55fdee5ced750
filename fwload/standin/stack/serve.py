"""Running the stack in the foreground until SIGTERM or Ctrl-C, then leaving nothing behind.

The first SIGINT or SIGTERM starts the stop; any further one is ignored until the stop has
finished, so an impatient second Ctrl-C cannot leave processes, cgroups or a database
behind. The components are in their own sessions: the terminal's Ctrl-C reaches only
this process, which stops them in order. SIGUSR1 asks for an API restart (a fault the
launcher injects, `fwload.standin.stack.restart`); the watch loop does it, so a stop
signal during a restart still stops everything.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

from fwload.errors import FwloadError
from fwload.standin.settings import StandinSettings
from fwload.standin.stack.options import StackOptions
from fwload.standin.stack.restart import RESTART_SIGNAL, RestartRequest, RestartRequests
from fwload.standin.stack.stack import Stack

WATCH_INTERVAL_S = 0.5


class _StopOnce:
    """The first SIGINT/SIGTERM raises (Ctrl-C -> KeyboardInterrupt); later ones are ignored."""

    def __init__(self) -> None:
        self.stopping = False

    def __call__(self, signum: int, _frame: FrameType | None) -> None:
        if self.stopping:
            return
        self.stopping = True
        if signum == signal.SIGINT:
            raise KeyboardInterrupt
        raise SystemExit(0)


def serve_stack(
    settings: StandinSettings,
    options: StackOptions,
    announce: Callable[[StandinSettings, dict[str, Any]], None],
    notify: Callable[[str], None],
) -> None:
    """Start the stack, hand its description to `announce`, watch it until told to stop."""
    handler = _StopOnce()
    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    restarts = RestartRequests(settings.data_dir)
    previous[RESTART_SIGNAL] = restarts.install()
    stack = Stack(settings, options, notify=notify)
    try:
        resolved = stack.start()
        announce(resolved, stack.describe())
        while True:
            time.sleep(WATCH_INTERVAL_S)
            request = restarts.take()
            if request is not None:
                error = _restart_api(stack, request, notify)
                restarts.answer(request, stack.describe(), error)
            for message in stack.newly_dead():
                notify(message)
    finally:
        handler.stopping = True
        for problem in stack.stop():
            notify(f"warning: {problem}")
        for sig, old in previous.items():
            signal.signal(sig, old)


def _restart_api(stack: Stack, request: RestartRequest, notify: Callable[[str], None]) -> str:
    """Restart the API; what went wrong, or "" once it is back."""
    notify(f"restarting the api ({request.down_s:g} s down)")
    try:
        stack.restart_api(request.down_s)
    except FwloadError as error:
        notify(f"the api did not restart: {error.problem}")
        return error.problem
    notify(f"api restarted: pid {stack.components['api'].pid}")
    return ""
