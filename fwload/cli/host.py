"""``fwload host detect``: propose the ``collector:`` section for a Funkwhale on this machine.

Prints the section on stdout (YAML to paste into a scenario, each component commented with
where it was found) and what it could not find; exits 0 even when it found only part of
the components, since naming the rest by hand is the expected next step.
"""

from __future__ import annotations

import socket

import typer

from fwload.cli.app import app, console, handles_errors

host_app = typer.Typer(help="Sample a Funkwhale that runs on this machine (systemd, docker compose, podman).",
                       no_args_is_help=True)
app.add_typer(host_app, name="host")


@host_app.command("detect")
@handles_errors
def detect_command() -> None:
    """Find Funkwhale's components here (systemd units, compose containers, listening ports) and
    print the scenario's collector section for `collector.backend: host`."""
    from fwload.collectors.host.detect import as_yaml, detect

    detection = detect()
    typer.echo(as_yaml(detection, socket.gethostname()), nl=False)
    found = len(detection.found)
    if detection.missing:
        console.print(f"found {found} component(s); not found: {', '.join(detection.missing)} "
                      "(name them by hand in the section above)", highlight=False)
    else:
        console.print(f"found all {found} components: paste the section above into your scenario", highlight=False)
