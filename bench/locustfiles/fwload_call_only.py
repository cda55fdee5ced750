"""Ablation: fwload's ``call()`` without the plugin (nothing recorded), to split the generator overhead."""

from locust import task

import bench.locustfiles.meter  # noqa: F401 - measures the steady window
from bench.nginx import STATIC_PATH
from fwload.users.base import FunkwhaleUser
from fwload.users.options import _Options


class CallOnlyUser(FunkwhaleUser):
    options = _Options(wait=(0.0, 0.0))

    def on_start(self) -> None:
        """No login: the benchmark target is a static file."""

    @task
    def get(self) -> None:
        self.call("GET", STATIC_PATH, group="instance")
