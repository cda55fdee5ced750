"""Ablation: a plain FastHttpUser with the fwload plugin loaded, so every request is recorded."""

from locust import FastHttpUser, constant, task

import bench.locustfiles.meter  # noqa: F401 - measures the steady window
from bench.nginx import STATIC_PATH
from fwload.plugin import FwloadShape


class RecordedPlainUser(FastHttpUser):
    wait_time = constant(0)

    @task
    def get(self) -> None:
        self.client.get(STATIC_PATH, context={"group": "instance"})


__all__ = ["FwloadShape", "RecordedPlainUser"]
