"""``fwload standin``: run the local stand-in of Funkwhale (embedded or stack mode) until stopped.

The command, its options and its stdout lines are the stand-in's own (`fwload.standin.command`,
also ``python -m fwload.standin``); the CLI calls it, never the other way round.
"""

from __future__ import annotations

from fwload.cli.app import app, handles_errors
from fwload.standin import command
from fwload.standin.command import ADMIN_PREFIX, READY_PREFIX, STACK_PREFIX  # noqa: F401  (what scripts read)

standin = app.command(name="standin")(handles_errors(command.standin))
