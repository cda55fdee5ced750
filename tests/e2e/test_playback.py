"""Real-time plays through real Locust runs: stalls made on purpose match what the bandwidth implies,
and an idle server makes none.

The uploads are one 5 s MP3 (`fwload fixtures --count 1`), so each play's figures can be worked
out from its size, its byte rate and the bandwidth the proxy allows.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from fwload.fixtures import generate_fixtures
from fwload.standin.launcher import StandinProcess
from tests.e2e.helpers import locust, only_run_dir, rows
from tests.e2e.recording_proxy import PIECE_BYTES, recording_proxy

BANDWIDTH = 8000.0
"""Bytes per second the proxy lets through for audio: about half a 128 kbit/s MP3's 16,000."""
START_BUFFER_S = 0.2
READ_AHEAD_BYTES = 32 * 1024
"""The idle test's listeners read 32 KiB ahead (2 s of the MP3), pausing at 48 KiB: a 5 s track then
takes several reads spread over its playback, and a seek may land outside the buffer."""
JITTER_S = 0.25
"""How late either side may act on a shared 2-core machine: the proxy thread sending a piece, the
Locust process reading it. Only the first and the last bytes matter (see the derivation below)."""


@pytest.fixture(scope="module")
def fixtures_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("audio")
    generate_fixtures(folder, count=1)
    return folder


@pytest.fixture(scope="module")
def standin():
    with StandinProcess() as process:
        yield process


def scenario(folder: Path, name: str, *, listeners: int, slos: dict, duration: str) -> Path:
    users = [{"class": "Uploader", "weight": 1,
              "options": {"wait": ["0.2s", "0.3s"], "import_timeout": "10s", "formats": ["mp3"], "bad_files": 0,
                          "start_buffer": f"{START_BUFFER_S}s"}}]
    if listeners:
        users.append({"class": "Listener", "weight": listeners,
                      "options": {"wait": ["0.2s", "0.3s"], "skip_ratio": 0.3, "seek_ratio": 0.5,
                                  "start_buffer": f"{START_BUFFER_S}s", "read_ahead": "1s",
                                  "read_ahead_min": READ_AHEAD_BYTES}})
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump({
        "name": name, "users": users,
        "load": {"profile": "constant", "users": 1 + listeners, "spawn_rate": 1 + listeners, "duration": duration},
        "collector": {"backend": "none"}, "slos": {"error_ratio": 0.01, **slos},
    }))
    return path


def run(scenario_file: Path, host: str, reports: Path, fixtures: Path):
    done = locust("--host", host, "--scenario", str(scenario_file), "--reports-dir", str(reports),
                  "--fixtures-dir", str(fixtures), "--stop-timeout", "1")
    run_dir = only_run_dir(reports)
    return done, run_dir


def test_plays_throttled_below_their_bitrate_stall_for_as_long_as_the_bandwidth_implies(
        standin, fixtures_dir, tmp_path):
    """A play of S bytes at R bytes/s (D = S / R seconds) that starts once b0 = 0.2 s × R bytes are
    buffered, through a link of B < R bytes/s sent in pieces of p bytes, stalls in total

        stall = end − start − D     (the clock's identity: a play that ended played D seconds)

    with start ∈ [b0 / B, (b0 + p) / B] and the last byte at [S / B, (S + p) / B] after the first
    body byte (pieces lag the steady line by less than one), and the end within (b0 + p) / R of
    the last byte (what was buffered then is at most the start buffer plus a piece). So

        (S − b0 − p) / B − D  ≤  stall  ≤  (S + p − b0) / B + (b0 + p) / R − D,

    widened by `JITTER_S` on each side for a late first or last piece. Whatever happens in
    between (how the stalls split, the listening POSTed half way) cannot change the total.
    """
    file = scenario(tmp_path, "throttled", listeners=0, duration="28s",
                    slos={"stall_ratio": 0.01, "plays_with_stall": 0.5})
    with recording_proxy(standin.url, bandwidth=lambda path: BANDWIDTH if "/listen/" in path else None) as proxy:
        done, run_dir = run(file, proxy.url, tmp_path / "reports", fixtures_dir)
    assert done.code == 1, done.err[-3000:]
    ended = [play for play in rows(run_dir, "plays.csv") if play["outcome"] == "ended"]
    assert ended, "at least one throttled play went to its end"
    p = PIECE_BYTES
    for play in ended:
        size, duration = float(play["bytes"]), float(play["duration_s"])
        rate = size / duration
        assert rate > BANDWIDTH * 1.5, "the track plays faster than the proxy lets it through"
        b0 = START_BUFFER_S * rate
        low = (size - b0 - p) / BANDWIDTH - duration - JITTER_S
        high = (size + p - b0) / BANDWIDTH + (b0 + p) / rate - duration + JITTER_S
        stall_s = float(play["stall_ms"]) / 1000
        assert low <= stall_s <= high, (play, low, high)
        assert int(play["stalls"]) >= 2 and float(play["played_s"]) == pytest.approx(duration, abs=0.002)
        assert float(play["startup_ms"]) / 1000 >= b0 / BANDWIDTH, "start-up waits for the start buffer"
        assert play["requests"] == "1" and play["gaps"].count("stall@") == int(play["stalls"])
    verdict = {check["name"]: check for check in json.loads((run_dir / "verdict.json").read_text())["checks"]}
    assert verdict["stall ratio"]["passed"] is False and verdict["plays with a stall"]["passed"] is False
    assert verdict["error ratio"]["passed"] is True


def test_an_idle_server_makes_no_stall(standin, fixtures_dir, tmp_path):
    """Straight to the stand-in, nothing else running: every real-time play, skipped and seeking ones
    too, starts and plays without a stall, and records its listening. A play reads progressively:
    one ``bytes=0-`` request, read no further ahead than its buffer allows, and a new request only
    after a seek outside the buffer."""
    file = scenario(tmp_path, "idle", listeners=2, duration="20s",
                    slos={"stall_ratio": 0, "plays_with_stall": 0, "startup_p95": "5s"})
    done, run_dir = run(file, standin.url, tmp_path / "reports", fixtures_dir)
    assert done.code == 0, done.err[-3000:]
    plays = rows(run_dir, "plays.csv")
    started = [play for play in plays if play["startup_ms"] and play["playback"] == "realtime"]
    assert len(started) >= 3
    assert all(play["stalls"] == "0" and float(play["stall_ms"]) == 0.0 for play in started)
    assert {play["outcome"] for play in plays} <= {"ended", "skipped", "seeked", "unfinished"}
    assert all(play["outcome"] in ("seeked", "unfinished") for play in plays if play["requests"] != "1"), \
        "only a seek (or a test cut short mid-seek) asks for audio again"
    streams = rows(run_dir, "streams.csv")
    assert len(streams) == len(plays) and all(stream["range"] == "bytes=0-" for stream in streams)
    listens = [r for r in rows(run_dir, "requests.csv") if r["group"] == "listen"]
    assert len(listens) == sum(int(play["requests"]) for play in plays)
    assert all(r["status"] == "206" for r in listens)
    pause_at = READ_AHEAD_BYTES * 1.5 + 4096  # a read may pass the pause mark by its smallest size (READ_MIN)
    for play, stream in zip(plays, streams, strict=True):
        if play["user_class"] == "Listener" and play["outcome"] == "ended":
            size, rate = float(play["bytes"]), float(play["bytes"]) / float(play["duration_s"])
            # the last bytes can only be read once playback is within the pause mark of the end
            assert float(stream["total_ms"]) >= (size - pause_at) / rate * 1000 - 1, (play, stream)
    histories = [r for r in rows(run_dir, "requests.csv") if r["group"] == "history"]
    ended = [play for play in plays if play["outcome"] == "ended"]
    assert len(histories) >= len(ended), "every play that ended was recorded as a listening"
