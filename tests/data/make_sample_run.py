"""Regenerate tests/data/sample-run/: a small, realistic-looking step run for notebooks and docs.

Three steps (4, 8, 12 users) of 40 s against the six seed components: latency grows with the
load, a burst of 429s on login in step 2, the API nears its memory limit and is OOM-killed in
step 3 (a gunicorn worker respawns), imports queue up behind Celery's rate limit. Seeded, so
the files are the same every time:

    .venv/bin/python tests/data/make_sample_run.py
"""

from __future__ import annotations

import random
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "analysis"))

from run_builders import MI, T0, RunDir  # noqa: E402

TARGET = HERE / "sample-run"
STEP_S, USERS = 40.0, (4, 8, 12)
SCENARIO = {
    "name": "sample-steps",
    "description": "Sample step run for the analysis notebooks (synthetic data).",
    "users": [{"class": "Listener", "weight": 3}, {"class": "Uploader", "weight": 1}],
    "load": {"profile": "steps", "users": 12, "spawn_rate": 4, "duration": "2m", "steps": {"count": 3}},
    "slos": {
        "groups": {"browse": {"p95": "800ms"}, "listen": {"p95": "500ms"}, "search": {"p95": "1s"}},
        "error_ratio": 0.02,
        "import_wait_p95": "20s",
        "stream_ttfb_p95": "300ms",
        "stall_ratio": 0.01,
        "plays_with_stall": 0.15,
        "startup_p95": "500ms",
    },
    "resources": {"limits": "documented", "memory_peak_pct": 100, "cpu_p95_pct": 90},
}
COMPONENTS = {  # cpu base m, cpu per user m, memory base MiB, memory per user MiB, documented limits
    "api": (40, 38, 96, 2.6, (10, 500, 32 * MI, 128 * MI)),
    "nginx": (5, 2, 6, 0.1, (15, 750, 64 * MI, 256 * MI)),
    "postgres": (15, 9, 40, 0.8, (20, 1000, 64 * MI, 256 * MI)),
    "redis": (3, 1, 4, 0.05, (10, 500, 32 * MI, 128 * MI)),
    "celery-worker": (60, 12, 110, 1.0, (10, 500, 32 * MI, 128 * MI)),
    "celery-beat": (2, 0, 100, 0.0, (10, 500, 32 * MI, 128 * MI)),
}
GROUPS = (
    ("browse", "/api/v1/tracks/", 0.45, 120),
    ("search", "/api/v1/search", 0.1, 180),
    ("listen", "/api/v1/listen/{uuid}/", 0.3, 60),
    ("favorites", "/api/v1/favorites/tracks/", 0.1, 70),
    ("history", "/api/v1/history/listenings/", 0.05, 90),
)


def build(target: Path = TARGET) -> Path:
    rng = random.Random(20261127)
    shutil.rmtree(target, ignore_errors=True)
    run = RunDir(target, scenario=SCENARIO, run_id="20261127-120000-sample-steps")
    run.meta.update(
        {
            "host": "http://127.0.0.1:8000",
            "collector": {"backend": "kubernetes", "interval_s": 5},
            "machine": {"cpus": 2},
            "locust": {"version": "2.47.0", "workers": 0},
        }
    )
    run.event(
        T0 - 20, "run_start", scenario="sample-steps", host="http://127.0.0.1:8000", users=12, workers=0
    )
    run.event(T0 - 8, "readiness", ready=True, seconds=7.4, attempts=3, detail="", version="1.4.0")
    run.stages(*((T0 + i * STEP_S, users) for i, users in enumerate(USERS)), spawn_rate=4)
    for step, users in enumerate(USERS):
        start = T0 + step * STEP_S
        slowdown = 1.0 + 0.12 * users * (users / 8)
        for _ in range(int(users * 0.9 * STEP_S)):
            ts = start + rng.uniform(0, STEP_S)
            group, name, _, base = rng.choices(GROUPS, weights=[g[2] for g in GROUPS])[0]
            ms = round(rng.lognormvariate(0, 0.45) * base * slowdown, 3)
            if step == 2 and group == "browse" and rng.random() < 0.03:
                run.request(
                    ts,
                    group,
                    name=name,
                    response_ms=round(rng.uniform(40, 90), 3),
                    status=502,
                    error_kind="proxy",
                    error="502 Bad Gateway (nginx)",
                )
            else:
                run.request(ts, group, ms, name=name)
        for index in range(users):
            ts = start + rng.uniform(0, STEP_S)
            run.request(
                ts,
                "upload",
                round(rng.lognormvariate(0, 0.3) * 150 * slowdown, 3),
                method="POST",
                name="/api/v1/uploads/",
            )
            backlog = 1.0 + step * 2.5
            outcome = "finished" if rng.random() > 0.06 else "errored"
            run.import_(
                ts,
                outcome,
                round(rng.uniform(1500, 4000) * backlog, 1),
                upload=f"u{step}-{index}",
                fixture="valid" if outcome == "finished" else "no_artist",
            )
            ttfb = round(rng.lognormvariate(0, 0.3) * 45 * slowdown, 3)
            run.stream(ts + 5, ttfb, round(ttfb + rng.uniform(150, 400), 3), 262144)
    for index in range(15):
        run.request(
            T0 + 50 + index * 0.2,
            "auth",
            round(rng.uniform(3, 8), 3),
            status=429,
            error_kind="throttled",
            name="/api/v1/users/login",
            method="POST",
            error="Request was throttled.",
        )
    run.event(T0 + 51, "throttled", group="auth", count=15, retry_after_s=120, scope="login")
    run.event(
        T0 + 101, "oom_kill", component="api", pod="api-7d9c", container="api", count=1, source="cgroup"
    )
    run.event(T0 + 102, "respawn", component="api", count=1, detail="gunicorn booted worker 2")
    periods = {name: 0 for name in COMPONENTS}
    throttled = {name: 0 for name in COMPONENTS}
    for tick in range(-3, 25):
        ts = T0 + tick * 5
        users = 0 if tick < 0 else USERS[min(tick // 8, 2)]
        for name, (cpu0, cpu1, mem0, mem1, limits) in COMPONENTS.items():
            cpu = min(float(limits[1]), max(1.0, round((cpu0 + cpu1 * users) * rng.uniform(0.9, 1.1), 1)))
            memory = int((mem0 + mem1 * users * rng.uniform(0.95, 1.05)) * MI)
            if name == "api" and ts >= T0 + 100:
                memory = min(memory, int(127.5 * MI))
            periods[name] += 50
            throttled[name] += int(50 * max(0.0, min(1.0, (cpu - 0.8 * limits[1]) / (0.2 * limits[1]))))
            run.resource(
                ts,
                name,
                cpu,
                memory,
                pod=f"{name}-7d9c",
                limits=limits,
                oom_kills=1 if (name == "api" and ts >= T0 + 105) else 0,
                respawns=1 if (name == "api" and ts >= T0 + 105) else 0,
                memory_anon_bytes=int(memory * 0.93),
                throttled_periods=throttled[name],
                periods=periods[name],
                throttled_s=round(throttled[name] * 0.04, 2),
                stage="" if tick < 0 else f"step-{min(tick // 8, 2) + 1}",
            )
    _plays(run, rng)
    run.event(T0 + 121, "run_end", status="complete")
    return run.write(ended_at=T0 + 120)


def _plays(run: RunDir, rng: random.Random) -> None:
    """Three of four users listen in real time, track after track; the third step stalls some plays."""
    end_of_run = T0 + len(USERS) * STEP_S
    for listener in range(USERS[-1] * 3 // 4):
        step = next(index for index, users in enumerate(USERS) if users * 3 // 4 > listener)
        ts = T0 + step * STEP_S + rng.uniform(0, 3)
        while ts < end_of_run:
            step = min(int((ts - T0) // STEP_S), len(USERS) - 1)
            startup = rng.lognormvariate(0, 0.3) * 30 * (1 + step)
            duration = round(rng.uniform(15, 40), 3)
            begin = ts + startup / 1000
            stalls = []
            if step == 2 and rng.random() < 0.4:
                stalls.append((round(startup / 1000 + rng.uniform(2, duration - 2), 3), round(rng.uniform(0.3, 2.0), 3)))
            silent = sum(seconds for _, seconds in stalls)
            played = duration
            outcome = "ended"
            if begin + duration + silent > end_of_run:
                played = round(max(end_of_run - begin - silent, 0.0), 3)
                outcome = "unfinished"
                stalls = [gap for gap in stalls if ts + gap[0] + gap[1] <= end_of_run]
            run.play(round(ts, 3), round(startup, 3), played, stalls=tuple(stalls), duration_s=duration,
                     outcome=outcome, size=int(duration * 16000))
            ts = begin + played + silent + rng.uniform(0.5, 2)


if __name__ == "__main__":
    print(build())
