"""Running imports after the upload request has answered, paced like a Celery worker.

Funkwhale 1.4 enqueues ``music.process_upload`` on Celery, whose default task rate limit
(``CELERY_TASK_DEFAULT_RATE_LIMIT=1``) lets one worker start about one import per second:
a burst of 6 uploads took 6.35 s on a real server (funkwhale-api.md §12). The thread queue
keeps that pacing so import-wait figures measured locally mean something; stack mode puts a
real Celery task behind the same `enqueue`.
"""

from __future__ import annotations

import abc
import logging
import queue
import threading
import time
from collections.abc import Callable

from fwload.standin.settings import StandinSettings

log = logging.getLogger("fwload.standin.imports")

ImportTask = Callable[[int], None]
RETRY_DEFERRED_S = 0.5


class ImportDeferred(Exception):
    """Raised by an import task that cannot run now (its worker is down): keep the upload, try again later."""


class ImportQueue(abc.ABC):
    """Accepts upload ids; runs the import task for each, later, elsewhere."""

    @abc.abstractmethod
    def start(self) -> None: ...

    @abc.abstractmethod
    def enqueue(self, upload_id: int) -> None: ...

    @abc.abstractmethod
    def stop(self) -> None: ...


class ThreadImportQueue(ImportQueue):
    """One worker thread that starts at most `rate` imports per second, in arrival order."""

    def __init__(self, task: ImportTask, rate: float) -> None:
        self._task = task
        self._interval = 1.0 / rate
        self._queue: queue.Queue[int] = queue.Queue()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._work, name="standin-import-worker", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def enqueue(self, upload_id: int) -> None:
        self._queue.put(upload_id)

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout_s)

    def _work(self) -> None:
        next_start = 0.0
        held: int | None = None
        while not self._stopping.is_set():
            try:
                upload_id = held if held is not None else self._queue.get(timeout=0.2)
            except queue.Empty:
                continue
            held = None
            delay = next_start - time.monotonic()
            if delay > 0 and self._stopping.wait(delay):
                return
            next_start = time.monotonic() + self._interval
            try:
                self._task(upload_id)
            except ImportDeferred:
                held = upload_id
                self._stopping.wait(RETRY_DEFERRED_S)
            except Exception:
                # As a crashed Celery task: the upload keeps its status (pending).
                log.exception("import of upload %s failed", upload_id)


def make_import_queue(settings: StandinSettings, task: ImportTask) -> ImportQueue:
    return {"thread": ThreadImportQueue}[settings.import_queue](task, settings.import_rate)
