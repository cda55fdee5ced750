"""The Celery application as Funkwhale 1.4 configures it: Redis broker, default queue, 1 task/s.

Funkwhale declares no queues (everything goes to ``celery``), keeps no results, limits
each task to 300 s and sets ``CELERY_TASK_DEFAULT_RATE_LIMIT=1``: one worker starts about
one import per second (funkwhale-api.md §6). Every key the broker writes carries the
stand-in's Redis prefix, so two stand-ins can share one Redis server without stealing
each other's tasks.
"""

from __future__ import annotations

from celery import Celery

from fwload.standin.settings import StandinSettings

PROCESS_UPLOAD = "music.process_upload"
PRUNE_PARTIAL_FILES = "standin.prune_partial_files"


def make_celery(settings: StandinSettings, *, beat_interval_s: float = 60.0) -> Celery:
    """A Celery app for the API (to send tasks) and the worker and beat (to run them)."""
    if not settings.redis_url:
        raise ValueError("import_queue='celery' needs redis_url")
    app = Celery("fwload_standin", set_as_current=False)
    app.conf.update(
        broker_url=settings.redis_url,
        broker_transport_options={"global_keyprefix": f"{settings.redis_prefix}:celery:"},
        broker_connection_retry_on_startup=True,
        task_default_rate_limit=f"{settings.import_rate:g}/s",
        task_time_limit=300,
        task_ignore_result=True,
        result_backend=None,
        timezone="UTC",
        enable_utc=True,
        worker_hijack_root_logger=True,
        worker_redirect_stdouts=False,
        beat_schedule={
            "prune-partial-files": {
                "task": PRUNE_PARTIAL_FILES,
                "schedule": beat_interval_s,
                "options": {"expires": max(beat_interval_s, 1.0)},
            },
        },
    )
    return app
