"""The shipped evening-peak scenario, shortened, with ``fwload run`` against a stand-in that has
tracks: arriving web listeners and Subsonic apps play in real time, a share of plays is
transcoded, and the run directory holds the plays, their start-up delays and stalls, the
Subsonic requests and the sessions."""

from __future__ import annotations

import json
from collections import Counter

import pytest
import yaml

from fwload.scenario.loader import load_scenario
from tests.e2e.catalogue import catalogue_standin
from tests.e2e.helpers import FWLOAD, REPO, only_run_dir, rows, run

SCENARIO = REPO / "scenarios" / "evening-peak.yaml"


def _shortened(folder) -> str:
    """The same mix and profile, with more arrivals in less time: 35 s, a session per second at
    the peak, short stays, and half the web plays transcoded (so a short run surely has some)."""
    scenario = yaml.safe_load(SCENARIO.read_text())
    arrivals = scenario["load"]["arrivals"]
    arrivals["stages"] = [{"duration": "10s", "rate": "1/s", "ramp": True}, {"duration": "15s", "rate": "1/s"},
                          {"duration": "10s", "rate": "0.2/s", "ramp": True}]
    arrivals["session"] = {"length": "12s", "distribution": "fixed"}
    arrivals["slots"] = 40
    for user in scenario["users"]:
        user["options"]["wait"] = ["0.5s", "1s"]
        if user["class"] == "Listener":
            user["options"]["transcode"]["ratio"] = 0.5
    path = folder / "evening-peak-short.yaml"
    path.write_text(yaml.safe_dump(scenario, sort_keys=False))
    return str(path)


def test_the_shipped_evening_peak_is_valid_and_mixes_web_listeners_subsonic_apps_and_transcoding():
    scenario = load_scenario(SCENARIO)
    assert scenario.load.profile == "arrivals"
    classes = {user.class_name: user for user in scenario.users}
    assert set(classes) == {"Listener", "SubsonicListener", "Uploader"}
    assert classes["Listener"].options.playback == classes["SubsonicListener"].options.playback == "realtime"
    assert classes["Listener"].options.transcode.ratio == pytest.approx(0.1)


def test_evening_peak_with_fwload_run_records_plays_stalls_start_up_delays_and_subsonic_requests(tmp_path):
    with catalogue_standin(tracks=4, seconds=3.0) as standin:
        done = run([*FWLOAD, "run", _shortened(tmp_path), "--host", standin.url, "--out", str(tmp_path / "runs")],
                   timeout=300)
    run_dir = only_run_dir(tmp_path / "runs")
    meta = json.loads((run_dir / "run.json").read_text())
    assert meta["status"] == "complete" and meta["exit_code"] == done.code, done.out[-3000:] + done.err[-3000:]

    sessions = rows(run_dir, "sessions.csv")
    started = Counter(s["user_class"] for s in sessions if s["start_ts"])
    assert started["Listener"] and started["SubsonicListener"], started

    plays = rows(run_dir, "plays.csv")
    assert {p["client"] for p in plays} >= {"web", "subsonic"}
    assert {p["playback"] for p in plays} == {"realtime"}
    begun = [p for p in plays if p["startup_ms"]]
    assert begun and all(float(p["startup_ms"]) >= 0 and int(p["stalls"]) >= 0 and float(p["stall_ms"]) >= 0
                         for p in begun)
    assert {p["transcode"] for p in plays if p["client"] == "web"} >= {"", "opus@128"}

    requests = rows(run_dir, "requests.csv")
    subsonic = Counter(r["name"].split("?")[0] for r in requests if r["group"] == "subsonic")
    assert {"/rest/ping.view", "/rest/getArtists.view", "/rest/stream.view", "/rest/scrobble.view"} <= set(subsonic)
    failed = [r for r in requests if r["group"] == "subsonic" and r["error_kind"]]
    assert not failed, failed[:3]

    verdict = json.loads((run_dir / "verdict.json").read_text())
    assert verdict["listeners"]["realtime_plays"] == len([p for p in begun if p["playback"] == "realtime"])
    assert {"stall ratio", "plays with a stall", "start-up delay p95"} <= {c["name"] for c in verdict["checks"]}
    assert "Listener experience" in (run_dir / "report.html").read_text()
