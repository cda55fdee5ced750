"""`fwload fixtures`: generate the tagged audio the uploaders send (see fwload.fixtures)."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from fwload.cli.app import app, console, handles_errors, stdout_line
from fwload.fixtures import DEFAULT_COUNT, DEFAULT_OUT, FixtureKind, generate_fixtures, is_current, load_manifest


@app.command()
@handles_errors
def fixtures(
    out: Path = typer.Option(DEFAULT_OUT, "--out", help="Folder to write (relative to the current directory)."),
    count: int = typer.Option(
        DEFAULT_COUNT, "--count", help="Valid tracks (mp3/ogg/flac in turn); one bad file of each kind is added."
    ),
    force: bool = typer.Option(False, "--force", help="Regenerate even when the folder is already current."),
) -> None:
    """Generate deterministic, tagged audio fixtures plus one deliberately bad file per kind.

    Prints the folder on stdout; does nothing when it already holds the same set.
    """
    started = time.perf_counter()
    if not force and is_current(out, count):
        manifest = load_manifest(out)
        console.print(f"{out}: {len(manifest.files)} fixtures already current", highlight=False)
    else:
        manifest = generate_fixtures(out, count)
        elapsed = time.perf_counter() - started
        total = sum(entry.size for entry in manifest.files) / 1e6
        bad = ", ".join(entry.kind.value for entry in manifest.files if entry.kind is not FixtureKind.VALID)
        console.print(
            f"{out}: {len(manifest.of_kind(FixtureKind.VALID))} valid tracks + {bad}"
            f" ({total:.1f} MB) in {elapsed:.1f} s",
            highlight=False,
        )
    stdout_line(str(out))
