"""The fault plan as people write it: a scenario's ``faults:`` section, ``--fault`` options, and the
path → group map that makes the stand-in's counts comparable with requests.csv."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from fwload.errors import UsageError
from fwload.funkwhale import paths
from fwload.scenario.faults import Delay, Faults
from fwload.scenario.loader import load_scenario
from fwload.standin.faults.groups import OTHER, request_group, throttle_scope
from fwload.standin.faults.syntax import parse_faults
from tests.reliability.conftest import REPO, scenario_file


def test_lognormal_latency_has_the_median_and_p99_it_was_given():
    delay = Delay.model_validate({"median": "200ms", "p99": "2s"})
    rng = random.Random(7)
    draws = sorted(delay.seconds(rng) for _ in range(40_000))
    assert delay.distribution == "lognormal"
    assert draws[20_000] == pytest.approx(0.2, rel=0.03)
    assert draws[39_600] == pytest.approx(2.0, rel=0.08)


def test_shorthands_expand_to_the_full_form():
    plan = Faults.model_validate(
        {
            "requests": [
                {"group": "browse", "latency": "150ms"},
                {"group": "upload", "error": 0.05},
                {"scope": "login", "throttle": "5/minute"},
                {"throttle": 0.5, "after": "10s", "for": "5s"},
            ]
        }
    )
    latency, error, rate, storm = plan.requests
    assert (latency.latency.distribution, latency.latency.value) == ("fixed", 0.15)
    assert (error.error.ratio, error.error.status) == (0.05, 500)
    assert rate.throttle.limit() == (5, 60)
    assert storm.throttle.storm == 0.5 and storm.throttle.retry_after == 1.0
    assert not storm.active(9.9) and storm.active(10.0) and not storm.active(15.0)


@pytest.mark.parametrize(
    ("section", "where", "says"),
    [
        (
            {"requests": [{"latency": {"median": "2s", "p99": "1s"}}]},
            "faults.requests[0].latency.p99",
            "above the median",
        ),
        ({"requests": [{"throttle": "30 per minute"}]}, "faults.requests[0].throttle.rate", "N/minute"),
        ({"requests": [{"group": "browse"}]}, "faults.requests[0]", "at least one of latency"),
        ({"requests": [{"reset": 1.5}]}, "faults.requests[0].reset", "at most 1"),
        (
            {"requests": [{"error": {"ratio": 0.1, "status": 504}}]},
            "faults.requests[0].error.status",
            "500, 502",
        ),
        ({"requests": [{"latnecy": "1s"}]}, "faults.requests[0].latnecy", "did you mean 'latency'"),
        ({"imports": {"fail": 0.7, "stuck": 0.5}}, "faults.imports", "cannot exceed 1"),
        (
            {"worker": {"dies_after": "20s", "back_after": "10s"}},
            "faults.worker.back_after",
            "after dies_after",
        ),
    ],
)
def test_a_bad_faults_section_names_the_field_and_what_is_wrong(tmp_path: Path, section, where, says):
    path = scenario_file(tmp_path, "bad")
    data = yaml.safe_load(path.read_text())
    path.write_text(yaml.safe_dump({**data, "faults": section}))
    with pytest.raises(UsageError) as caught:
        load_scenario(path)
    assert where in caught.value.problem and says in caught.value.problem, caught.value.problem


def test_the_scenario_dump_keeps_the_faults(tmp_path: Path):
    path = scenario_file(
        tmp_path,
        "kept",
        faults={
            "requests": [{"group": "search", "reset": 0.1, "after": "5s"}],
            "restarts": [{"after": "8s", "down": "2s"}],
        },
    )
    scenario = load_scenario(path)
    (tmp_path / "resolved.yaml").write_text(scenario.dump_resolved())
    again = load_scenario(tmp_path / "resolved.yaml")
    assert again.faults == scenario.faults and again.faults.active


def test_command_line_faults_read_like_the_scenario_section():
    plan = parse_faults(
        [
            "browse.latency=200ms~2s",
            "latency=50ms..300ms",
            "upload.error=5%:503",
            "throttle=storm:50%:2s",
            "login.throttle=5/minute",
            "search.reset=0.1@10s+20s",
            "import-fail=0.2",
            "import-stuck=10%",
            "worker=dead@30s+60s",
            "restart=5s@1m",
            "seed=3",
        ]
    )
    expected = Faults.model_validate(
        {
            "requests": [
                {"group": "browse", "latency": {"distribution": "lognormal", "median": 0.2, "p99": 2}},
                {"latency": {"distribution": "uniform", "low": 0.05, "high": 0.3}},
                {"group": "upload", "error": {"ratio": 0.05, "status": 503}},
                {"throttle": {"storm": 0.5, "retry_after": 2}},
                {"scope": "login", "throttle": {"rate": "5/minute"}},
                {"group": "search", "reset": 0.1, "after": 10, "for": 20},
            ],
            "imports": {"fail": 0.2, "stuck": 0.1},
            "worker": {"dies_after": 30, "back_after": 90},
            "restarts": [{"after": 60, "down": 5}],
            "seed": 3,
        }
    )
    assert plan == expected


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ("browse.latency", "is not [GROUP.]KIND=VALUE"),
        ("nowhere.latency=1s", "neither a request group nor a throttle scope"),
        ("browse.import-fail=0.1", "takes no 'browse' selector"),
        ("latency=2s~1s", "above the median"),
        ("throttle=30", "N/period or storm:SHARE"),
        ("sneeze=1", "unknown kind 'sneeze'"),
    ],
)
def test_a_bad_fault_option_is_one_usage_error_with_a_fix(spec: str, says: str):
    with pytest.raises(UsageError) as caught:
        parse_faults([spec])
    assert says in caught.value.problem and caught.value.fix


def test_fwload_run_refuses_faults_against_a_remote_host(tmp_path: Path):
    path = scenario_file(tmp_path, "remote", faults={"requests": [{"reset": 0.5}]})
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "fwload",
            "run",
            str(path),
            "--host",
            "http://127.0.0.1:9",
            "--out",
            str(tmp_path / "reports"),
        ],
        check=False,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 2
    assert "only the local stand-in can inject faults" in result.stderr + result.stdout
    assert not (tmp_path / "reports").exists(), "nothing is started or written"


@pytest.mark.parametrize(
    ("method", "path", "group"),
    [
        ("GET", paths.NODEINFO, "instance"),
        ("GET", paths.WELL_KNOWN_NODEINFO, "instance"),
        ("GET", paths.RATE_LIMIT, "instance"),
        ("POST", paths.REGISTRATION, "auth"),
        ("POST", paths.OAUTH_APPS, "auth"),
        ("POST", paths.LOGIN, "auth"),
        ("GET", paths.USERS_ME, "auth"),
        ("POST", paths.LIBRARIES, "library"),
        ("POST", paths.UPLOADS, "upload"),
        ("GET", paths.UPLOADS, "import_poll"),
        ("GET", paths.TRACKS, "browse"),
        ("GET", paths.track(12), "browse"),
        ("GET", paths.ALBUMS, "browse"),
        ("GET", paths.ARTISTS, "browse"),
        ("GET", paths.SEARCH, "search"),
        ("GET", "/api/v1/listen/0b5c3c3e-4f7e-4a3e-9a43-1b2c3d4e5f60/", "listen"),
        ("POST", paths.FAVORITES, "favorites"),
        ("POST", paths.PLAYLISTS, "playlists"),
        ("POST", paths.LISTENINGS, "history"),
        ("GET", "/api/subsonic/rest/ping.view", "subsonic"),
        ("GET", "/front/index.html", OTHER),
    ],
)
def test_every_path_the_users_call_falls_in_the_group_they_record(method: str, path: str, group: str):
    assert request_group(method, path) == group


@pytest.mark.parametrize(
    ("method", "path", "authenticated", "scope"),
    [
        ("POST", paths.LOGIN, False, "login"),
        ("POST", paths.REGISTRATION, False, "signup"),
        ("GET", paths.TRACKS, True, "authenticated-list"),
        ("GET", paths.track(3), True, "authenticated-retrieve"),
        ("GET", paths.TRACKS, False, "anonymous-list"),
        ("POST", paths.UPLOADS, True, "authenticated-create"),
        ("POST", paths.OAUTH_APPS, True, "authenticated-oauth-app"),
        ("DELETE", paths.upload("a" * 32), True, "authenticated-destroy"),
    ],
)
def test_requests_fall_in_funkwhales_throttle_scopes(method, path, authenticated, scope):
    assert throttle_scope(method, path, authenticated) == scope


def test_restarts_are_left_to_the_launcher():
    plan = Faults.model_validate({"requests": [{"reset": 0.1}], "restarts": [{"after": 5}]})
    assert plan.without_restarts().restarts == [] and plan.without_restarts().requests == plan.requests
    with pytest.raises(ValidationError):
        Faults.model_validate({"restarts": [{"after": 5, "down": 0}]})
