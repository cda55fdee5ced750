"""The fwload Locust plugin: importing it adds fwload's arguments and event listeners.

A locustfile imports it (``locustfiles/funkwhale.py`` does), so plain ``locust -f
locustfiles/funkwhale.py --scenario scenarios/smoke.yaml`` runs a scenario, records it and
exits with its verdict, headless or from the web UI, alone or distributed.
"""

from __future__ import annotations

from typing import Any

from locust import events

from fwload.plugin.arguments import add_arguments
from fwload.plugin.session import FwloadSession
from fwload.plugin.shape import FwloadShape

events.init_command_line_parser.add_listener(add_arguments)


@events.init.add_listener
def _attach(environment: Any, **_kwargs: Any) -> None:
    FwloadSession.attach(environment)
    if environment.web_ui:
        from fwload.webui.install import install_tabs

        install_tabs(environment)


__all__ = ["FwloadSession", "FwloadShape"]
