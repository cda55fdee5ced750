"""Benchmark 2, streaming: audio bytes per CPU-second of fwload listeners against curl and wrk.

fwload's listeners call ``FunkwhaleUser.play()`` (Range requests of ``range_bytes``,
every byte read, each request and each play recorded) on a listen-like URL nginx serves
from a static audio file. The baselines fetch the same byte ranges of the same file:
wrk (one thread, kept-alive connections) and curl (one process, one connection). A plain
FastHttpUser doing the same Range requests shows how much of the gap is Locust's own.
"""

from __future__ import annotations

from bench.locust_runs import Pairs, run_pairs
from bench.nginx import AUDIO_PATH, Nginx
from bench.procs import pinning
from bench.sizes import Sizes
from bench.table import Row
from bench.tools import curl_ranges, wrk

TARGET = 0.5
NAME = "streaming"


def _mib(rate: float) -> str:
    return f"{rate / 2**20:,.0f} MiB/s"


def run(sizes: Sizes) -> list[Row]:
    env = {"BENCH_RANGE_BYTES": str(sizes.range_bytes)}
    with Nginx(audio_bytes=sizes.audio_bytes, cpus=pinning()["server"]) as server:
        pairs = run_pairs("plain_stream.py", "fwload_stream.py", server.base, rounds=sizes.rounds,
                          users=sizes.stream_users, warmup_s=sizes.warmup_s, duration_s=sizes.window_s, extra_env=env)
        url = server.url(AUDIO_PATH)
        native = wrk(url, connections=sizes.stream_users, seconds=sizes.wrk_s,
                     headers=(f"Range: bytes=0-{sizes.range_bytes - 1}",), body_bytes=sizes.range_bytes)
        curl = curl_ranges(url, fetches=sizes.curl_fetches, range_bytes=sizes.range_bytes)
    rate = "bytes_per_cpu_s"
    fw, pl = Pairs.total(pairs.fwload, rate), Pairs.total(pairs.baseline, rate)
    to_wrk, to_curl = fw / native.bytes_per_cpu_s, fw / curl.bytes_per_cpu_s
    ranges = f"Range {sizes.range_bytes // 1024} KiB"
    return [
        Row(NAME, f"audio bytes / CPU-s, fwload play() vs wrk -t1 ({ranges})",
            _mib(fw), _mib(native.bytes_per_cpu_s), to_wrk, f">= {TARGET}", to_wrk >= TARGET),
        Row(NAME, f"audio bytes / CPU-s, fwload play() vs curl ({ranges}, one connection)",
            _mib(fw), _mib(curl.bytes_per_cpu_s), to_curl, f">= {TARGET}", to_curl >= TARGET),
        Row(NAME, f"fwload play() vs plain FastHttpUser Range reads ({pairs.spread(rate)}, reference)",
            _mib(fw), _mib(pl), pairs.median(rate)),
    ]
