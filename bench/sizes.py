"""How big and how long each benchmark runs: the full run (< 10 minutes on 2 cores, plus about 6 for the
listeners ladder) and ``--quick``."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Sizes:
    rounds: int
    """Paired rounds (plain Locust and fwload side by side); the ratio is their median."""
    ablation_rounds: int
    """Paired rounds of each generator ablation (where the overhead goes)."""
    warmup_s: float
    window_s: float
    users: int
    wrk_s: float
    stream_users: int
    audio_bytes: int
    range_bytes: int
    curl_fetches: int
    record_checkpoints: tuple[int, ...]
    steady_checkpoints: tuple[int, ...]
    report_rows: tuple[int, ...]
    analysis_repeats: int
    pods: int
    run_hours: float
    collector_samples: int
    latencies: int
    arrival_rates: tuple[float, ...]
    """Session rates (per second) of the arrivals benchmark's stages, doubling to past the limit."""
    arrival_stage_s: float
    listeners_first: int
    """Real-time listeners of the first rung of the listeners ladder (doubled until one fails)."""
    listeners_max: int
    listen_track_s: float
    """Length of the track the listeners play back to back (128 kbit/s)."""
    listen_window_s: float


FULL = Sizes(rounds=5, ablation_rounds=3, warmup_s=3.0, window_s=6.0, users=10, wrk_s=5.0,
             stream_users=4, audio_bytes=4 << 20, range_bytes=262_144, curl_fetches=2000,
             record_checkpoints=(200_000, 1_000_000), steady_checkpoints=(1_000_000, 2_000_000, 3_000_000),
             report_rows=(1_000_000, 10_000_000, 30_000_000), analysis_repeats=2, pods=200, run_hours=1.0,
             collector_samples=20, latencies=200_000,
             arrival_rates=(100, 200, 400, 800, 1600, 3200), arrival_stage_s=4.0,
             listeners_first=2000, listeners_max=16000, listen_track_s=20.0, listen_window_s=15.0)

QUICK = Sizes(rounds=1, ablation_rounds=1, warmup_s=1.0, window_s=1.5, users=2, wrk_s=1.0,
              stream_users=2, audio_bytes=1 << 20, range_bytes=262_144, curl_fetches=20,
              record_checkpoints=(2_000, 10_000), steady_checkpoints=(10_000, 20_000),
              report_rows=(2_000, 10_000), analysis_repeats=1, pods=20, run_hours=0.05,
              collector_samples=2, latencies=2_000,
              arrival_rates=(20, 80, 320), arrival_stage_s=2.0,
              listeners_first=250, listeners_max=500, listen_track_s=4.0, listen_window_s=3.0)
