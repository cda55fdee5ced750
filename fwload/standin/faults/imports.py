"""The import task under faults: slower, failing, stuck, or not run at all because the worker is dead.

It wraps the import function itself (Funkwhale's ``music.process_upload``), which both
modes run: the embedded import thread and stack mode's Celery task. A dead worker raises
`ImportDeferred`: the queue keeps the upload and tries again later, so uploads pile up
``pending`` as behind a dead Celery worker, and are imported if the worker comes back.
"""

from __future__ import annotations

import logging

from fwload.standin.backends.cache import MemoryCache
from fwload.standin.backends.import_queue import ImportDeferred
from fwload.standin.domain.importer import Importer
from fwload.standin.faults.runtime import FaultRuntime
from fwload.standin.settings import StandinSettings

log = logging.getLogger("fwload.standin.faults")

FAILED_DETAIL = "Import failed (fault injected by fwload)"
IMPORTS = "imports"
"""The counts' pseudo-group for import tasks: ran, delayed, failed, stuck, deferred (a dead worker's try)."""


class FaultyImport:
    """Callable with an upload id, like the `Importer` it wraps."""

    def __init__(self, importer: Importer, runtime: FaultRuntime) -> None:
        self.importer = importer
        self.runtime = runtime

    @classmethod
    def for_settings(cls, importer: Importer, settings: StandinSettings) -> FaultyImport:
        """For a process that only imports (stack mode's Celery worker): the faults its stand-in shares.

        Its task must turn `ImportDeferred` into a retry (``raise task.retry(countdown=RETRY_DEFERRED_S)``).
        """
        return cls(importer, FaultRuntime.for_data_dir(settings.data_dir, MemoryCache()))

    def __call__(self, upload_id: int) -> None:
        """Run, delay, fail, skip or defer the import; the counts (group ``imports``) say which."""
        plan, elapsed = self.runtime.plan()
        count = self.runtime.counts.add
        if plan.worker is not None and plan.worker.dead(elapsed):
            count(IMPORTS, "deferred")
            raise ImportDeferred("the import worker is dead (fault injection)")
        faults = plan.imports
        if faults is not None and faults.active(elapsed):
            draw = self.runtime.rng.random()
            if draw < faults.stuck:
                count(IMPORTS, "stuck")
                log.info("upload %s left pending (fault injection)", upload_id)
                return
            if draw < faults.stuck + faults.fail:
                count(IMPORTS, "failed")
                self.importer.fail(upload_id, faults.error_code, FAILED_DETAIL)
                return
            if faults.delay is not None:
                count(IMPORTS, "delayed")
                if self.runtime.closing.wait(faults.delay.seconds(self.runtime.rng)):
                    raise ImportDeferred("the stand-in is stopping")
        self.importer(upload_id)
        count(IMPORTS, "ran")
