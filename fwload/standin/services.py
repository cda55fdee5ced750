"""Everything a request handler needs, built once from the settings.

The app reaches storage, cache, import queue and audio serving only through this object,
so stack mode changes what `Services.build` picks, never the handlers.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from fwload.standin.api.shapes import Instance
from fwload.standin.backends.audio import AudioServing, make_audio_serving
from fwload.standin.backends.cache import Cache, make_cache
from fwload.standin.backends.ffmpeg import Ffmpeg
from fwload.standin.backends.import_queue import ImportQueue, make_import_queue
from fwload.standin.backends.media import MediaStorage
from fwload.standin.db.engine import Database
from fwload.standin.domain import preferences, users
from fwload.standin.domain.importer import Importer, pending_upload_ids
from fwload.standin.domain.transcoding import Transcoding
from fwload.standin.faults.imports import FaultyImport
from fwload.standin.faults.runtime import FaultRuntime
from fwload.standin.security.passwords import PasswordHasher
from fwload.standin.security.tokens import ListenTokens
from fwload.standin.settings import StandinSettings

log = logging.getLogger("fwload.standin")


@dataclass
class Services:
    settings: StandinSettings
    instance: Instance
    db: Database
    cache: Cache
    media: MediaStorage
    audio: AudioServing
    hasher: PasswordHasher
    listen_tokens: ListenTokens
    imports: ImportQueue
    faults: FaultRuntime
    transcoding: Transcoding

    @classmethod
    def build(cls, settings: StandinSettings) -> Services:
        if settings.public_url is None:
            raise ValueError("public_url must be resolved (the bound port known) before building services")
        db = Database(settings.resolved_database_url())
        media = MediaStorage(settings.media_root)
        cache = _cache(settings)
        faults = FaultRuntime.for_data_dir(settings.data_dir, cache)
        return cls(
            settings=settings,
            instance=Instance(settings.public_url.rstrip("/")),
            db=db,
            cache=cache,
            media=media,
            audio=make_audio_serving(settings),
            hasher=PasswordHasher(settings.password_iterations),
            listen_tokens=ListenTokens(settings.secret_key.get_secret_value()),
            imports=_import_queue(settings, FaultyImport(Importer(db, media), faults)),
            faults=faults,
            transcoding=Transcoding(db, media, Ffmpeg(settings.ffmpeg)),
        )

    @property
    def notices(self) -> list[str]:
        """What the operator should know once, at start-up (a missing ffmpeg)."""
        return [notice for notice in (self.transcoding.ffmpeg.notice,) if notice]

    def start(self) -> None:
        """Schema, admin account, registration and quota preferences, then the import worker."""
        self.settings.media_root.mkdir(parents=True, exist_ok=True)
        self.db.create_schema()
        with self.db.begin() as conn:
            users.ensure_admin(
                conn,
                self.hasher,
                self.settings.admin_username,
                self.settings.admin_password.get_secret_value(),
            )
            preferences.set_value(conn, "users__registration_enabled", self.settings.registration_open)
            preferences.set_value(conn, "users__upload_quota", self.settings.upload_quota_mb)
        self.faults.start(self.settings.faults)
        self.imports.start()
        for upload_id in pending_upload_ids(self.db):
            self.imports.enqueue(upload_id)

    def stop(self) -> None:
        self.faults.stop()
        self.imports.stop()
        self.db.dispose()


def _cache(settings: StandinSettings) -> Cache:
    if settings.cache == "redis":
        from fwload.standin.stack.redis_cache import RedisCache

        return RedisCache.from_settings(settings)
    return make_cache(settings)


def _import_queue(settings: StandinSettings, importer: Importer) -> ImportQueue:
    """Stack mode's Celery queue is imported only when asked for (embedded mode needs no Celery)."""
    if settings.import_queue == "celery":
        from fwload.standin.stack.import_queue import CeleryImportQueue

        return CeleryImportQueue.from_settings(settings)
    return make_import_queue(settings, importer)
