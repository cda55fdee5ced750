"""Plain Locust: a FastHttpUser fetching nginx's small static file as fast as it can (the baseline)."""

from locust import FastHttpUser, constant, task

import bench.locustfiles.meter  # noqa: F401 - measures the steady window
from bench.nginx import STATIC_PATH


class PlainUser(FastHttpUser):
    wait_time = constant(0)

    @task
    def get(self) -> None:
        self.client.get(STATIC_PATH)
