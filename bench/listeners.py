"""Benchmark 7, listeners: real-time listeners one generator core holds, fwload's Player vs a naive listener.

Both play a 128 kbit/s track of ``listen_track_s`` seconds back to back from nginx (a static
file on loopback, so nothing but the generator can make them late), spread over the track's
length as in a steady state. fwload's listeners are `fwload.users.player.Player` with the
plugin recording every request, stream and play; the baseline is a plain Locust
`FastHttpUser` reading a second of audio, then sleeping until the next is due.

**Reaches N** means: with N listeners, over a steady window of ``listen_window_s`` seconds,
the generator (pinned alone to one core, the rest of the machine for nginx) uses less than
`CPU_LIMIT` of that core, no request fails, and no listener stalls. For fwload a stall is any
stall in the plays table overlapping the window — the players' own exact accounting, against a
server that cannot be slow, so a stall there would be a false one made by an overloaded
generator, and passing proves the accounting holds at that load. For the naive listener it
is a chunk read more than 0.2 s after it was due. Counts double from ``listeners_first``
until a count fails (or ``listeners_max``), then the midpoint of the last good and the
first bad count is tried. Each count is one Locust process run alone: the side-by-side
pairing of the other benchmarks would halve each side's core.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench.errors import BenchError
from bench.locust_runs import LOCUSTFILES
from bench.nginx import Nginx
from bench.procs import child_env, pinning, python, run_measured
from bench.sizes import Sizes
from bench.table import Row
from fwload.recording import schema
from fwload.recording.export import csv_text

NAME = "listeners"
TARGET = 2000
CPU_LIMIT = 0.9
BYTES_PER_S = 16_000
SPAWN_RATE = 1000


@dataclass
class Trial:
    users: int
    cpu_share: float
    failures: int
    stalled: int
    """fwload: plays with a stall in the window; naive: listeners with a late chunk."""
    plays: int
    startup_p95_ms: float | None
    max_rss_mib: float

    @property
    def holds(self) -> bool:
        return self.cpu_share < CPU_LIMIT and not self.failures and not self.stalled


def trial(locustfile: str, host: str, users: int, sizes: Sizes, fwload: bool) -> Trial:
    track_bytes = int(sizes.listen_track_s * BYTES_PER_S)
    warmup = sizes.listen_track_s + users / SPAWN_RATE + 1.0
    limit = int(warmup + sizes.listen_window_s + 30)
    with tempfile.TemporaryDirectory(prefix="fwload-bench-listen-") as folder:
        result, reports = Path(folder) / "window.json", Path(folder) / "reports"
        command = [python(), "-m", "locust", "-f", str(LOCUSTFILES / locustfile), "--headless", "--only-summary",
                   "-u", str(users), "-r", str(SPAWN_RATE), "-t", f"{limit}s", "--host", host,
                   "--loglevel", "WARNING"]
        if fwload:
            command += ["--skip-preflight", "--no-report", "--collector", "none", "--reports-dir", str(reports)]
        env = child_env(BENCH_RESULT=str(result), BENCH_WARMUP_S=str(warmup),
                        BENCH_DURATION_S=str(sizes.listen_window_s), BENCH_TRACK_S=str(sizes.listen_track_s),
                        BENCH_TRACK_BYTES=str(track_bytes))
        finished = run_measured(command, timeout_s=limit + 60, cpus=pinning()["generator"], env=env, check=False)
        if not result.exists():
            raise BenchError(f"{locustfile}: Locust ended without measuring:\n{finished.stderr[-2000:]}")
        window = json.loads(result.read_text())
        failed = int(window["failures"])
        if fwload:
            stalled, plays, startup = _plays(reports, window["window"])
        else:
            stalled, plays, startup, failed = failed, 0, None, 0  # the naive listener's failures are late chunks
        return Trial(users=users, cpu_share=window["cpu_s"] / window["wall_s"], failures=failed, stalled=stalled,
                     plays=plays, startup_p95_ms=startup, max_rss_mib=finished.max_rss_mib)


def _plays(reports: Path, window: list[float]) -> tuple[int, int, float | None]:
    """(plays with a stall in the window, plays overlapping it, start-up p95 ms of those begun in it)."""
    runs = [run.parent for run in reports.glob(f"*/{schema.RUN_JSON}")]
    if len(runs) != 1:
        raise BenchError("fwload's listeners wrote no run directory")
    start, end = window
    stalled, plays, startups = 0, 0, []
    for play in csv.DictReader(io.StringIO(csv_text(runs[0], schema.PLAYS))):
        ts = float(play["ts"])
        span = sum(float(play[key] or 0) for key in ("startup_ms", "stall_ms", "seek_wait_ms")) / 1000
        if ts > end or ts + span + float(play["played_s"] or 0) < start:
            continue
        plays += 1
        if play["startup_ms"] and start <= ts <= end:
            startups.append(float(play["startup_ms"]))
        gaps = [item.partition("@")[2].partition("+") for item in play["gaps"].split()]
        stalled += any(ts + float(at) <= end and ts + float(at) + float(seconds) >= start
                       for at, _, seconds in gaps)
    startups.sort()
    p95 = startups[max(1, -(-95 * len(startups) // 100)) - 1] if startups else None
    return stalled, plays, p95


def reach(locustfile: str, host: str, sizes: Sizes, fwload: bool) -> tuple[Trial | None, Trial | None]:
    """(the highest count that held, the lowest that did not) along the doubling ladder."""
    good: Trial | None = None
    bad: Trial | None = None
    users = sizes.listeners_first
    while users <= sizes.listeners_max:
        measured = trial(locustfile, host, users, sizes, fwload)
        if not measured.holds:
            bad = measured
            break
        good = measured
        users *= 2
    if good is not None and bad is not None and bad.users - good.users > 1:
        middle = trial(locustfile, host, (good.users + bad.users) // 2, sizes, fwload)
        good, bad = (middle, bad) if middle.holds else (good, middle)
    return good, bad


def _count(good: Trial | None, bad: Trial | None, sizes: Sizes) -> str:
    if good is None:
        return f"< {sizes.listeners_first:,}"
    return f"{good.users:,}" if bad is not None else f">= {good.users:,} (ladder top)"


def _why(bad: Trial | None) -> str:
    if bad is None:
        return "never failed"
    reasons = [f"CPU {bad.cpu_share:.0%}" if bad.cpu_share >= CPU_LIMIT else "",
               f"{bad.stalled} stalled" if bad.stalled else "", f"{bad.failures} failed" if bad.failures else ""]
    return f"{bad.users:,} failed: " + ", ".join(reason for reason in reasons if reason)


def run(sizes: Sizes) -> list[Row]:
    track_bytes = int(sizes.listen_track_s * BYTES_PER_S)
    with Nginx(audio_bytes=track_bytes, cpus=pinning()["server"]) as server:
        ours, ours_bad = reach("fwload_listen.py", server.base, sizes, fwload=True)
        naive, naive_bad = reach("plain_listen.py", server.base, sizes, fwload=False)
    reached = ours.users if ours is not None else 0
    baseline = naive.users if naive is not None else 0
    at = (f"{ours.stalled} stalled of {ours.plays} plays, start-up p95 {ours.startup_p95_ms:.0f} ms, "
          f"CPU {ours.cpu_share:.0%}, {ours.max_rss_mib:.0f} MiB" if ours is not None and ours.startup_p95_ms
          is not None else "–")
    track = f"{sizes.listen_track_s:g} s tracks at 128 kbit/s"
    return [
        Row(NAME, f"real-time listeners per generator core, fwload Player ({track}; {_why(ours_bad)})",
            _count(ours, ours_bad, sizes), f"{TARGET:,}", reached / TARGET, f">= {TARGET:,}", reached >= TARGET),
        Row(NAME, f"fwload Player vs naive plain FastHttpUser listener ({_why(naive_bad)} for the naive one)",
            _count(ours, ours_bad, sizes), _count(naive, naive_bad, sizes),
            reached / baseline if baseline else 0.0),
        Row(NAME, "fwload listeners at the load reached: no false stall (reference)", at, "0 stalled",
            float(ours.stalled) if ours is not None else 0.0),
    ]
