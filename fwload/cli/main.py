"""Entry point of the ``fwload`` console script."""

from __future__ import annotations

import importlib

from fwload.cli.app import app

SUBCOMMAND_MODULES = (
    "fwload.cli.demo",
    "fwload.cli.run",
    "fwload.cli.fixtures",
    "fwload.cli.standin",
    "fwload.cli.k8s",
    "fwload.cli.host",
    "fwload.cli.users",
    "fwload.cli.report",
    "fwload.cli.export",
    "fwload.cli.ui",
)


def main() -> None:
    for module in SUBCOMMAND_MODULES:
        importlib.import_module(module)
    app()


if __name__ == "__main__":
    main()
