"""fwload's open arrivals against nginx: each session opens with one call and runs one task.

The class is named ``Listener`` because scenarios name the classes they mix; it is a
FunkwhaleUser (slots, session scheduler and recording as in a real run) whose session
opening and task are one static file each, so the generator's own limit is what shows.
"""

from typing import Any

from locust import task

from bench.nginx import STATIC_PATH
from fwload.plugin import FwloadShape
from fwload.users.base import FunkwhaleUser
from fwload.users.options import _Options


class Listener(FunkwhaleUser):
    options = _Options(wait=(0.0, 0.0))

    def _open_session(self, session: Any) -> None:
        """No login: the app's first call is the static file."""
        self.call("GET", STATIC_PATH, group="instance")
        session.first_ts = session.start_ts

    @task
    def get(self) -> None:
        self.call("GET", STATIC_PATH, group="browse")


__all__ = ["FwloadShape", "Listener"]
