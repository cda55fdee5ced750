"""Benchmark 1, generator overhead: requests per CPU-second of fwload's user against plain Locust's.

Both sides are one Locust process with the same users (no think time) fetching the same
small static file from the same nginx, measured over the same steady window, in
interleaved rounds. fwload's side has the plugin loaded and records every request to a run
directory. wrk on the same URL is the native ceiling, for reference.
"""

from __future__ import annotations

from bench.locust_runs import Window, run_locust
from bench.nginx import STATIC_PATH, Nginx
from bench.procs import pinning
from bench.sizes import Sizes
from bench.table import Row
from bench.tools import wrk

TARGET = 0.9
NAME = "generator"


def _rate(windows: list[Window]) -> float:
    cpu = sum(w.cpu_s for w in windows)
    return sum(w.requests for w in windows) / cpu if cpu else 0.0


def run(sizes: Sizes) -> list[Row]:
    with Nginx(cpus=pinning()["server"]) as server:
        plain: list[Window] = []
        fwload: list[Window] = []
        for _ in range(sizes.rounds):
            for side, into in (("plain_get.py", plain), ("fwload_get.py", fwload)):
                into.append(run_locust(side, server.base, users=sizes.users, warmup_s=sizes.warmup_s,
                                       duration_s=sizes.window_s, fwload=side.startswith("fwload")))
        native = wrk(server.url(STATIC_PATH), connections=sizes.users, seconds=sizes.wrk_s)
    plain_rate, fwload_rate = _rate(plain), _rate(fwload)
    ratio = fwload_rate / plain_rate if plain_rate else float("nan")
    return [
        Row(NAME, "requests / CPU-s, fwload user + recording vs plain FastHttpUser",
            f"{fwload_rate:,.0f}/s", f"{plain_rate:,.0f}/s", ratio, f">= {TARGET}", ratio >= TARGET),
        Row(NAME, "plain FastHttpUser vs wrk -t1 (native ceiling, reference)",
            f"{plain_rate:,.0f}/s", f"{native.requests_per_cpu_s:,.0f}/s",
            plain_rate / native.requests_per_cpu_s if native.requests_per_cpu_s else float("nan")),
    ]
