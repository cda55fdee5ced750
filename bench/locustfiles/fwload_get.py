"""fwload: a FunkwhaleUser calling the same static file through ``call()``, plugin loaded, recording on.

The plugin is loaded exactly as locustfiles/funkwhale.py loads it (with its load shape), so
every request goes through the recorder, the run directory writer, the live statistics and
the once-a-second watch; only authentication is skipped (nginx's file needs no account).
"""

from locust import task

import bench.locustfiles.meter  # noqa: F401 - measures the steady window
from bench.nginx import STATIC_PATH
from fwload.plugin import FwloadShape
from fwload.users.base import FunkwhaleUser
from fwload.users.options import _Options


class BenchUser(FunkwhaleUser):
    options = _Options(wait=(0.0, 0.0))

    def on_start(self) -> None:
        """No login: the benchmark target is a static file."""

    @task
    def get(self) -> None:
        self.call("GET", STATIC_PATH, group="instance")


__all__ = ["BenchUser", "FwloadShape"]
