"""``fwload k8s ...``: commands about the cluster that runs Funkwhale."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from fwload.cli.app import app, handles_errors
from fwload.kube.check import Finding, check_namespace
from fwload.kube.client import load_api_client
from fwload.kube.expected import expected_from_base
from fwload.status import ExitStatus

k8s_app = typer.Typer(help="Check the Funkwhale deployment in a Kubernetes cluster.", no_args_is_help=True)
app.add_typer(k8s_app, name="k8s")

report_console = Console()
"""The check's table is the command's result: stdout, so it can be redirected or piped."""


@k8s_app.command("check")
@handles_errors
def check(
    namespace: str = typer.Option("funkwhale", "--namespace", "-n",
                                  help="Namespace of the Funkwhale components."),
    context: str = typer.Option("", "--context", help="kubeconfig context (default: the current one)."),
    kubeconfig: Path | None = typer.Option(None, "--kubeconfig",
                                           help="kubeconfig file (default: $KUBECONFIG, ~/.kube/config, "
                                           "or the pod's service account in a cluster)."),
) -> None:
    """Compare the live namespace with k8s/base: deployments present and ready, requests and
    limits, the Ingress, the metrics API. Exit 0 when all match, 3 on any difference,
    2 when the cluster cannot be read (credentials, RBAC, connection)."""
    expected = expected_from_base()
    api_client = load_api_client(kubeconfig, context or None)
    try:
        findings = check_namespace(api_client, namespace, expected)
    finally:
        api_client.close()
    report_console.print(findings_table(findings, namespace))
    differences = [f for f in findings if not f.ok]
    if not differences:
        report_console.print(f"[green]namespace {namespace} matches k8s/base[/] ({len(findings)} checks)")
        return
    report_console.print(f"[bold red]{len(differences)} difference(s)[/] between namespace {namespace} "
                         "and k8s/base:")
    for finding in differences:
        report_console.print(f"  {finding.component} {finding.check}: {finding.fix}", highlight=False)
    raise typer.Exit(code=int(ExitStatus.RESOURCE_BROKEN))


def findings_table(findings: list[Finding], namespace: str) -> Table:
    table = Table(title=f"namespace {namespace} against k8s/base")
    for column in ("component", "object", "check", "k8s/base", "live", ""):
        table.add_column(column)
    for finding in findings:
        mark = "[green]ok[/]" if finding.ok else "[bold red]DIFFERS[/]"
        live = finding.live if finding.ok else f"[red]{finding.live}[/]"
        table.add_row(finding.component, finding.subject, finding.check, finding.expected, live, mark)
    return table
