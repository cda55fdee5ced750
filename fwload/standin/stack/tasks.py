"""What ``celery --app fwload.standin.stack.tasks`` runs: the import task and beat's cleanup.

``music.process_upload`` calls the same `Importer` the embedded thread queue calls. The
database engine is made on the first task, in the pool process (after the fork), as
SQLAlchemy requires: a connection must never cross a fork.

Funkwhale's task holds Django's ORM, the file and its metadata, about 20 MiB more than an
idle worker (funkwhale-under-seed-limits.md §5: 161 -> 182 MiB charged); the stand-in's
importer is much lighter, so each task also touches ``FWLOAD_STACK_TASK_MEMORY_MB`` of
memory while it runs, which makes a worker's memory limit bite as it would for real.
"""

from __future__ import annotations

import functools
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from fwload.standin.backends.import_queue import RETRY_DEFERRED_S, ImportDeferred
from fwload.standin.stack.celery_config import PROCESS_UPLOAD, PRUNE_PARTIAL_FILES, make_celery
from fwload.standin.stack.environment import BEAT_INTERVAL_ENV, TASK_MEMORY_ENV, settings_from_environment

if TYPE_CHECKING:
    from celery import Task

log = logging.getLogger("fwload.standin.tasks")

PARTIAL_FILE_AGE_S = 3600.0
"""A ``.part`` file untouched this long belongs to an upload whose request died."""

settings = settings_from_environment()
app = make_celery(settings, beat_interval_s=float(os.environ.get(BEAT_INTERVAL_ENV, "60")))


@functools.cache
def _importer() -> Callable[[int], None]:
    """Built on the first task: the heavy imports stay out of the worker's main process. Import
    faults (slow, failing, stuck, a dead worker) wrap it as in the embedded mode."""
    from fwload.standin.backends.media import MediaStorage
    from fwload.standin.db.engine import Database
    from fwload.standin.domain.importer import Importer
    from fwload.standin.faults.imports import FaultyImport

    importer = Importer(Database(settings.resolved_database_url()), MediaStorage(settings.media_root))
    return FaultyImport.for_settings(importer, settings)


def _task_memory_bytes() -> int:
    return int(float(os.environ.get(TASK_MEMORY_ENV, "0")) * 1024 * 1024)


@app.task(name=PROCESS_UPLOAD, bind=True, max_retries=None)
def process_upload(self: Task, upload_id: int) -> None:
    """Import one upload (a crash leaves it pending, as on Funkwhale 1.4); a fault that defers the
    import (a dead worker) puts it back in the queue."""
    working_set = bytearray(_task_memory_bytes())
    for offset in range(0, len(working_set), 4096):
        working_set[offset] = 1
    try:
        _importer()(upload_id)
    except ImportDeferred as deferred:
        raise self.retry(countdown=RETRY_DEFERRED_S) from deferred
    finally:
        del working_set


@app.task(name=PRUNE_PARTIAL_FILES)
def prune_partial_files() -> int:
    """Delete half-written upload files left by requests that died (beat runs it periodically)."""
    cutoff = time.time() - PARTIAL_FILE_AGE_S
    removed = 0
    for path in Path(settings.media_root).glob("tracks/*/*/*/*.part"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except FileNotFoundError:
            continue
    if removed:
        log.info("removed %d partial upload files", removed)
    return removed
