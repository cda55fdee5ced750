"""``python -m fwload.standin``: the same command as ``fwload standin``, usable before (or
without) the CLI registering it; `launcher.StandinProcess` starts the server this way."""

import typer

from fwload.cli.standin import standin

typer.run(standin)
