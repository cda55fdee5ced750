"""`fwload run` against a host it did not start, as the real Funkwhale 1.4 runs of issue 15 were:
the exit code lands in run.json, load options apply and are recorded, resource checks without a
collector are listed with the reason, a target on this machine is said to share its CPU, and a
bypassed nginx stops the run before the load."""

from __future__ import annotations

import json

import pytest
import requests
import yaml

from fwload.standin.launcher import StandinProcess
from tests.e2e.helpers import FWLOAD, only_run_dir, rows, run
from tests.standin.conftest import Target, seed_playable_track

CPU_NOTICE = "the load generator shares the target's CPU"


def flat(text: str) -> str:
    """The console wraps long lines: compare words, not line breaks."""
    return " ".join(text.split())


@pytest.fixture(scope="module")
def remote_run(tmp_path_factory):
    """One short smoke run with load options, against a stand-in fwload did not start."""
    folder = tmp_path_factory.mktemp("remote")
    with StandinProcess() as standin:
        done = run([*FWLOAD, "run", "scenarios/smoke.yaml", "--host", standin.url, "--duration", "8s",
                    "--users", "2", "--spawn-rate", "2", "--out", str(folder / "reports")],
                   env={"HOME": str(folder), "KUBECONFIG": ""})
    return done, only_run_dir(folder / "reports")


def test_run_json_keeps_the_exit_code_fwload_run_exited_with(remote_run):
    done, run_dir = remote_run
    assert done.code in (0, 1), done.err[-3000:]
    meta = json.loads((run_dir / "run.json").read_text())
    assert meta["status"] == "complete"
    assert meta["exit_code"] == done.code == json.loads((run_dir / "verdict.json").read_text())["exit_code"]


def test_duration_users_and_spawn_rate_apply_and_are_recorded_in_the_run_s_scenario(remote_run):
    _, run_dir = remote_run
    load = yaml.safe_load((run_dir / "scenario.yaml").read_text())["load"]
    assert (load["duration"], load["users"], load["spawn_rate"]) == (8.0, 2, 2.0)
    stages = [json.loads(line) for line in (run_dir / "events.jsonl").read_text().splitlines()
              if '"stage"' in line]
    assert stages and max(stage["users"] for stage in stages) == 2


def test_without_a_collector_the_resource_checks_are_listed_not_evaluated_with_the_reason(remote_run):
    done, run_dir = remote_run
    collector = json.loads((run_dir / "run.json").read_text())["collector"]
    assert collector["backend"] == "none" and "fwload did not start the target" in collector["reason"]
    checks = json.loads((run_dir / "verdict.json").read_text())["checks"]
    resource = [c for c in checks if c["kind"] == "resource"]
    assert {c["name"] for c in resource} == {f"{name} [all components]" for name in
                                             ("memory peak", "cpu p95", "restarts", "oom kills")}
    assert all(c["passed"] is None and c["detail"].startswith("no resource samples: collector none because auto")
               for c in resource)
    assert "No component showed saturation" not in (run_dir / "report.html").read_text()
    assert "collector none because" in flat(done.err + done.out)


def test_a_target_on_this_machine_is_said_once_to_share_the_load_generator_s_cpu(remote_run):
    done, run_dir = remote_run
    assert flat(done.out + done.err).count(CPU_NOTICE) == 1
    events = [json.loads(line) for line in (run_dir / "events.jsonl").read_text().splitlines()]
    notices = [e for e in events if e["type"] == "notice" and CPU_NOTICE in e["detail"]]
    assert len(notices) == 1 and "is this machine" in notices[0]["detail"]
    assert CPU_NOTICE in (run_dir / "summary.md").read_text()


def test_load_options_beyond_the_caps_are_refused_before_anything_starts(tmp_path):
    done = run([*FWLOAD, "run", "scenarios/smoke.yaml", "--users", "500", "--duration", "1h",
                "--out", str(tmp_path / "reports")])
    assert done.code == 2, done.err[-3000:]
    err = flat(done.err)
    assert "scenarios/smoke.yaml with --users 500 --duration 1h" in err
    assert "exceed caps.max_users (10)" in err and "exceeds caps.max_duration (2m)" in err
    assert "Traceback" not in done.err and not (tmp_path / "reports").exists()


def test_a_bypassed_nginx_stops_the_run_before_the_load_with_exit_2(tmp_path):
    """Every listen answered 200/206 with no body and X-Accel-Redirect (the api, not nginx)."""
    with StandinProcess(import_rate=50.0, audio_serving="x-accel-redirect") as bypassed, \
            requests.Session() as http:
        target = Target(bypassed, http)
        seed_playable_track(target, target.register("seed"), "Seed")
        done = run([*FWLOAD, "run", "tests/e2e/data/listen-token.yaml", "--host", bypassed.url,
                    "--out", str(tmp_path / "reports")])
    assert done.code == 2, done.err[-3000:]
    assert "with no audio, only X-Accel-Redirect: nginx is bypassed" in flat(done.err)
    assert "--host at the nginx Service or the ingress" in flat(done.err)
    run_dir = only_run_dir(tmp_path / "reports")
    meta = json.loads((run_dir / "run.json").read_text())
    assert (meta["status"], meta["exit_code"]) == ("refused", 2)
    assert rows(run_dir, "requests.csv") == [], "no load was started"
