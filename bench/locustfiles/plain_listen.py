"""Plain Locust real-time listening, the naive way: read a second of audio, sleep, read the next.

One ``Range: bytes=0-`` request per track, read in chunks of one second of audio, each read
followed by a sleep until the next second is due. A chunk that arrives more than
``BENCH_LATE_S`` after it was due is reported as a failed "late chunk" request: the naive
listener's only notion of a stall. Listeners start spread over a track's length, as fwload's.
"""

import os
import random
import time

import gevent
from locust import FastHttpUser, constant, task

import bench.locustfiles.meter  # noqa: F401 - measures the steady window
from bench.nginx import AUDIO_PATH

TRACK_S = float(os.environ.get("BENCH_TRACK_S", "20"))
SIZE = int(os.environ.get("BENCH_TRACK_BYTES", "320000"))
CHUNK = int(SIZE / TRACK_S)
LATE_S = float(os.environ.get("BENCH_LATE_S", "0.2"))


class NaiveListener(FastHttpUser):
    wait_time = constant(0)

    def on_start(self) -> None:
        gevent.sleep(random.uniform(0, TRACK_S))

    @task
    def play(self) -> None:
        with self.client.get(AUDIO_PATH, headers={"Range": "bytes=0-"}, stream=True, catch_response=True) as response:
            started = time.monotonic()
            got = late = 0
            for second in range(1, int(TRACK_S) + 2):
                chunk = response._response.read(CHUNK)
                if not chunk:
                    break
                got += len(chunk)
                due = started + second - 1
                late += time.monotonic() > due + LATE_S
                gevent.sleep(max(started + second - time.monotonic(), 0.0))
            response.request_meta["response_length"] = got
            response.success()
        if late:
            self.environment.events.request.fire(request_type="GET", name="late chunk", response_time=0,
                                                 response_length=0, exception=RuntimeError(f"{late} late"),
                                                 context={})
