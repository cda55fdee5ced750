"""Benchmark 2, streaming: audio bytes per CPU-second of fwload listeners against curl and wrk.

fwload's listeners call ``FunkwhaleUser.play()`` (Range requests of ``range_bytes``,
every byte read, each request and each play recorded) on a listen-like URL nginx serves
from a static audio file. The baselines fetch the same byte ranges of the same file:
wrk (one thread, kept-alive connections) and curl (one process, one connection). A plain
FastHttpUser doing the same Range requests shows how much of the gap is Locust's own.
"""

from __future__ import annotations

from bench.locust_runs import Window, run_locust
from bench.nginx import AUDIO_PATH, Nginx
from bench.procs import pinning
from bench.sizes import Sizes
from bench.table import Row
from bench.tools import curl_ranges, wrk

TARGET = 0.5
NAME = "streaming"


def _rate(windows: list[Window]) -> float:
    cpu = sum(w.cpu_s for w in windows)
    return sum(w.bytes for w in windows) / cpu if cpu else 0.0


def _mib(rate: float) -> str:
    return f"{rate / 2**20:,.0f} MiB/s"


def run(sizes: Sizes) -> list[Row]:
    env = {"BENCH_RANGE_BYTES": str(sizes.range_bytes)}
    with Nginx(audio_bytes=sizes.audio_bytes, cpus=pinning()["server"]) as server:
        plain: list[Window] = []
        fwload: list[Window] = []
        for _ in range(sizes.rounds):
            for side, into in (("plain_stream.py", plain), ("fwload_stream.py", fwload)):
                into.append(run_locust(side, server.base, users=sizes.stream_users, warmup_s=sizes.warmup_s,
                                       duration_s=sizes.window_s, fwload=side.startswith("fwload"), extra_env=env))
        url = server.url(AUDIO_PATH)
        native = wrk(url, connections=sizes.stream_users, seconds=sizes.wrk_s,
                     headers=(f"Range: bytes=0-{sizes.range_bytes - 1}",), body_bytes=sizes.range_bytes)
        curl = curl_ranges(url, fetches=sizes.curl_fetches, range_bytes=sizes.range_bytes)
    fw, pl = _rate(fwload), _rate(plain)
    ratio = fw / native.bytes_per_cpu_s
    return [
        Row(NAME, f"audio bytes / CPU-s, fwload play() vs wrk -t1 (Range {sizes.range_bytes // 1024} KiB)",
            _mib(fw), _mib(native.bytes_per_cpu_s), ratio, f">= {TARGET}", ratio >= TARGET),
        Row(NAME, "audio bytes / CPU-s, fwload play() vs curl (same ranges)",
            _mib(fw), _mib(curl.bytes_per_cpu_s), fw / curl.bytes_per_cpu_s),
        Row(NAME, "fwload play() vs plain FastHttpUser Range reads (reference)",
            _mib(fw), _mib(pl), fw / pl if pl else float("nan")),
    ]

