"""``fwload standin``: run the local stand-in of Funkwhale (embedded mode) until stopped.

When ready it prints two lines on stdout, which `fwload.standin.launcher` reads:
``standin ready: <url>`` and ``admin credential: <username>:<password>``. Printing the
admin password on the terminal is deliberate (the user asked for a server); it is
written nowhere else.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from fwload.cli.app import app, console, handles_errors, stdout_line
from fwload.standin.settings import StandinSettings, build_settings

READY_PREFIX = "standin ready: "
ADMIN_PREFIX = "admin credential: "
ADMIN_PASSWORD_ENV = "FWLOAD_STANDIN_ADMIN_PASSWORD"

_FIELDS = StandinSettings.model_fields


@app.command()
@handles_errors
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
) -> None:
    """Serve the Funkwhale 1.4 API subset fwload uses, from one local process (Ctrl-C stops it)."""
    from fwload.standin.server import serve

    data_dir = data if data is not None else Path(tempfile.mkdtemp(prefix="fwload-standin-"))
    values: dict[str, object] = {
        "port": port,
        "host": host,
        "data_dir": data_dir,
        "import_rate": import_rate,
        "registration_open": not closed_registration,
        "audio_serving": audio_serving,
    }
    if admin_password:
        values["admin_password"] = admin_password
    try:
        settings = build_settings(**values)

        def announce(ready: StandinSettings) -> None:
            stdout_line(f"{READY_PREFIX}{ready.public_url}")
            stdout_line(f"{ADMIN_PREFIX}{ready.admin_username}:{ready.admin_password.get_secret_value()}")
            console.print(f"data in {ready.data_dir}; Ctrl-C to stop", highlight=False)

        serve(settings, announce)
    finally:
        if data is None:
            shutil.rmtree(data_dir, ignore_errors=True)
