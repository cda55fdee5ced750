"""fwload real-time listeners: `Player` in real time on a listen-like URL nginx serves, recording on.

Each listener waits a random part of a track before its first play, so plays are spread over
time as in a steady state rather than all starting in the same second. Every play is a row of
plays.csv with its start-up delay and stalls, exactly as a Listener's plays are.
"""

import os
import random

import gevent
from locust import task

import bench.locustfiles.meter  # noqa: F401 - measures the steady window
from bench.nginx import AUDIO_PATH
from fwload.plugin import FwloadShape
from fwload.users.base import FunkwhaleUser
from fwload.users.options import ListenerOptions
from fwload.users.player import AudioSource, Player

TRACK_S = float(os.environ.get("BENCH_TRACK_S", "20"))
SIZE = int(os.environ.get("BENCH_TRACK_BYTES", "320000"))
SOURCE = AudioSource(path=AUDIO_PATH, name="/api/v1/listen/[track]/", track=1, duration_s=TRACK_S,
                     bitrate_bps=SIZE * 8 / TRACK_S, size=SIZE)


class BenchRealtimeListener(FunkwhaleUser):
    options = ListenerOptions(wait=(0.0, 0.0))

    def on_start(self) -> None:
        """No login: nginx serves the audio file to anyone. Start somewhere in a track's length."""
        gevent.sleep(random.uniform(0, TRACK_S))

    @task
    def listen(self) -> None:
        Player(self, self.options).play(SOURCE)


__all__ = ["BenchRealtimeListener", "FwloadShape"]
