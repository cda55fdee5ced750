"""The real suite against a sick stand-in: helpers to start it, run Locust or ``fwload run`` as
subprocesses (never Locust inside pytest) and read what the run directory holds."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import requests
import yaml

from fwload.fixtures import ensure_fixtures
from fwload.fixtures.audio import render_track
from fwload.funkwhale import api, paths
from fwload.scenario.faults import Faults
from fwload.standin.launcher import StandinProcess
from tests.tables import table_frame

REPO = Path(__file__).resolve().parents[2]
LOCUSTFILE = REPO / "locustfiles" / "funkwhale.py"
RUN_TIMEOUT_S = 120
TIMEOUT_S = 10
WAIT_S = 15


@pytest.fixture(scope="session")
def fixtures_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Audio fixtures made once for the session (Locust would otherwise make them in every run)."""
    folder = tmp_path_factory.mktemp("audio")
    ensure_fixtures(str(folder))
    return folder


@pytest.fixture
def standin() -> Iterator[StandinProcess]:
    with StandinProcess(ready_timeout_s=30.0) as process:
        yield process


def scenario_file(
    folder: Path,
    name: str,
    *,
    duration: str = "15s",
    users: int = 3,
    uploader: dict[str, Any] | None = None,
    listener: dict[str, Any] | None = None,
    faults: dict[str, Any] | None = None,
    slos: dict[str, Any] | None = None,
    collector: str = "none",
) -> Path:
    """A short scenario: listeners and an uploader with quick think times, no resource collector
    unless asked."""
    data: dict[str, Any] = {
        "name": name,
        "users": [
            {
                "class": "Listener",
                "weight": 2,
                # full-speed audio: these runs count requests under faults, many in a few seconds
                "options": {"wait": ["0.2s", "0.5s"], "max_stream_bytes": 262144, "playback": "download",
                            **(listener or {})},
            },
            {
                "class": "Uploader",
                "weight": 1,
                "options": {"wait": ["0.2s", "0.5s"], "import_timeout": "6s", "playback": "download",
                            **(uploader or {})},
            },
        ],
        "load": {"profile": "constant", "users": users, "spawn_rate": users, "duration": duration},
        "collector": {"backend": collector},
        "slos": slos or {"error_ratio": 0.01},
    }
    if faults:
        Faults.model_validate(faults)
        data["faults"] = faults
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def environment(fixtures: Path) -> dict[str, str]:
    return {**os.environ, "FWLOAD_FIXTURES_DIR": str(fixtures), "PYTHONUNBUFFERED": "1"}


def locust_command(scenario: Path, host: str, reports: Path) -> list[str]:
    """Plain ``locust`` with the fwload plugin, as a user types it; the plugin writes and reports the run."""
    return [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(LOCUSTFILE),
        "--headless",
        "--only-summary",
        "--scenario",
        str(scenario),
        "--host",
        host,
        "--reports-dir",
        str(reports),
        "--stop-timeout",
        "5",
    ]


def run_locust(
    scenario: Path, host: str, reports: Path, fixtures: Path, *extra: str
) -> tuple[subprocess.CompletedProcess[str], Path]:
    result = subprocess.run(
        [*locust_command(scenario, host, reports), *extra],
        check=False,
        cwd=REPO,
        env=environment(fixtures),
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        stdin=subprocess.DEVNULL,
    )
    return result, only_run_dir(reports, result)


def run_fwload(
    *args: str, fixtures: Path, timeout: float = RUN_TIMEOUT_S
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fwload", *args],
        check=False,
        cwd=REPO,
        env=environment(fixtures),
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def only_run_dir(reports: Path, result: subprocess.CompletedProcess[str] | None = None) -> Path:
    found = [path for path in reports.iterdir() if (path / "run.json").is_file()] if reports.is_dir() else []
    assert len(found) == 1, f"expected one run directory in {reports}, found {found}\n" + (
        f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}" if result is not None else ""
    )
    return found[0]


@dataclass
class RunFiles:
    """What a run directory holds, read the way a person would check it."""

    path: Path

    @property
    def meta(self) -> dict[str, Any]:
        return json.loads((self.path / "run.json").read_text())

    @property
    def requests(self) -> pd.DataFrame:
        return table_frame(self.path, "requests")

    @property
    def imports(self) -> pd.DataFrame:
        return table_frame(self.path, "imports")

    @property
    def events(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in (self.path / "events.jsonl").read_text().splitlines() if line]

    def events_of(self, kind: str) -> list[dict[str, Any]]:
        return [event for event in self.events if event["type"] == kind]

    @property
    def verdict(self) -> dict[str, Any]:
        return json.loads((self.path / "verdict.json").read_text())

    @property
    def summary(self) -> str:
        return (self.path / "summary.md").read_text()

    @property
    def locust_totals(self) -> tuple[int, int]:
        """(requests, failures) in Locust's own statistics, summed over its entries."""
        stats = json.loads((self.path / "locust" / "stats.json").read_text())
        return sum(entry["num_requests"] for entry in stats), sum(entry["num_failures"] for entry in stats)


def rows_per_group(requests: pd.DataFrame) -> dict[str, int]:
    return {str(group): int(count) for group, count in requests.groupby("group").size().items()}


def server_per_group(counts: dict[str, dict[str, Any]], field: str) -> dict[str, int]:
    return {
        group: int(entry.get(field, 0))
        for group, entry in counts.items()
        if group not in ("imports", "other") and entry.get(field)
    }


class Client:
    """One registered account with its app token, against the module's stand-in."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.username = f"rel{secrets.token_hex(5)}"
        self.password = f"pw-{secrets.token_hex(8)}"
        self.http = requests.Session()
        answer = self.http.post(
            url + paths.REGISTRATION,
            json=api.registration_body(self.username, self.password),
            timeout=TIMEOUT_S,
        )
        assert answer.status_code == 201, answer.text
        app = self.http.post(
            url + paths.OAUTH_APPS,
            json=api.app_body(),
            auth=(self.username, self.password),
            timeout=TIMEOUT_S,
        )
        self.http.headers["Authorization"] = f"Bearer {app.json()['token']}"

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.http.get(self.url + path, timeout=TIMEOUT_S, **kwargs)

    def upload(self, library: str, reference: str) -> requests.Response:
        data = render_track(
            "mp3", title=f"Fault {reference}", artist="Fault artist", album="Fault album", seconds=1.0, seed=3
        )
        return self.http.post(
            self.url + paths.UPLOADS,
            timeout=TIMEOUT_S,
            files={"audio_file": ("f.mp3", data)},
            data=api.upload_fields(library, reference, "f.mp3"),
        )

    def import_status(self, reference: str) -> tuple[str, dict]:
        page = self.get(paths.UPLOADS, params=api.import_poll_params(reference)).json()
        status, upload = api.parse_import_state(page)
        return status, dict(upload or {})

    def library(self) -> str:
        answer = self.http.post(
            self.url + paths.LIBRARIES, json=api.library_body("faults", "me"), timeout=TIMEOUT_S
        )
        return answer.json()["uuid"]


def wait_for(condition, what: str):
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"never happened: {what}")
