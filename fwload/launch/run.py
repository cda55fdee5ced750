"""``fwload run``: one command from a scenario to a verdict, for CI and for people.

Validate the scenario, start the local stand-in when no host is given, check the target
(readiness with a deadline, credentials, throttling, the metrics API), run Locust headless
with the fwload plugin and the collector, then analyse the run directory and exit with the
verdict's code.
"""

from __future__ import annotations

import contextlib
import os
import platform
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console

import fwload
from fwload import preflight
from fwload.errors import FwloadError, NotReadyError, UsageError
from fwload.collectors.selection import backend_choice, build_collector, check_collector, prometheus_settings
from fwload.funkwhale.accounts import load_users_file
from fwload.launch.interrupt import describe, exit_status
from fwload.launch.locust_process import locust_command, run_locust
from fwload.launch.scenario_file import resolved_copy, with_command_line
from fwload.launch.target import start_target
from fwload.recording import schema
from fwload.recording.rundir import RunDirectory
from fwload.scenario.loader import load_scenario, with_changes
from fwload.scenario.model import Scenario
from fwload.status import ExitStatus


_NO_PIDS_FIX = ("`fwload run` samples the processes of the stand-in it starts: drop --host, or use "
                "--collector kubernetes for a target in a cluster (or --collector none)")


@dataclass
class RunRequest:
    scenario: Path
    host: str | None = None
    users_file: str | None = None
    namespace: str | None = None
    context: str | None = None
    kubeconfig: str | None = None
    collector: str | None = None
    prometheus_url: str | None = None
    prometheus_token_file: str | None = None
    prometheus_token_env: str | None = None
    processes: int = 0
    out: Path = Path("reports")
    users: int | None = None
    spawn_rate: float | None = None
    duration: str | None = None
    """``--users``, ``--spawn-rate``, ``--duration``: load fields for this run, validated (caps
    included) like the file's and recorded in the run directory's scenario.yaml."""
    overrides: dict[str, Any] = field(default_factory=dict)
    """Scenario fields to change for this run only, e.g. ``{"load": {"duration": 60}}`` (the demo)."""
    standin_options: dict[str, Any] = field(default_factory=dict)


@dataclass
class RunResult:
    status: ExitStatus
    run_dir: Path
    analysis: Any = None
    """The `analysis.analyse.RunAnalysis` of the run, when it got that far."""


def run(request: RunRequest, console: Console) -> RunResult:
    """Every input is checked before anything starts; a stop (Ctrl-C, SIGTERM) closes the run
    directory as ``interrupted`` with its partial report (`RunResult.status` 130 or 143)."""
    scenario = load_scenario(request.scenario)
    scenario = with_command_line(scenario, request.scenario, **_command_line_overrides(request))
    if request.overrides:
        scenario = with_changes(scenario, request.overrides)
    accounts = check_inputs(scenario, request)
    run_dir: RunDirectory | None = None
    try:
        with contextlib.ExitStack() as stack:
            host, standin = start_target(scenario.target.host, stack, console, request.standin_options)
            local_pids = standin.component_pids if standin is not None else None
            run_dir = RunDirectory.create(request.out, scenario.name, _meta(scenario, host, request))
            run_dir.write_text(schema.SCENARIO_YAML, scenario.dump_resolved())
            console.print(f"run directory: [bold]{run_dir.path}[/]")
            local_cgroups = standin.cgroups if standin is not None else None
            _record_standin_startup(standin, run_dir)
            try:
                _preflight(scenario, host, run_dir, console, request, local_pids, local_cgroups, accounts)
            except NotReadyError as error:
                run_dir.finalize("not_ready", exit_code=int(error.status))
                result = _analyse(run_dir.path, console)
                console.print(f"[bold red]fwload: error:[/] {error.problem}\n  fix: {error.fix}", highlight=False)
                return RunResult(ExitStatus.NOT_READY, run_dir.path, result.analysis)
            except FwloadError as error:
                run_dir.refuse(error.problem, error.fix, int(error.status))
                raise
            scenario_file = stack.enter_context(_scenario_for_locust(scenario, request))
            command = locust_command(
                scenario=scenario_file, host=host, run_dir=run_dir.path, processes=request.processes,
                users_file=str(scenario.target.users_file) if scenario.target.users_file else None,
                collector=request.collector, namespace=request.namespace, kube_context=request.context,
                kubeconfig=request.kubeconfig, local_pids=standin.pids_file if standin is not None else None,
                local_cgroups=local_cgroups, prometheus_url=request.prometheus_url,
                prometheus_token_file=request.prometheus_token_file, prometheus_token_env=request.prometheus_token_env,
            )
            console.print(f"running {scenario.name!r} against {preflight.safe_url(host)} "
                          f"for {scenario.load.duration:g} s ({scenario.load.profile}, up to "
                          f"{scenario.load.peak_users} users)")
            _arm_faults(scenario, standin, run_dir, console)
            outcome = run_locust(command, run_dir.path, console, expected_s=scenario.load.duration)
    except KeyboardInterrupt as stop:
        if run_dir is None:
            raise
        return _close_interrupted(run_dir.path, stop, console)
    reopened = RunDirectory.open(run_dir.path)
    status = reopened.read_meta().get("status")
    if status in ("running", "refused"):
        console.print("\n".join(outcome.tail[-30:]), highlight=False, markup=False)
    if status == "running":
        reopened.finalize("crashed", exit_code=outcome.exit_code)
        console.print(f"[bold red]fwload: error:[/] Locust ended with exit code {outcome.exit_code} before "
                      "the run finished (its last lines are above)", highlight=False)
    if outcome.exit_code == int(ExitStatus.USAGE_ERROR):
        reopened.update_meta(exit_code=int(ExitStatus.USAGE_ERROR))
        return RunResult(ExitStatus.USAGE_ERROR, run_dir.path)
    return _analyse(run_dir.path, console, record=True)


def check_inputs(scenario: Scenario, request: RunRequest) -> list[Any] | None:
    """Everything that can be checked without the target, before a stand-in starts or a run
    directory is created: the host's form, the users file's contents, the collector and the
    output folder. Returns the accounts read from the users file."""
    if scenario.faults.active and scenario.target.host:
        raise UsageError("faults: only the local stand-in can inject faults, and this scenario targets "
                         f"{preflight.safe_url(scenario.target.host)}",
                         "remove the faults: section, or run against the stand-in (no --host, target.host: null)")
    if scenario.target.host:
        preflight.check_host(scenario.target.host)
    accounts = load_users_file(scenario.target.users_file) if scenario.target.users_file else None
    check_collector(request.collector or scenario.collector.backend, local_target=not scenario.target.host,
                    kubeconfig=request.kubeconfig, where="--collector" if request.collector else "collector.backend")
    check_output_folder(request.out)
    return accounts


def check_output_folder(out: Path) -> None:
    """``--out`` is (or can become) a folder this process can write run directories in."""
    existing = out
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if existing.exists() and not existing.is_dir():
        raise UsageError(f"--out {out}: {existing} is not a folder", "pass a folder for the run directories")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UsageError(f"--out {out}: {existing} is not writable", "choose a writable --out folder")


def _close_interrupted(path: Path, stop: BaseException, console: Console) -> RunResult:
    """Close a run stopped by Ctrl-C or SIGTERM (Locust closes it itself when it had the time) and
    write its partial report; a second Ctrl-C here still leaves the directory closed."""
    status = exit_status(stop)
    run_dir = RunDirectory.open(path)
    detail = f"stopped by {describe(stop)} to fwload"
    run_dir.event("interrupted", detail=detail)
    if run_dir.read_meta().get("status") == "running":
        run_dir.finalize("interrupted", exit_code=int(status))
    else:
        run_dir.update_meta(exit_code=int(status))
    console.print(f"[yellow]fwload: {detail}: the run directory is closed as interrupted; its report covers "
                  "what was measured and cannot pass[/]", highlight=False)
    result = _analyse(path, console)
    return RunResult(status, path, result.analysis)


def _record_standin_startup(standin: Any, run_dir: RunDirectory) -> None:
    """What a stack stand-in saw while starting: OOM kills counted in a confined component's
    cgroup before the collector's first sample (which takes them as its baseline), components
    dead or never ready, and what it could not confine or sample."""
    if standin is None:
        return
    if standin.stack_description is not None:
        described = {k: standin.stack_description[k] for k in ("stack_id", "components", "options")}
        run_dir.update_meta(target={**run_dir.read_meta().get("target", {}), "stack": described})
    for notice in standin.notices:
        run_dir.event("collector_notice", source="standin", detail=notice)
    for finding in standin.findings:
        name = finding["component"]
        if finding["kind"] == "oom_kill":
            run_dir.event("oom_kill", ts=finding["ts"], component=name, pod=name, container=name,
                          count=finding["count"], source="cgroup", detail=finding["detail"])
        elif not finding.get("dead"):  # a dead root is reported by the readiness gate
            run_dir.event("startup_failure", ts=finding["ts"], component=name, detail=finding["detail"])


def _arm_faults(scenario: Scenario, standin: Any, run_dir: RunDirectory, console: Console) -> None:
    """Switch the scenario's faults on when the load starts, so their ``after``/``for`` count from it."""
    if standin is None or not scenario.faults.active:
        return
    from fwload.standin.faults.lifecycle import arm_when

    def record(happened: Any) -> None:
        """The collector sees the restart itself (a new root PID): here only what was injected."""
        detail = f"{happened.kind}: {happened.detail}"
        if happened.error:
            detail += f" ({happened.error})"
        run_dir.event("fault", ts=happened.started_at, back_at=happened.ended_at, detail=detail)

    def arm() -> None:
        try:
            standin.arm_faults(scenario.faults, on_event=record)
        except FwloadError as error:
            console.print(f"[yellow]notice:[/] faults not armed: {error.problem}", highlight=False)
            return
        for line in scenario.faults.describe():
            run_dir.event("fault", detail=f"injected on purpose: {line}")

    for line in scenario.faults.describe():
        console.print(f"[yellow]fault to inject:[/] {line}", highlight=False)
    arm_when(lambda: _load_started(run_dir), arm, timeout_s=scenario.target.ready_timeout + 120)


def _load_started(run_dir: RunDirectory) -> bool:
    """The plugin wrote ``run_start``: the load shape's first tick."""
    try:
        lines = (run_dir.path / schema.EVENTS_JSONL).read_text(encoding="utf-8").splitlines()
    except OSError:
        return False
    return any('"run_start"' in line for line in lines)


def _meta(scenario: Scenario, host: str, request: RunRequest) -> dict[str, Any]:
    return {
        "host": preflight.safe_url(host),
        "target": {"kind": "standin" if not scenario.target.host else "remote"},
        "scenario": {"name": scenario.name, "file": str(request.scenario.resolve())},
        "fwload_version": fwload.__version__,
        "collector": {"backend": request.collector or scenario.collector.backend,
                      "namespace": request.namespace or scenario.collector.namespace},
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
    }


def _preflight(scenario: Scenario, host: str, run_dir: RunDirectory, console: Console, request: RunRequest,
               local_pids: dict[str, int] | None, local_cgroups: dict[str, str] | None = None,
               accounts: list[Any] | None = None) -> None:
    components = scenario.collector.host_components()
    choice = backend_choice(request.collector or scenario.collector.backend, local_pids=bool(local_pids),
                            kubeconfig=request.kubeconfig, components=bool(components),
                            prometheus=bool(request.prometheus_url or scenario.collector.prometheus))
    collector = build_collector(choice.backend, local_pids=local_pids, cgroups=local_cgroups or None,
                                namespace=request.namespace or scenario.collector.namespace, context=request.context or scenario.collector.context, kubeconfig=request.kubeconfig,
                                components=components, no_pids_fix=_NO_PIDS_FIX,
                                prometheus=prometheus_settings(scenario.collector.prometheus, url=request.prometheus_url,
                                                               token_file=request.prometheus_token_file,
                                                               token_env=request.prometheus_token_env,
                                                               interval=scenario.collector.interval))
    if collector is not None:
        for notice in collector.check_connection():
            console.print(f"[yellow]notice:[/] {notice}", highlight=False)
    else:
        notice = (f"collector none because {choice.reason}: the memory, CPU, restart and OOM checks will be "
                  "listed as not evaluated")
        console.print(f"[yellow]notice:[/] {notice}", highlight=False)
    deadline = scenario.target.ready_timeout
    with console.status(f"waiting up to {deadline:g} s for {preflight.safe_url(host)} to be ready…"):
        readiness = preflight.check_readiness(host, deadline, collector)
    run_dir.event("readiness", **readiness.as_event())
    for failure in preflight.startup_failures(readiness):
        run_dir.event("startup_failure", **failure)
    run_dir.update_meta(readiness=readiness.as_event(),
                        target={**run_dir.read_meta().get("target", {}), "version": readiness.nodeinfo.get("version", "")})
    preflight.require_ready(readiness, host, deadline, collector)
    if notice := preflight.shared_cpu_notice(host, local_standin=not scenario.target.host):
        console.print(f"[yellow]notice:[/] {notice}", highlight=False)
        run_dir.event("notice", source="preflight", detail=notice)
    components = f", {len(readiness.components)} component(s) up" if readiness.components else ""
    console.print(f"target ready in {readiness.seconds:.1f} s (Funkwhale {readiness.nodeinfo.get('version', '?')}"
                  f"{components})")
    plan = preflight.AuthPlan(scenario.target.auth, accounts, scenario.load.peak_users, max(request.processes, 1))
    for notice in preflight.check_credentials(host, readiness.nodeinfo, accounts) + \
            preflight.throttling_notices(host, plan) + preflight.check_audio_serving(host, accounts):
        console.print(f"[yellow]notice:[/] {notice}", highlight=False)
        run_dir.event("notice", source="preflight", detail=notice)


@contextlib.contextmanager
def _scenario_for_locust(scenario: Scenario, request: RunRequest) -> Iterator[Path]:
    """The file Locust loads: the user's own, or, with overrides, a private resolved copy."""
    if not request.overrides and not _command_line_overrides(request):
        yield request.scenario.resolve()
        return
    with resolved_copy(scenario) as path:
        yield path


def _command_line_overrides(request: RunRequest) -> dict[str, Any]:
    """The options given on the command line, by `fwload.scenario.loader.OVERRIDES` name."""
    given = {"host": request.host or None, "users_file": request.users_file or None, "users": request.users,
             "spawn_rate": request.spawn_rate, "duration": request.duration}
    return {name: value for name, value in given.items() if value is not None}


def _analyse(run_dir: Path, console: Console, *, record: bool = False) -> RunResult:
    """Write the reports; with ``record``, run.json's ``exit_code`` becomes the verdict's (what
    ``fwload run`` exits with): Locust ran with --no-report, so nothing else wrote it."""
    from analysis.outputs import build_outputs

    with console.status("analysing the run…"):
        outputs = build_outputs(run_dir)
    if record:
        RunDirectory.open(run_dir).update_meta(exit_code=int(outputs.status))
    return RunResult(outputs.status, run_dir, outputs.analysis)
