"""Every knob of stack mode, in one pydantic model (the CLI builds its help from it)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from fwload.errors import UsageError
from fwload.standin.stack.limits import LimitsMode

DEFAULT_SERVER_URL = "postgresql://postgres@127.0.0.1:5432/"


class StackOptions(BaseModel):
    """How the stack's components are run, found and confined."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    api_workers: Annotated[int, Field(ge=1, le=32)] = Field(
        2, description="gunicorn (uvicorn) API workers; 2 as in the measured real setup."
    )
    worker_concurrency: Annotated[int, Field(ge=1, le=32)] = Field(
        1, description="Celery worker pool processes (CELERYD_CONCURRENCY)."
    )
    database_url: str = Field(
        DEFAULT_SERVER_URL,
        description="PostgreSQL to use. A URL without a database name gets a throwaway database, "
        "created and dropped; with a name, that database is used as is.",
    )
    own_postgres: bool = Field(
        False, description="Run a throwaway PostgreSQL cluster (initdb) instead of using --database-url."
    )
    redis_url: str | None = Field(
        None, description="Redis to use (keys prefixed per stand-in); default: a throwaway redis-server."
    )
    limits: LimitsMode = Field(
        "none",
        description="none: no cgroups; accounting: a cgroup per component without limits (the baseline); "
        "k8s: the documented CPU and memory limits of k8s/base.",
    )
    limit_overrides: tuple[str, ...] = Field(
        (), description="Per-component changes, e.g. celery-worker=memory:40Mi or api=cpu:1,memory:256Mi."
    )
    ready_timeout_s: Annotated[float, Field(gt=0, le=3600)] = Field(
        90.0, description="Seconds every component has to become ready."
    )
    beat_interval_s: Annotated[float, Field(gt=0)] = Field(
        60.0, description="Seconds between two runs of beat's periodic cleanup task."
    )
    task_memory_mb: Annotated[float, Field(ge=0, le=4096)] = Field(
        20.0,
        description="MiB each import task touches, like Funkwhale's process_upload above an idle worker.",
    )


def build_options(**values: object) -> StackOptions:
    """Options from CLI or API values; a bad value is one UsageError naming the option."""
    try:
        return StackOptions(**values)  # type: ignore[arg-type]
    except ValidationError as error:
        first = error.errors()[0]
        option = "--" + "-".join(str(part) for part in first["loc"]).replace("_", "-")
        raise UsageError(f"{option}: {first['msg']}", "see `fwload standin --help`") from None
