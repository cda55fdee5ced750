"""The stand-in's own command line: ``python -m fwload.standin`` and, through the CLI, ``fwload standin``.

The options live here, with the stand-in, so that it starts without the tool that measures it;
`fwload.cli.standin` only registers this function on the ``fwload`` app.

When ready it prints two lines on stdout, which `fwload.standin.launcher` reads:
``standin ready: <url>`` and ``admin credential: <username>:<password>``. Printing the
admin password on the terminal is deliberate (the user asked for a server); it is
written nowhere else. Stack mode first prints ``standin stack: <json>``: each component's
root PID, cgroup (relative path and directories) and limit, the API's own URL, findings and
notices (no secrets).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from fwload.common.faults import Faults
from fwload.common.terminal import console, stdout_line
from fwload.errors import UsageError
from fwload.standin.faults.syntax import FAULT_HELP, parse_faults
from fwload.standin.settings import StandinSettings, build_settings
from fwload.standin.stack.options import StackOptions, build_options

READY_PREFIX = "standin ready: "
ADMIN_PREFIX = "admin credential: "
ADMIN_PASSWORD_ENV = "FWLOAD_STANDIN_ADMIN_PASSWORD"
SECRET_KEY_ENV = "FWLOAD_STANDIN_SECRET_KEY"
STACK_PREFIX = "standin stack: "
MODE_ENV = "FWLOAD_STANDIN_MODE"
DATABASE_URL_ENV = "FWLOAD_STANDIN_DATABASE_URL"
REDIS_URL_ENV = "FWLOAD_STANDIN_REDIS_URL"
FFMPEG_ENV = "FWLOAD_STANDIN_FFMPEG"
MODES = ("embedded", "stack")

_FIELDS = StandinSettings.model_fields
_STACK = StackOptions.model_fields


def standin(
    port: int = typer.Option(_FIELDS["port"].default, help=_FIELDS["port"].description),
    host: str = typer.Option(_FIELDS["host"].default, help=_FIELDS["host"].description),
    data: Annotated[
        Path | None,
        typer.Option(
            "--data", help="Directory for the database and media; default: a temporary one, removed at exit."
        ),
    ] = None,
    import_rate: float = typer.Option(
        _FIELDS["import_rate"].default, help=_FIELDS["import_rate"].description
    ),
    closed_registration: bool = typer.Option(
        False, "--closed-registration", help="Refuse sign-ups (403), as real Funkwhale does by default."
    ),
    admin_password: str | None = typer.Option(
        None,
        envvar=ADMIN_PASSWORD_ENV,
        show_envvar=True,
        help="Password of the 'admin' superuser; generated if not given.",
    ),
    audio_serving: str = typer.Option(
        _FIELDS["audio_serving"].default, help=_FIELDS["audio_serving"].description
    ),
    ffmpeg: str = typer.Option(
        _FIELDS["ffmpeg"].default, envvar=FFMPEG_ENV, show_envvar=True, help=_FIELDS["ffmpeg"].description
    ),
    mode: str = typer.Option(
        "embedded", envvar=MODE_ENV, show_envvar=True,
        help="embedded: one process, SQLite; stack: nginx, gunicorn API, PostgreSQL, Redis, Celery worker "
        "and beat as local processes (audio through nginx's X-Accel-Redirect).",
    ),
    api_workers: int = typer.Option(
        _STACK["api_workers"].default, envvar="FWLOAD_STANDIN_API_WORKERS", help=_STACK["api_workers"].description
    ),
    worker_concurrency: int = typer.Option(
        _STACK["worker_concurrency"].default, envvar="FWLOAD_STANDIN_WORKER_CONCURRENCY",
        help=_STACK["worker_concurrency"].description,
    ),
    database_url: str = typer.Option(
        _STACK["database_url"].default, envvar=DATABASE_URL_ENV,
        help=_STACK["database_url"].description,
    ),
    own_postgres: bool = typer.Option(
        False, "--own-postgres", envvar="FWLOAD_STANDIN_OWN_POSTGRES", help=_STACK["own_postgres"].description
    ),
    redis_url: str | None = typer.Option(
        None, envvar=REDIS_URL_ENV, help=_STACK["redis_url"].description
    ),
    limits: str = typer.Option(
        _STACK["limits"].default, envvar="FWLOAD_STANDIN_LIMITS", show_envvar=True,
        help=_STACK["limits"].description,
    ),
    limit: list[str] = typer.Option(
        [], "--limit", envvar="FWLOAD_STANDIN_LIMIT", show_envvar=True,
        help=_STACK["limit_overrides"].description + " Repeatable.",
    ),
    ready_timeout: float = typer.Option(
        _STACK["ready_timeout_s"].default, envvar="FWLOAD_STANDIN_READY_TIMEOUT",
        help=_STACK["ready_timeout_s"].description,
    ),
    beat_interval: float = typer.Option(
        _STACK["beat_interval_s"].default, envvar="FWLOAD_STANDIN_BEAT_INTERVAL",
        help=_STACK["beat_interval_s"].description,
    ),
    task_memory: float = typer.Option(
        _STACK["task_memory_mb"].default, envvar="FWLOAD_STANDIN_TASK_MEMORY",
        help=_STACK["task_memory_mb"].description,
    ),
    fault: list[str] = typer.Option([], "--fault", help=FAULT_HELP),
    keep_faults: bool = typer.Option(
        False, "--keep-faults", help="Keep the faults the --data directory holds (a restart) instead of --fault's."
    ),
    secret_key: str | None = typer.Option(
        None, envvar=SECRET_KEY_ENV, hidden=True, help="Key signing listen tokens; kept across restarts."
    ),
    temporary_data: bool = typer.Option(
        False, "--temporary-data", hidden=True,
        help="--data is a temporary folder of the process that started this one: removed if that process "
        "dies (fwload.standin.__main__ does it).",
    ),
) -> None:
    """Serve the Funkwhale 1.4 API subset fwload uses, locally (Ctrl-C stops it)."""
    from fwload.standin.server import serve

    if mode not in MODES:
        raise UsageError(f"--mode {mode!r} is not known", f"use one of {', '.join(MODES)}")
    stack_options = None
    if mode == "stack":
        stack_options = build_options(
            api_workers=api_workers, worker_concurrency=worker_concurrency, database_url=database_url,
            own_postgres=own_postgres, redis_url=redis_url or None, limits=limits, limit_overrides=tuple(limit),
            ready_timeout_s=ready_timeout, beat_interval_s=beat_interval, task_memory_mb=task_memory,
        )
    elif limits != _STACK["limits"].default or limit or own_postgres or redis_url:
        raise UsageError("--limits, --limit, --own-postgres and --redis-url need the stack mode",
                         "add --mode stack")
    data_dir = data if data is not None else Path(tempfile.mkdtemp(prefix="fwload-standin-"))
    values: dict[str, object] = {
        "port": port,
        "host": host,
        "data_dir": data_dir,
        "import_rate": import_rate,
        "registration_open": not closed_registration,
        "audio_serving": audio_serving,
        "ffmpeg": ffmpeg,
    }
    if admin_password:
        values["admin_password"] = admin_password
    values["faults"] = _faults(fault, keep_faults)
    if secret_key:
        values["secret_key"] = secret_key
    try:
        settings = build_settings(**values)

        def announce(ready: StandinSettings) -> None:
            stdout_line(f"{READY_PREFIX}{ready.public_url}")
            stdout_line(f"{ADMIN_PREFIX}{ready.admin_username}:{ready.admin_password.get_secret_value()}")
            console.print(f"data in {ready.data_dir}; Ctrl-C to stop", highlight=False)

        if stack_options is not None:
            _serve_stack(settings, stack_options)
        else:
            serve(settings, announce)
    finally:
        if data is None:
            shutil.rmtree(data_dir, ignore_errors=True)


def _faults(specs: list[str], keep: bool) -> Faults | None:
    """The plan to arm at start; None (keep the data directory's) only when asked, so no stale plan lingers."""
    if keep:
        if specs:
            raise UsageError("--keep-faults and --fault contradict each other", "give one of them")
        return None
    plan = parse_faults(specs)
    if plan.restarts:
        raise UsageError("--fault restart=...: a server cannot restart itself",
                         "use faults.restarts in a scenario run by `fwload run`, or StandinProcess.restart()")
    return plan


def _serve_stack(settings: StandinSettings, options: StackOptions) -> None:
    from fwload.standin.stack.serve import serve_stack

    def announce(ready: StandinSettings, description: dict[str, object]) -> None:
        stdout_line(f"{STACK_PREFIX}{json.dumps(description)}")
        stdout_line(f"{READY_PREFIX}{ready.public_url}")
        stdout_line(f"{ADMIN_PREFIX}{ready.admin_username}:{ready.admin_password.get_secret_value()}")
        components = description["components"]
        assert isinstance(components, dict)
        pids = ", ".join(f"{name} {c['pid']}" for name, c in components.items())
        console.print(f"stack up: {pids}; media in {ready.media_root}; Ctrl-C to stop", highlight=False,
                      soft_wrap=True)
        confined = {name: c["cgroup_dirs"][0] for name, c in components.items() if c.get("cgroup_dirs")}
        if confined:
            console.print("cgroups (collector.backend: host, {cgroup: ...}): "
                          + ", ".join(f"{name} {path}" for name, path in confined.items()),
                          highlight=False, soft_wrap=True)

    def notify(message: str) -> None:
        console.print(f"stack: {message}", highlight=False, markup=False, soft_wrap=True)

    serve_stack(settings, options, announce, notify)
