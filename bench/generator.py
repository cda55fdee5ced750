"""Benchmark 1, generator overhead: requests per CPU-second of fwload's user against plain Locust's.

Both sides are one Locust process with the same users (no think time) fetching the same
small static file from the same nginx, started together and pinned to the same CPU
(`bench.locust_runs.run_pairs`), measured over the same steady window; the ratio is the
median over rounds. fwload's side has the plugin loaded and records every request to a
run directory. wrk on the same URL is the native ceiling, for reference.

Two ablations split the overhead: ``call()`` without the plugin (judging, JSON, throttling
logic; nothing recorded), and a plain FastHttpUser with the plugin (recording only).
"""

from __future__ import annotations

from bench.locust_runs import Pairs, run_pairs
from bench.nginx import STATIC_PATH, Nginx
from bench.procs import pinning
from bench.sizes import Sizes
from bench.table import Row
from bench.tools import wrk

TARGET = 0.9
NAME = "generator"


def run(sizes: Sizes) -> list[Row]:
    with Nginx(cpus=pinning()["server"]) as server:
        pairs = run_pairs("plain_get.py", "fwload_get.py", server.base, rounds=sizes.rounds, users=sizes.users,
                          warmup_s=sizes.warmup_s, duration_s=sizes.window_s)
        ablations = {
            name: run_pairs("plain_get.py", locustfile, server.base, rounds=sizes.ablation_rounds, users=sizes.users,
                            warmup_s=sizes.warmup_s, duration_s=sizes.window_s, plugin=plugin)
            for name, locustfile, plugin in (("call() alone, no plugin", "fwload_call_only.py", False),
                                             ("plain user, recorded by the plugin", "plain_recorded.py", True))
        }
        native = wrk(server.url(STATIC_PATH), connections=sizes.users, seconds=sizes.wrk_s)
    rate = "requests_per_cpu_s"
    plain, fwload = Pairs.total(pairs.baseline, rate), Pairs.total(pairs.fwload, rate)
    ratio = pairs.median(rate)
    return [
        Row(NAME, f"requests / CPU-s, fwload user + recording vs plain FastHttpUser ({pairs.spread(rate)})",
            f"{fwload:,.0f}/s", f"{plain:,.0f}/s", ratio, f">= {TARGET}", ratio >= TARGET),
        *(Row(NAME, f"ablation: {name} vs plain FastHttpUser ({part.spread(rate)})",
              f"{Pairs.total(part.fwload, rate):,.0f}/s", f"{Pairs.total(part.baseline, rate):,.0f}/s",
              part.median(rate)) for name, part in ablations.items()),
        Row(NAME, "plain FastHttpUser vs wrk -t1 (native ceiling, reference)",
            f"{plain:,.0f}/s", f"{native.requests_per_cpu_s:,.0f}/s",
            plain / native.requests_per_cpu_s if native.requests_per_cpu_s else float("nan")),
    ]
