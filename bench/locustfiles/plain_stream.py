"""Plain Locust streaming: a FastHttpUser fetching the audio file in Range requests, reading every byte.

The reference that splits fwload's streaming cost from Locust's own: the same requests as
``FunkwhaleUser.play()`` makes, written the way a careful plain-Locust user would.
"""

import os

from locust import FastHttpUser, constant, task

import bench.locustfiles.meter  # noqa: F401 - measures the steady window
from bench.nginx import AUDIO_PATH

RANGE = int(os.environ.get("BENCH_RANGE_BYTES", "262144"))
CHUNK = int(os.environ.get("BENCH_CHUNK", "65536"))


class PlainListener(FastHttpUser):
    wait_time = constant(0)

    @task
    def play(self) -> None:
        offset, total = 0, None
        while total is None or offset < total:
            headers = {"Range": f"bytes={offset}-{offset + RANGE - 1}"}
            with self.client.get(AUDIO_PATH, headers=headers, stream=True, catch_response=True) as response:
                got = 0
                while chunk := response.read(CHUNK):
                    got += len(chunk)
                response.request_meta["response_length"] = got
                total = int(response.headers["Content-Range"].rsplit("/", 1)[1])
            offset += got
