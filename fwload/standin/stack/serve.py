"""Running the stack in the foreground until SIGTERM or Ctrl-C, then leaving nothing behind.

The first SIGINT or SIGTERM starts the stop; any further one is ignored until the stop has
finished, so an impatient second Ctrl-C cannot leave processes, cgroups or a database
behind. The components are in their own sessions: the terminal's Ctrl-C reaches only
this process, which stops them in order.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

from fwload.standin.settings import StandinSettings
from fwload.standin.stack.options import StackOptions
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
    stack = Stack(settings, options, notify=notify)
    try:
        resolved = stack.start()
        announce(resolved, stack.describe())
        while True:
            time.sleep(WATCH_INTERVAL_S)
            for message in stack.newly_dead():
                notify(message)
    finally:
        handler.stopping = True
        for problem in stack.stop():
            notify(f"warning: {problem}")
        for sig, old in previous.items():
            signal.signal(sig, old)
