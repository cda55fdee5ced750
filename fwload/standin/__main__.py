"""``python -m fwload.standin``: the same command as ``fwload standin`` (`fwload.standin.command`),
usable without the CLI; `launcher.StandinProcess` starts the server this way.

From its first instant the server stops cleanly on SIGTERM and watches the lifeline of the
process that started it (`fwload.lifeline`): when that process dies, the server stops as on
SIGTERM and removes the temporary data folder it was given (``--temporary-data``), which
that process can no longer remove.
"""

import os
import shutil
import signal
import sys
from types import FrameType

from fwload import lifeline

_parent = os.getppid()
_orphaned = False


def _stop(_signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(0)


def _parent_gone() -> None:
    global _orphaned
    _orphaned = True
    os.kill(os.getpid(), signal.SIGTERM)


def _remove_temporary_data(argv: list[str]) -> None:
    if "--temporary-data" in argv and "--data" in argv[:-1]:
        shutil.rmtree(argv[argv.index("--data") + 1], ignore_errors=True)


signal.signal(signal.SIGTERM, _stop)
lifeline.watch_in_thread(_parent_gone)
try:
    import typer

    from fwload.common.terminal import handles_errors
    from fwload.standin.command import standin

    typer.run(handles_errors(standin))
finally:
    if _orphaned or os.getppid() != _parent:
        _remove_temporary_data(sys.argv)
