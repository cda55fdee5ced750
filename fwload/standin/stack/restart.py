"""Asking a running stack to restart its API, from the launcher, which is another process.

The launcher writes a request (an id and the seconds to stay down) in the stand-in's data
directory and sends SIGUSR1 to the stack process; the stack's watch loop, woken by the
signal, restarts its ``api`` component and writes the answer beside the request: the
stack's new description (the new API PID) and an error, empty when the API is back. The
signal alone triggers a restart, so a request left behind by a stand-in that was killed
is never acted upon; the id ties an answer to its request, so a stale answer is never
taken for a new one. Files rather than the stack's stdout: ``fwload standin`` owns that.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from fwload.common.files import write_atomic
from fwload.errors import FwloadError

RESTART_SIGNAL = signal.SIGUSR1
REQUEST_FILE = "api-restart-request.json"
ANSWER_FILE = "api-restart-answer.json"
POLL_S = 0.1


@dataclass(frozen=True)
class RestartRequest:
    id: str
    down_s: float


def ask_api_restart(stack_pid: int, data_dir: Path, down_s: float, *, timeout_s: float,
                    alive: Callable[[], bool]) -> dict[str, Any]:
    """Restart the API of the stack `stack_pid` serves from `data_dir`; its answer
    (``description``, ``error``), or FwloadError when it never answers within `timeout_s`."""
    request = RestartRequest(secrets.token_hex(8), down_s)
    (data_dir / ANSWER_FILE).unlink(missing_ok=True)
    write_atomic(data_dir / REQUEST_FILE, json.dumps({"id": request.id, "down_s": down_s}))
    os.kill(stack_pid, RESTART_SIGNAL)
    deadline = time.monotonic() + timeout_s
    while True:
        answer = _read(data_dir / ANSWER_FILE)
        if answer.get("id") == request.id:
            return answer
        if not alive():
            raise FwloadError("the stack stopped while its API was restarting",
                              "run `fwload standin --mode stack` by hand to see why")
        if time.monotonic() >= deadline:
            raise FwloadError(f"the stack did not restart its API within {timeout_s:g} s",
                              "give it more time (--ready-timeout) or run `fwload standin --mode stack` "
                              "by hand to see why")
        time.sleep(POLL_S)


class RestartRequests:
    """The stack's side: `install` the signal handler, `take` a signalled request once, `answer` it."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self._signalled = False

    def install(self) -> Any:
        """Returns the previous handler (SIGUSR1 would otherwise end the process)."""
        return signal.signal(RESTART_SIGNAL, self._wake)

    def _wake(self, _signum: int, _frame: FrameType | None) -> None:
        self._signalled = True

    def take(self) -> RestartRequest | None:
        if not self._signalled:
            return None
        self._signalled = False
        path = self.data_dir / REQUEST_FILE
        raw = _read(path)
        path.unlink(missing_ok=True)
        try:
            return RestartRequest(str(raw["id"]), float(raw["down_s"]))
        except (KeyError, TypeError, ValueError):
            return None

    def answer(self, request: RestartRequest, description: dict[str, Any], error: str) -> None:
        write_atomic(self.data_dir / ANSWER_FILE,
                     json.dumps({"id": request.id, "description": description, "error": error}))


def _read(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}
