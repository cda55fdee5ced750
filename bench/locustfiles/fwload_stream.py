"""fwload streaming: listeners calling ``FunkwhaleUser.play()`` on a listen-like URL nginx serves.

Plugin loaded and recording on: every Range request is a row of the requests table and every
play a row of streams.csv, exactly as a Listener's plays are.
"""

import os

from locust import task

import bench.locustfiles.meter  # noqa: F401 - measures the steady window
from bench.nginx import AUDIO_PATH
from fwload.funkwhale.api import TrackRef
from fwload.plugin import FwloadShape
from fwload.users.base import FunkwhaleUser
from fwload.users.options import ListenerOptions

TRACK = TrackRef(id=1, listen_url=AUDIO_PATH, title="bench")


class BenchListener(FunkwhaleUser):
    options = ListenerOptions(wait=(0.0, 0.0), range_bytes=int(os.environ.get("BENCH_RANGE_BYTES", "262144")))

    def on_start(self) -> None:
        """No login: nginx serves the audio file to anyone."""

    @task
    def listen(self) -> None:
        self.play(TRACK, self.options.range_bytes)


__all__ = ["BenchListener", "FwloadShape"]
