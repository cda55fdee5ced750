"""A three-step run whose every figure is known, with switches for the failure modes reports must show.

`standard_run` writes the directory and returns the raw values it wrote (`Truth`), so tests
compute expected percentiles, ratios and shares from those values with numpy, independently
of the code under test.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path

from run_builders import DEFAULT_SCENARIO, MI, T0, RunDir

STAGE_USERS = (10, 20, 30)
STAGE_S = 60.0
END = T0 + 3 * STAGE_S
SAMPLE_TIMES = [T0 - 15 + 15 * i for i in range(14)]
"""Resource samples every 15 s, from 15 s before the load to its end."""


PERIODS_PER_SAMPLE = 150
THROTTLED_PER_SAMPLE = {0: 0, 10: 0, 20: 15, 30: 90}
"""API CFS periods throttled per 15 s sample, by users: 0 %, 0 %, 10 %, 60 %."""


def users_at(ts: float) -> int:
    if ts < T0:
        return 0
    return STAGE_USERS[min(int((ts - T0) // STAGE_S), 2)]


def api_cpu(ts: float) -> float:
    """API CPU grows exactly linearly with users: 50m + 10m per user (20m before the load)."""
    return 50.0 + 10.0 * users_at(ts) if ts >= T0 else 20.0


def api_memory(ts: float) -> float:
    """API memory: 90 MiB before the load, then 100, 120 and 140 MiB per step (limit 128 MiB)."""
    return {0: 90, 10: 100, 20: 120, 30: 140}[users_at(ts)] * MI


@dataclass
class Truth:
    path: Path
    builder: RunDir | None = None
    """What wrote the run: add rows to it and ``write()`` again to change the run."""
    browse: list[float] = field(default_factory=list)
    listen_timed: list[float] = field(default_factory=list)
    stage_browse: dict[int, list[float]] = field(default_factory=dict)
    requests: int = 0
    throttled: int = 0
    failed: int = 0
    import_waits: list[float] = field(default_factory=list)
    ttfb: list[float] = field(default_factory=list)
    stage_requests: dict[int, int] = field(default_factory=dict)
    api_cpu_load: list[float] = field(default_factory=list)
    api_cpu_all: list[float] = field(default_factory=list)
    api_memory: list[float] = field(default_factory=list)


def standard_run(
    path: Path,
    *,
    slow_step3: bool = True,
    throttle_burst: bool = True,
    oom_in_step3: bool = True,
    ready: bool | None = True,
    dead_before_load: str | None = None,
    scenario: dict | None = None,
    status: str = "complete",
) -> Truth:
    """Write the run; the switches turn the known failure modes on and off."""
    run = RunDir(path, scenario=copy.deepcopy(scenario or DEFAULT_SCENARIO), status=status)
    truth = Truth(path=path, builder=run)
    run.event(T0 - 30, "run_start", users=30, workers=0)
    if ready is not None:
        run.event(
            T0 - 20,
            "readiness",
            ready=ready,
            seconds=5.0 if ready else 60.0,
            detail="" if ready else "nodeinfo timed out after 5 s, 12 times",
        )
    if dead_before_load:
        run.event(T0 - 10, "startup_failure", component=dead_before_load, detail="OOM-killed 5 s after start")
        run.event(
            T0 - 12,
            "oom_kill",
            component=dead_before_load,
            pod=f"{dead_before_load}-0",
            container=dead_before_load,
            count=1,
            source="cgroup",
        )
    run.stages(*((T0 + i * STAGE_S, users) for i, users in enumerate(STAGE_USERS)))

    def add(stage: int, ts: float, group: str, ms: float, **kwargs) -> None:
        run.request(ts, group, ms, **kwargs)
        truth.requests += 1
        truth.stage_requests[stage] = truth.stage_requests.get(stage, 0) + 1

    for stage in range(3):
        start = T0 + stage * STAGE_S
        factor = 3.0 if (stage == 2 and slow_step3) else 1.0
        values = [10.0 * k * factor for k in range(1, 101)]
        truth.stage_browse[stage] = values
        for index, ms in enumerate(values):
            add(stage, start + 0.5 + index * 0.5, "browse", ms)
        truth.browse += values
        for index in range(50):
            ms = 250.0 if (stage == 2 and slow_step3) else 100.0
            add(stage, start + 0.7 + index, "listen", ms, name="/api/v1/listen/{uuid}/")
            truth.listen_timed.append(ms)
        for index in range(10):
            add(stage, start + 1 + index * 6, "upload", 80.0, method="POST")
    if throttle_burst:
        for index in range(20):
            add(
                1,
                T0 + 70 + index * 0.1,
                "auth",
                5.0,
                status=429,
                error_kind="throttled",
                error="Request was throttled. Expected available in 30 seconds.",
            )
            truth.throttled += 1
        run.event(T0 + 72, "throttled", group="auth", count=20, retry_after_s=30, scope="login")
    for index, (kind, status, ms) in enumerate(
        (
            ("proxy", 502, 50.0),
            ("proxy", 502, 55.0),
            ("proxy", 502, 60.0),
            ("timeout", 0, 30000.0),
            ("timeout", 0, 30000.0),
        )
    ):
        add(
            2,
            T0 + 130 + index,
            "listen",
            ms,
            status=status,
            error_kind=kind,
            error="Bearer abcdef123456 rejected" if kind == "proxy" else "read timed out",
        )
        truth.listen_timed.append(ms)
        truth.failed += 1
    add(2, T0 + 140, "listen", 1.0, status=0, error_kind="connection", error="connection refused")
    truth.failed += 1

    for index in range(30):
        ts = T0 + 1 + index * 6
        if index == 28:
            run.import_(ts, "failed", None, upload="", fixture="valid")
            continue
        outcome, wait = (
            ("errored", 3000.0)
            if index == 5
            else ("timeout", 60000.0)
            if index == 22
            else ("finished", 2000.0 + 100 * index)
        )
        run.import_(ts, outcome, wait, upload=f"u{index}", fixture="corrupt" if index == 5 else "valid")
        truth.import_waits.append(wait)
        ttfb = 40.0 + index
        run.stream(ts + 3, ttfb, 400.0 + index, 262144)
        truth.ttfb.append(ttfb)
    run.stream(T0 + 140, 5000.0, 30000.0, 1000, status=0, error_kind="timeout")
    truth.ttfb.append(5000.0)

    documented = (10, 500, 32 * MI, 128 * MI)
    periods = throttled = 0
    for ts in SAMPLE_TIMES:
        oom = 1 if (oom_in_step3 and ts >= T0 + 150) else 0
        if ts > SAMPLE_TIMES[0]:
            periods += PERIODS_PER_SAMPLE
            throttled += THROTTLED_PER_SAMPLE[users_at(ts)]
        run.resource(
            ts,
            "api",
            api_cpu(ts),
            api_memory(ts),
            limits=documented,
            oom_kills=oom,
            throttled_periods=throttled,
            periods=periods,
            throttled_s=throttled * 0.05,
            respawns=oom,
            memory_anon_bytes=api_memory(ts) - 4 * MI,
        )
        truth.api_cpu_all.append(api_cpu(ts))
        if ts >= T0:
            truth.api_cpu_load.append(api_cpu(ts))
        truth.api_memory.append(api_memory(ts))
        run.resource(ts, "nginx", 30.0, 10 * MI, limits=(15, 750, 64 * MI, 256 * MI))
        run.resource(ts, "postgres", 40.0, 40 * MI, limits=(20, 1000, 64 * MI, 256 * MI))
        dead = dead_before_load == "celery-worker"
        run.resource(
            ts,
            "celery-worker",
            None if dead else 100.0,
            None if dead else 100 * MI,
            limits=documented,
            ready="false" if dead else "true",
            phase="Running",
        )
    if oom_in_step3:
        run.event(
            T0 + 148, "oom_kill", component="api", pod="api-0", container="api", count=1, source="cgroup"
        )
        run.event(T0 + 149, "respawn", component="api", count=1, detail="gunicorn booted a new worker")
    run.write(ended_at=END)
    return truth
