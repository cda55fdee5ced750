"""The API side of Celery imports: `enqueue` sends ``music.process_upload`` to the broker.

The worker, not this process, runs the task, paced by Celery's rate limit; what the API
pays for an upload is one message to Redis, as in Funkwhale.
"""

from __future__ import annotations

from celery import Celery

from fwload.standin.backends.import_queue import ImportQueue
from fwload.standin.settings import StandinSettings
from fwload.standin.stack.celery_config import PROCESS_UPLOAD, make_celery


class CeleryImportQueue(ImportQueue):
    def __init__(self, app: Celery) -> None:
        self._app = app

    @classmethod
    def from_settings(cls, settings: StandinSettings) -> CeleryImportQueue:
        return cls(make_celery(settings))

    def start(self) -> None:
        """Nothing to start: the worker is its own process."""

    def enqueue(self, upload_id: int) -> None:
        self._app.send_task(PROCESS_UPLOAD, kwargs={"upload_id": upload_id})

    def stop(self) -> None:
        self._app.close()
