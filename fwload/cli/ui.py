"""``fwload ui``: Locust's web UI with fwload's tabs, for watching a test as it runs."""

from __future__ import annotations

from pathlib import Path

import typer

from fwload.cli.app import app, console, handles_errors, stdout_line
from fwload.webui.launcher import LOOPBACK, UiRequest, run_ui


@app.command("ui")
@handles_errors
def ui_command(
    scenario: Path = typer.Argument(..., help="Scenario preselected in the start form, e.g. scenarios/smoke.yaml"),
    host: str = typer.Option(None, "--host", help="Funkwhale base URL; default: the scenario's, else the local stand-in"),
    web_port: int = typer.Option(8089, "--web-port", min=0, max=65535, help="Port of the web UI (0: any free port)"),
    web_host: str = typer.Option(LOOPBACK, "--web-host",
                                 help="Interface the web UI listens on; it has no login, so keep 127.0.0.1 "
                                      "unless the network is yours"),
    processes: int = typer.Option(0, "--processes", min=0, help="Locust worker processes on this machine (0: one process)"),
    users_file: str = typer.Option(None, "--users-file", help="Accounts file (YAML or CSV); default: register accounts"),
    collector: str = typer.Option(None, "--collector", help="auto | kubernetes | processes | host | prometheus | none"),
    prometheus_url: str = typer.Option(None, "--prometheus-url", help="Prometheus base URL (collector prometheus)"),
    prometheus_token_file: str = typer.Option(None, "--prometheus-token-file",
                                              help="File holding the Prometheus bearer token"),
    prometheus_token_env: str = typer.Option(None, "--prometheus-token-env",
                                             help="Environment variable holding the Prometheus bearer token"),
    namespace: str = typer.Option(None, "--namespace", help="Kubernetes namespace of the target (collector)"),
    context: str = typer.Option(None, "--context", help="kubeconfig context (collector)"),
    kubeconfig: str = typer.Option(None, "--kubeconfig", help="kubeconfig file (collector)"),
    out: Path = typer.Option(Path("reports"), "--out", help="Folder for the run directory of each test"),
    duration: str = typer.Option(None, "--duration", help="Override load.duration (e.g. 10m), as fwload run"),
    users: int = typer.Option(None, "--users", help="Override load.users, as fwload run"),
    spawn_rate: float = typer.Option(None, "--spawn-rate", help="Override load.spawn_rate, as fwload run"),
) -> None:
    """Open Locust's web UI on this machine with the Resources, SLOs and Imports-and-streams tabs.

    Each test started from the page gets its own run directory, closed when the test stops
    (`fwload report` reads it like a headless run's). Ctrl-C stops Locust and the stand-in;
    the exit code is the verdict of the last test.
    """
    result = run_ui(UiRequest(scenario=scenario, host=host, web_host=web_host, web_port=web_port,
                              processes=processes, users_file=users_file, collector=collector, out=out,
                              users=users, spawn_rate=spawn_rate, duration=duration, namespace=namespace,
                              context=context, kubeconfig=kubeconfig, prometheus_url=prometheus_url,
                              prometheus_token_file=prometheus_token_file, prometheus_token_env=prometheus_token_env),
                    console, announce=stdout_line)
    for run_dir in result.run_dirs:
        console.print(f"run directory: {run_dir}", highlight=False)
    raise typer.Exit(code=result.exit_code)
