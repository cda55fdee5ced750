"""Every knob of the stand-in, in one pydantic model.

Embedded mode (one process, SQLite, an in-process import thread, audio served directly)
is the default. Stack mode reuses the same app with other values here: a PostgreSQL URL,
Redis for sessions, a Celery queue for imports, ``x-accel-redirect`` audio behind nginx.
Each backend is picked by one field, so the app code never asks which mode it runs in.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from fwload.common.faults import Faults
from fwload.errors import UsageError

DJANGO_PBKDF2_ITERATIONS = 260_000
"""What Django 3.2 (Funkwhale 1.4) uses, so HTTP Basic costs what it costs for real."""


class StandinSettings(BaseModel):
    """How one stand-in server is built and behaves."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str = Field("127.0.0.1", description="Address to listen on.")
    port: Annotated[int, Field(ge=0, le=65535)] = Field(0, description="TCP port; 0 picks a free one.")
    public_url: str | None = Field(
        None,
        description="FUNKWHALE_URL: the base of fids and nodeinfo links; default http://<host>:<bound port>.",
    )
    data_dir: Path = Field(description="Holds the SQLite database and media/ (uploaded files).")
    database_url: str | None = Field(
        None, description="SQLAlchemy URL; default sqlite:///<data_dir>/standin.sqlite3 (WAL mode)."
    )
    cache: Literal["memory", "redis"] = Field(
        "memory", description="Where sessions live: 'memory' (this process) or 'redis' (stack mode)."
    )
    import_queue: Literal["thread", "celery"] = Field(
        "thread", description="What runs imports: 'thread' (in-process worker) or 'celery' (stack mode)."
    )
    redis_url: str | None = Field(
        None, description="Redis for cache='redis' and the Celery broker (CACHE_URL in Funkwhale); stack mode."
    )
    redis_prefix: str = Field(
        "fwload", pattern=r"^[\w.-]+$", description="Prefix of every Redis key, so stand-ins can share a server."
    )
    import_rate: Annotated[float, Field(gt=0, le=1000)] = Field(
        1.0, description="Imports started per second at most, like Celery's default rate limit of 1/s."
    )
    audio_serving: Literal["direct", "x-accel-redirect"] = Field(
        "direct",
        description="'direct' streams files with Range support; 'x-accel-redirect' answers with an empty "
        "body and the header nginx needs (only behind nginx).",
    )
    protected_path: str = Field("/_protected", description="PROTECT_FILES_PATH for X-Accel-Redirect.")
    ffmpeg: str = Field(
        "ffmpeg",
        description="ffmpeg program transcoding listens that ask to= or max_bitrate= (a name on PATH or a "
        "path); '' turns transcoding off. Without it the original file is served.",
    )
    registration_open: bool = Field(
        True, description="Initial users__registration_enabled (real Funkwhale defaults to closed)."
    )
    admin_username: str = Field("admin", pattern=r"^\w+$", description="The superuser created at start.")
    admin_password: SecretStr = Field(
        default_factory=lambda: SecretStr(secrets.token_urlsafe(18)),
        description="Its password (generated unless given).",
    )
    secret_key: SecretStr = Field(
        default_factory=lambda: SecretStr(secrets.token_urlsafe(48)),
        description="Signs listen tokens; share it between processes in stack mode.",
    )
    password_iterations: Annotated[int, Field(ge=1)] = Field(
        DJANGO_PBKDF2_ITERATIONS, description="PBKDF2-SHA256 rounds per password hash or check."
    )
    upload_quota_mb: Annotated[int, Field(ge=0)] = Field(
        1000, description="Initial users__upload_quota in MB (10^6 bytes), as real Funkwhale."
    )
    max_body_bytes: Annotated[int, Field(gt=0)] = Field(
        100 * 1024 * 1024, description="Bodies above this get 413, as nginx's client_max_body_size 100M."
    )
    faults: Faults | None = Field(
        None,
        description="Faults armed at start for every process of this stand-in (fwload.standin.faults); "
        "None keeps what its data directory holds (a restart, stack mode's workers).",
    )

    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'standin.sqlite3'}"

    @property
    def media_root(self) -> Path:
        return self.data_dir / "media"


def build_settings(**values: object) -> StandinSettings:
    """Settings from CLI or API values; a bad value is one UsageError naming the option."""
    try:
        return StandinSettings(**values)  # type: ignore[arg-type]
    except ValidationError as error:
        first = error.errors()[0]
        option = "--" + "-".join(str(part) for part in first["loc"]).replace("_", "-")
        raise UsageError(f"{option}: {first['msg']}", f"see `fwload standin --help` for {option}") from None
