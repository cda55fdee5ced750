"""``fwload run``: a scenario against a target, from checks to verdict (the CI path)."""

from __future__ import annotations

from pathlib import Path

import typer

from fwload.cli.app import app, console, handles_errors, stdout_line
from fwload.launch.interrupt import sigterm_interrupts
from fwload.launch.run import RunRequest, run
from fwload.scenario.loader import override_help


@app.command("run")
@handles_errors
def run_command(
    scenario: Path = typer.Argument(..., help="Scenario file, e.g. scenarios/smoke.yaml"),
    host: str = typer.Option(None, "--host", help="Funkwhale base URL; default: the scenario's, else the local stand-in"),
    users_file: str = typer.Option(None, "--users-file", help="Accounts file (YAML or CSV); default: register accounts"),
    namespace: str = typer.Option(None, "--namespace", help="Kubernetes namespace of the target (collector)"),
    context: str = typer.Option(None, "--context", help="kubeconfig context (collector)"),
    kubeconfig: str = typer.Option(None, "--kubeconfig", help="kubeconfig file (collector)"),
    collector: str = typer.Option(None, "--collector", help="auto | kubernetes | processes | host | prometheus | none"),
    prometheus_url: str = typer.Option(None, "--prometheus-url", help="Prometheus base URL (collector prometheus)"),
    prometheus_token_file: str = typer.Option(None, "--prometheus-token-file",
                                              help="File holding the Prometheus bearer token"),
    prometheus_token_env: str = typer.Option(None, "--prometheus-token-env",
                                             help="Environment variable holding the Prometheus bearer token"),
    processes: int = typer.Option(0, "--processes", min=0, help="Locust worker processes on this machine (0: one process)"),
    out: Path = typer.Option(Path("reports"), "--out", help="Folder for the run directory"),
    duration: str = typer.Option(None, "--duration", help=f"Override load.duration, e.g. 10m: {override_help('duration')}"),
    users: int = typer.Option(None, "--users", help=f"Override load.users: {override_help('users')}"),
    spawn_rate: float = typer.Option(None, "--spawn-rate", help=f"Override load.spawn_rate: {override_help('spawn_rate')}"),
) -> None:
    """Run a scenario headless, then write the verdict and reports; the exit code is the verdict.

    --duration, --users and --spawn-rate change the scenario's load for this run only; the
    result is checked like the file (caps included) and recorded in the run's scenario.yaml.
    Ctrl-C or SIGTERM stops Locust and the stand-in, closes the run directory as interrupted with
    its partial report, and exits 130 (143 for SIGTERM).
    """
    with sigterm_interrupts():
        result = run(RunRequest(scenario=scenario, host=host, users_file=users_file, namespace=namespace,
                                context=context, kubeconfig=kubeconfig, collector=collector, processes=processes,
                                out=out, duration=duration, users=users, spawn_rate=spawn_rate,
                                prometheus_url=prometheus_url, prometheus_token_file=prometheus_token_file,
                                prometheus_token_env=prometheus_token_env), console)
    if result.analysis is not None:
        from analysis.writers.terminal import terminal_summary

        console.print(terminal_summary(result.analysis))
    stdout_line(str(result.run_dir))
    raise typer.Exit(code=int(result.status))
