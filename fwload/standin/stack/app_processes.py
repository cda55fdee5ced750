"""The commands of the three Python components, as Funkwhale's deployment runs them.

- ``api``: gunicorn with uvicorn workers (``--workers`` 2 as measured), on a socket the
  stand-in binds first and hands over (``fd://``), so no port can be taken in between;
- ``celery-worker``: ``celery worker --concurrency N`` (prefork: a main process and N pool
  processes), logging at INFO as Funkwhale's services do;
- ``celery-beat``: ``celery beat``, its schedule file in the stack's temporary folder.

Each is ready when its own log says so: every API worker's "Application startup complete",
the worker's "<name>@<host> ready.", beat's "beat: Starting...".
"""

from __future__ import annotations

import sys
from pathlib import Path

from fwload.standin.stack.process import ComponentCommand

WORKER_CLASS = "fwload.standin.stack.gunicorn_worker.StandinWorker"
APP = "fwload.standin.stack.asgi:app"
CELERY_APP = "fwload.standin.stack.tasks"
API_READY = r"Application startup complete"
WORKER_READY = r"@\S+ ready\."
BEAT_READY = r"beat: Starting\.\.\."


def api_command(*, workers: int, fd: int, run_dir: Path, env: dict[str, str]) -> ComponentCommand:
    from gunicorn.config import KNOWN_SETTINGS

    argv = [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--worker-class", WORKER_CLASS,
            "--bind", f"fd://{fd}", "--log-level", "info", "--graceful-timeout", "5", "--timeout", "30",
            "--worker-tmp-dir", str(run_dir)]
    if any(setting.name == "control_socket_disable" for setting in KNOWN_SETTINGS):
        argv.append("--no-control-socket")  # recent gunicorn opens one in $HOME, shared by every instance
    return ComponentCommand("api", [*argv, APP], env=env, cwd=run_dir, pass_fds=(fd,),
                            ready_patterns=(API_READY,), ready_counts={API_READY: workers})


def worker_command(*, concurrency: int, stack_id: str, run_dir: Path,
                   env: dict[str, str]) -> ComponentCommand:
    argv = [sys.executable, "-m", "celery", "--app", CELERY_APP, "worker", "--loglevel", "INFO",
            "--pool", "prefork", "--concurrency", str(concurrency), "--hostname", f"fwload-{stack_id}@%h"]
    return ComponentCommand("celery-worker", argv, env=env, cwd=run_dir, ready_patterns=(WORKER_READY,))


def beat_command(*, run_dir: Path, env: dict[str, str]) -> ComponentCommand:
    argv = [sys.executable, "-m", "celery", "--app", CELERY_APP, "beat", "--loglevel", "INFO",
            "--schedule", str(run_dir / "celerybeat-schedule"), "--pidfile", str(run_dir / "celerybeat.pid")]
    return ComponentCommand("celery-beat", argv, env=env, cwd=run_dir, ready_patterns=(BEAT_READY,))
