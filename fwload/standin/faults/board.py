"""The fault plan in force, shared by every process of one stand-in through a file in its data directory.

Embedded mode is one process, but stack mode has several API workers and a Celery worker,
and a restart starts a new process: a plan switched on through the admin endpoint must
reach all of them. Each process rereads the file when it changes (checked at most every
`POLL_S`), so a change applies everywhere within a fraction of a second.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
import time
from pathlib import Path

from pydantic import ValidationError

from fwload.common.faults import Faults

log = logging.getLogger("fwload.standin.faults")

POLL_S = 0.2
PLAN_FILE = "plan.json"


class FaultBoard:
    """``current()`` gives the plan and the seconds since it was armed (the time base of every window)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._path = folder / PLAN_FILE
        self._plan = Faults()
        self._armed_at = time.time()
        self._seen: tuple[int, int] | None = None
        self._checked = 0.0
        self._lock = threading.Lock()

    def arm(self, plan: Faults, armed_at: float | None = None) -> None:
        """Put ``plan`` in force from now (or ``armed_at``) for every process of this stand-in."""
        armed_at = time.time() if armed_at is None else armed_at
        self.folder.mkdir(parents=True, exist_ok=True)
        text = json.dumps({"plan": plan.model_dump(mode="json", by_alias=True), "armed_at": armed_at})
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=f".{PLAN_FILE}.")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as file:
                file.write(text)
            os.replace(tmp, self._path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        with self._lock:
            self._plan, self._armed_at = plan, armed_at
            self._seen = self._stamp()
            self._checked = time.monotonic()

    def current(self) -> tuple[Faults, float]:
        """(plan, seconds since armed); rereads the shared file when another process changed it."""
        now = time.monotonic()
        if now - self._checked >= POLL_S:
            self._checked = now
            stamp = self._stamp()
            if stamp != self._seen:
                self._reload(stamp)
        return self._plan, time.time() - self._armed_at

    def _stamp(self) -> tuple[int, int] | None:
        try:
            info = self._path.stat()
        except FileNotFoundError:
            return None
        return info.st_ino, info.st_mtime_ns

    def _reload(self, stamp: tuple[int, int] | None) -> None:
        with self._lock:
            self._seen = stamp
            if stamp is None:
                self._plan = Faults()
                return
            try:
                data = json.loads(self._path.read_text(encoding="utf-8"))
                self._plan, self._armed_at = Faults.model_validate(data["plan"]), float(data["armed_at"])
            except (OSError, ValueError, KeyError, TypeError, ValidationError):
                log.exception("unreadable fault plan %s: keeping the previous one", self._path)
