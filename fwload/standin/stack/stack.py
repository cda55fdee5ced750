"""Starting the seed's components in order, waiting until each is ready, stopping them all.

Order: the data stores (PostgreSQL, Redis), the schema and admin account (once, as
``manage.py migrate`` does before gunicorn starts), then the API, the Celery worker and
beat, and nginx. Every component must be ready before one deadline. A component that dies
or never gets ready is an error naming it, with its last output lines, and everything
started so far is stopped.

One exception, on purpose: a *confined* component that the kernel OOM-killed in its cgroup
(or that is still not ready, with OOM kills counted, at the deadline) is a finding, not an
error. That is what Funkwhale 1.4 does at its documented limits (funkwhale-under-seed-limits.md
§3: the worker and beat die at start-up, the API never answers), and the suite must be able
to run against it and report it, so the stand-in says so and comes up anyway.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import requests
from sqlalchemy.engine import URL

from fwload.common.cgroups import Cgroup, read_cgroup
from fwload.errors import FwloadError, NotReadyError
from fwload.standin.services import Services
from fwload.standin.settings import StandinSettings
from fwload.standin.stack import binaries, nginx, postgres, redis_server
from fwload.standin.stack.app_processes import api_command, beat_command, worker_command
from fwload.standin.stack.confine import Confinement, create_confinement
from fwload.standin.stack.environment import BEAT_INTERVAL_ENV, TASK_MEMORY_ENV, settings_environment
from fwload.standin.stack.limits import Limit, resolve_limits
from fwload.standin.stack.options import StackOptions
from fwload.standin.stack.process import ComponentCommand, ComponentProcess

STOP_TIMEOUT_S = 10.0
PROBE_TIMEOUT_S = 2.0
API_BACKLOG = 2048
NODEINFO = "/api/v1/instance/nodeinfo/2.0/"
REPO_ROOT = Path(__file__).resolve().parents[3]

Notify = Callable[[str], None]


@dataclass
class Finding:
    """Something the limits did to a component during start-up (reported, not refused)."""

    component: str
    kind: str
    """``oom_kill`` (count = kills seen in its cgroup) or ``startup_failure`` (dead or never ready)."""
    detail: str
    ts: float
    count: int = 0
    dead: bool = False
    """The component's root process is gone (the collector reports that itself, too)."""


@dataclass
class Component:
    name: str
    probe: Callable[[], bool] = lambda: True
    process: ComponentProcess | None = None
    external_pid: int | None = None
    cgroup: Cgroup | None = None
    limit: Limit | None = None
    ready: bool = False
    failed: bool = False

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else self.external_pid

    @property
    def owned(self) -> bool:
        return self.process is not None


@dataclass
class Stack:
    """``stack.start()`` returns the settings the app runs with; ``stack.stop()`` undoes everything."""

    settings: StandinSettings
    options: StackOptions
    notify: Notify = lambda _message: None
    stack_id: str = field(default_factory=lambda: secrets.token_hex(4))
    components: dict[str, Component] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    api_url: str = ""
    resolved: StandinSettings | None = None
    _run_dir: Path | None = None
    _confinement: Confinement | None = None
    _limits: dict[str, Limit] | None = None
    _server: postgres.Server | None = None
    _throwaway_db: str | None = None
    _api_socket: socket.socket | None = None
    _api_env: dict[str, str] | None = None
    _stopped: bool = False
    _problems: list[str] = field(default_factory=list)

    # -- start -------------------------------------------------------------------------

    def start(self) -> StandinSettings:
        """Start every component and wait for all; on any failure stop what started, then raise."""
        try:
            return self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> StandinSettings:
        options = self.options
        self._limits = resolve_limits(options.limits, options.limit_overrides)
        needed = ["nginx"] + ([] if options.redis_url else ["redis-server"])
        needed += ["initdb", "postgres"] if options.own_postgres else []
        why = {"initdb": "for --own-postgres", "postgres": "for --own-postgres",
               "redis-server": "without --redis-url"}
        programs = binaries.require(needed, why=why)
        server_url = None if options.own_postgres else postgres.parse_url(options.database_url)
        deadline = time.monotonic() + options.ready_timeout_s
        self.notify(f"starting stack {self.stack_id} (components labelled FWLOAD_STACK={self.stack_id})")
        self._run_dir = Path(tempfile.mkdtemp(prefix=f"fwload-stack-{self.stack_id}-"))
        self._run_dir.chmod(0o711)
        self._confine()

        redis_url = self._start_redis(programs.get("redis-server"))
        database_url = self._start_postgres(programs, server_url)
        self._wait([c for c in self.components.values() if c.owned], deadline)

        nginx_port = self.settings.port or _free_port(self.settings.host)
        public_url = self.settings.public_url or f"http://{_url_host(self.settings.host)}:{nginx_port}"
        resolved = self.settings.model_copy(update={
            "port": nginx_port, "public_url": public_url,
            "database_url": database_url.render_as_string(hide_password=False),
            "cache": "redis", "import_queue": "celery", "audio_serving": "x-accel-redirect",
            "redis_url": redis_url, "redis_prefix": f"{self.settings.redis_prefix}-{self.stack_id}",
        })
        self._prepare(resolved)
        self.resolved = resolved

        env = {**settings_environment(resolved), BEAT_INTERVAL_ENV: f"{options.beat_interval_s:g}",
               TASK_MEMORY_ENV: f"{options.task_memory_mb:g}",
               "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))}
        self._start_api(env)
        self._start_celery(env)
        self._start_nginx(programs["nginx"], resolved, nginx_port)
        self._wait([c for c in self.components.values() if c.owned and not c.ready], deadline)
        self._check_front(resolved)
        self._note_survived_kills()
        return resolved

    def _confine(self) -> None:
        if self._limits is None:
            return
        confinement, why = create_confinement(self.stack_id)
        if confinement is None:
            self._notice(f"{why}: the components run WITHOUT their limits (run as root on a host with "
                         "cgroups mounted read-write to confine them)")
            return
        self._confinement = confinement

    def _cgroup_for(self, name: str) -> tuple[Cgroup | None, Limit | None]:
        if self._confinement is None or self._limits is None:
            return None, None
        limit = self._limits[name]
        try:
            return self._confinement.add(name, limit), limit
        except FwloadError as error:
            raise FwloadError(f"cannot set the limits of {name} ({limit.describe()}): {error.problem}",
                              "run as root with cgroups mounted read-write, or use --limits none") from None

    def _launch(self, command: ComponentCommand, probe: Callable[[], bool],
                confined: tuple[Cgroup | None, Limit | None] | None = None) -> Component:
        """Start `command` in its cgroup: a new one, or `confined` (a restart keeps its cgroup and limit)."""
        cgroup, limit = confined or self._cgroup_for(command.name)
        process = ComponentProcess(command, stack_id=self.stack_id, cgroup=cgroup)
        component = Component(command.name, probe=probe, process=process, cgroup=cgroup, limit=limit)
        self.components[command.name] = component
        process.start()
        return component

    def _start_redis(self, program: Path | None) -> str:
        if self.options.redis_url:
            pid = redis_server.check(self.options.redis_url)
            self.components["redis"] = Component("redis", external_pid=pid, ready=True)
            self._external("redis", pid, "--redis-url")
            return self.options.redis_url
        assert program is not None and self._run_dir is not None
        directory = self._run_dir / "redis"
        directory.mkdir()
        port = _free_port("127.0.0.1")
        url = f"redis://127.0.0.1:{port}/0"
        self._launch(redis_server.server_command(program, port, directory), lambda: redis_server.ping(url))
        return url

    def _start_postgres(self, programs: dict[str, Path], server_url: URL | None) -> URL:
        assert self._run_dir is not None
        if server_url is not None:
            self._server = postgres.Server(server_url)
            pid = self._server.local_pid(self._server.check())
            self.components["postgres"] = Component("postgres", external_pid=pid, ready=True)
            self._external("postgres", pid, "--database-url")
            if server_url.database:
                return server_url
            self._throwaway_db = f"fwload_stack_{self.stack_id}"
            return self._server.create_database(self._throwaway_db)
        user = postgres.run_as()
        directory = self._run_dir / "postgres"
        postgres.init_cluster(programs["initdb"], directory, user)
        port = _free_port("127.0.0.1")
        url = postgres.cluster_url(port)
        self._server = postgres.Server(url)
        server = self._server

        def probe() -> bool:
            try:
                server.check()
                return True
            except FwloadError:
                return False

        self._launch(postgres.cluster_command(programs["postgres"], directory, port, user), probe)
        return url.set(database="postgres")

    def _external(self, name: str, pid: int | None, option: str) -> None:
        if pid is None:
            self._notice(f"{name} runs elsewhere ({option}): it is not sampled")
        if self._confinement is not None:
            how = "use --own-postgres" if name == "postgres" else "leave --redis-url out"
            self._notice(f"{name} was already running ({option}): it is not confined, since moving a running "
                         f"server into a cgroup leaves its memory charged elsewhere; {how} to confine it")

    def _prepare(self, resolved: StandinSettings) -> None:
        """Schema, admin account and preferences, once, before any API worker starts."""
        services = Services.build(resolved)
        try:
            services.start()
        finally:
            services.stop()
        for notice in services.notices:
            self._notice(notice)

    def _start_api(self, env: dict[str, str]) -> None:
        sock = _api_socket(0)
        sock.listen(API_BACKLOG)
        self._api_socket, self._api_env = sock, env
        self.api_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        self._launch_api()

    def _launch_api(self, confined: tuple[Cgroup | None, Limit | None] | None = None) -> Component:
        """gunicorn on the socket held here; ready once every worker started and nodeinfo answers."""
        assert self._run_dir is not None and self._api_socket is not None and self._api_env is not None
        command = api_command(workers=self.options.api_workers, fd=self._api_socket.fileno(),
                              run_dir=self._run_dir, env=self._api_env)
        component = self._launch(command, lambda: False, confined)
        process = component.process
        assert process is not None
        nodeinfo = self.api_url + NODEINFO
        component.probe = lambda: process.output_ready() and _http_ok(nodeinfo)
        return component

    def _start_celery(self, env: dict[str, str]) -> None:
        assert self._run_dir is not None
        for command in (worker_command(concurrency=self.options.worker_concurrency, stack_id=self.stack_id,
                                       run_dir=self._run_dir, env=env),
                        beat_command(run_dir=self._run_dir, env=env)):
            process = self._launch(command, lambda: False).process
            assert process is not None
            self.components[command.name].probe = process.output_ready

    def _start_nginx(self, program: Path, resolved: StandinSettings, port: int) -> None:
        assert self._run_dir is not None and self._api_socket is not None
        prefix = self._run_dir / "nginx"
        prefix.mkdir()
        host = resolved.host
        config = nginx.render_config(prefix=prefix, listen=f"{_url_host(host)}:{port}",
                                     upstream=self.api_url.removeprefix("http://"),
                                     media_root=resolved.media_root, build=nginx.build_info(program),
                                     run_as_root=os.geteuid() == 0)
        command = nginx.nginx_command(program, prefix, config)
        problem = nginx.check_config(program, prefix)
        if problem:
            raise FwloadError(f"nginx refuses the generated configuration: {problem}",
                              "check the nginx version (1.19.5 or newer) or report this as a bug")
        front = f"http://{_url_host(host)}:{port}/"
        self._launch(command, lambda: _answered_by_nginx(front))

    # -- readiness -----------------------------------------------------------------------

    def _wait(self, pending: list[Component], deadline: float) -> None:
        pending = list(pending)
        while pending:
            for component in list(pending):
                assert component.process is not None
                if not component.process.alive():
                    self._died(component)
                    pending.remove(component)
                elif component.probe():
                    component.ready = True
                    pending.remove(component)
            if not pending:
                return
            if time.monotonic() >= deadline:
                for component in pending:
                    self._never_ready(component)
                return
            time.sleep(0.1)

    def _oom_kills(self, component: Component) -> int:
        if component.cgroup is None:
            return 0
        return read_cgroup(component.cgroup).oom_kills or 0

    def _died(self, component: Component) -> None:
        assert component.process is not None
        how = _exit_text(component.process.exit_code())
        if not self._killed_by_its_limit(component, f"died during start-up ({how})", dead=True):
            raise NotReadyError(f"stack component {component.name} died during start-up ({how}); "
                                f"its last lines:\n{component.process.tail()}", _fix_for(component.name))

    def _never_ready(self, component: Component) -> None:
        assert component.process is not None
        waited = f"not ready after {self.options.ready_timeout_s:g} s"
        if not self._killed_by_its_limit(component, waited, dead=False):
            raise NotReadyError(f"stack component {component.name} was {waited}; its last lines:\n"
                                f"{component.process.tail()}",
                                f"give it more time (--ready-timeout) or {_fix_for(component.name)}")

    def _killed_by_its_limit(self, component: Component, what: str, *, dead: bool) -> bool:
        """Record OOM kills in the component's cgroup as findings; False when there were none."""
        component.failed = True
        kills = self._oom_kills(component)
        if not kills:
            return False
        limit = component.limit.describe() if component.limit else "no limit"
        self._finding(component.name, "oom_kill", f"{kills} OOM kill(s) in its cgroup ({limit})", count=kills)
        self._finding(component.name, "startup_failure",
                      f"{what} after {kills} OOM kill(s) in its cgroup ({limit})", dead=dead)
        return True

    def _note_survived_kills(self) -> None:
        """A component that answers although processes in it were OOM-killed (a respawn loop)."""
        for component in self.components.values():
            kills = 0 if component.failed else self._oom_kills(component)
            if kills:
                limit = component.limit.describe() if component.limit else "no limit"
                self._finding(component.name, "oom_kill", f"ready, but {kills} OOM kill(s) in its cgroup "
                              f"during start-up ({limit}): its workers are killed and replaced", count=kills)
                self.notify(f"finding: {component.name}: ready, but {kills} OOM kill(s) during start-up")

    def _check_front(self, resolved: StandinSettings) -> None:
        """nodeinfo through nginx, unless the API itself is a finding."""
        if self.components["api"].failed or self.components["nginx"].failed:
            return
        url = f"http://{_url_host(resolved.host)}:{resolved.port}{NODEINFO}"
        if not _http_ok(url):
            raise NotReadyError(f"nginx does not pass {NODEINFO} to the API (checked {url})",
                                "report this as a bug, with `fwload standin --mode stack` output")

    def _finding(self, component: str, kind: str, detail: str, count: int = 0, dead: bool = False) -> None:
        self.findings.append(Finding(component, kind, detail, time.time(), count, dead))
        if kind != "oom_kill":
            self.notify(f"finding: {component}: {detail}")

    def _notice(self, text: str) -> None:
        self.notices.append(text)
        self.notify(f"notice: {text}")

    # -- while running -------------------------------------------------------------------

    def newly_dead(self) -> list[str]:
        """Components that died since the last call (for the terminal of ``fwload standin``)."""
        dead = []
        for component in self.components.values():
            if component.process is not None and not component.failed and not component.process.alive():
                component.failed = True
                dead.append(f"{component.name} exited ({_exit_text(component.process.exit_code())})")
        return dead

    def restart_api(self, down_s: float) -> None:
        """The API alone restarting as a Kubernetes pod does, the rest of the stack untouched.

        SIGTERM to gunicorn's group (in-flight requests get its ``--graceful-timeout``, then
        SIGKILL), `down_s` seconds with nothing listening on the API's port (nginx answers
        502, as in front of a pod that is gone), then the same command, environment, port and
        cgroup, waited on until ready. A bound, not listening, socket holds the port meanwhile,
        so the restart cannot lose it to another program. NotReadyError when the new API dies
        or is not ready in ``ready_timeout_s``; the rest of the stack keeps running either way.
        """
        api = self.components["api"]
        assert api.process is not None and self._api_socket is not None
        port = self._api_socket.getsockname()[1]
        try:
            successor = _api_socket(port)
        except OSError as error:
            raise FwloadError(f"cannot hold the API's port {port} for its restart: {error.strerror}",
                              "report this as a bug") from None
        self._api_socket.close()
        self._api_socket = successor
        api.process.stop(STOP_TIMEOUT_S)
        api.ready = False
        time.sleep(down_s)
        successor.listen(API_BACKLOG)
        api = self._launch_api((api.cgroup, api.limit))
        assert api.process is not None
        deadline = time.monotonic() + self.options.ready_timeout_s
        while not api.probe():
            if not api.process.alive():
                raise NotReadyError(f"the restarted api died ({_exit_text(api.process.exit_code())}); "
                                    f"its last lines:\n{api.process.tail()}", _fix_for("api"))
            if time.monotonic() >= deadline:
                raise NotReadyError(f"the restarted api was not ready after {self.options.ready_timeout_s:g} "
                                    f"s; its last lines:\n{api.process.tail()}",
                                    f"give it more time (--ready-timeout) or {_fix_for('api')}")
            time.sleep(0.1)
        api.ready = True

    def describe(self) -> dict[str, Any]:
        """Components (PID, cgroup relative to each controller's root and its directories, limit), the
        API's own URL, findings and notices: no secrets."""
        return {
            "stack_id": self.stack_id,
            "api_url": self.api_url,
            "components": {
                name: {"pid": c.pid, "owned": c.owned, "ready": c.ready and not c.failed,
                       "cgroup": self._confinement.relative.get(name) if self._confinement else None,
                       "cgroup_dirs": [str(d) for d in c.cgroup.directories()] if c.cgroup else [],
                       "limit": None if c.limit is None else {"cpu_m": c.limit.cpu_m,
                                                              "memory_bytes": c.limit.memory_bytes}}
                for name, c in self.components.items()
            },
            "options": self.options.model_dump(include={"api_workers", "worker_concurrency", "limits",
                                                        "limit_overrides", "own_postgres", "task_memory_mb"}),
            "findings": [asdict(f) for f in self.findings],
            "notices": list(self.notices),
        }

    # -- stop ----------------------------------------------------------------------------

    def stop(self) -> list[str]:
        """Stop every component (front first), drop the throwaway database, remove cgroups and files.

        Returns what could not be cleaned up (empty when all went). Safe to call twice.
        """
        if self._stopped:
            return list(self._problems)
        self._stopped = True
        problems = self._problems
        for component in reversed(list(self.components.values())):
            if component.process is not None and component.process.started:
                component.process.stop(STOP_TIMEOUT_S)
        if self._api_socket is not None:
            self._api_socket.close()
        if self._server is not None and self._throwaway_db is not None:
            try:
                self._server.drop_database(self._throwaway_db)
            except FwloadError as error:
                problems.append(f"database {self._throwaway_db} was not dropped: {error.problem}")
        if self.options.redis_url and self.resolved is not None:
            redis_server.delete_prefixed(self.options.redis_url, self.resolved.redis_prefix)
        if self._confinement is not None:
            problems += [f"cgroup not removed: {left}" for left in self._confinement.remove()]
        if self._run_dir is not None:
            shutil.rmtree(self._run_dir, ignore_errors=True)
            if self._run_dir.exists():
                problems.append(f"{self._run_dir} was not removed")
        return list(problems)


def _fix_for(name: str) -> str:
    return {
        "nginx": "check that nginx can run here (`nginx -t`), or free the --port",
        "postgres": "check the PostgreSQL installation, or use --database-url",
        "redis": "check the redis-server installation, or use --redis-url",
    }.get(name, "check the lines above; run `fwload standin --mode stack` by hand to see more")


def _exit_text(code: int | None) -> str:
    if code is None:
        return "still running"
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"killed by {signal.Signals(-code).name}"
        return f"killed by signal {-code}"
    return f"exit code {code}"


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def _api_socket(port: int) -> socket.socket:
    """Bound, not yet listening. SO_REUSEPORT lets a restart bind the API's port again while
    gunicorn still listens on it; a socket that only binds receives no connections."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(("127.0.0.1", port))
    except BaseException:
        sock.close()
        raise
    return sock


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _answered_by_nginx(url: str) -> bool:
    """nginx itself answers (its own 404 for ``/``), not just anything listening on the port."""
    try:
        return requests.get(url, timeout=PROBE_TIMEOUT_S).headers.get("Server", "").startswith("nginx")
    except requests.RequestException:
        return False


def _http_ok(url: str) -> bool:
    try:
        return requests.get(url, timeout=PROBE_TIMEOUT_S).status_code == 200
    except requests.RequestException:
        return False
