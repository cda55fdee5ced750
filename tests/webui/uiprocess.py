"""`fwload ui` as a subprocess (stand-in, Locust and its web UI on 127.0.0.1), and short scenarios."""

from __future__ import annotations

import contextlib
import csv
import json
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import pytest
import requests

REPO = Path(__file__).resolve().parents[2]
FWLOAD = [sys.executable, "-c", "import fwload.cli.report, fwload.cli.ui; from fwload.cli.main import main; main()"]
"""`fwload` with the ui and report commands registered, whatever fwload/cli/main.py lists."""
START_TIMEOUT_S = 90.0
STOP_TIMEOUT_S = 90.0


def scenario_text(name: str, duration: str, users: int = 3, ready_timeout: str = "60s") -> str:
    return f"""\
name: {name}
description: a short web UI test
target: {{ready_timeout: {ready_timeout}}}
users:
  - class: Listener
    weight: 2
    options: {{wait: [0.2s, 0.5s], max_stream_bytes: 262144, playback: download}}
  - class: Uploader
    weight: 1
    options: {{wait: [0.2s, 0.5s], import_timeout: 20s, bad_files: 0.2, playback: download}}
load: {{profile: constant, users: {users}, spawn_rate: {users}, duration: {duration}}}
slos:
  groups:
    browse: {{p50: 500ms, p95: 2s}}
    listen: {{p95: 2s}}
  error_ratio: 0.05
  import_wait_p95: 30s
  stream_ttfb_p95: 2s
collector: {{backend: auto, interval: 2s}}
"""


@dataclass
class UiProcess:
    """A running `fwload ui`: its URL, the folder of its run directories and its children."""

    process: subprocess.Popen[str]
    url: str
    out: Path
    children: list[psutil.Process]
    log: list[str]

    def get(self, path: str) -> requests.Response:
        answer = requests.get(self.url + path, timeout=10)
        answer.raise_for_status()
        return answer

    def post(self, path: str, **form: Any) -> requests.Response:
        answer = requests.post(self.url + path, data=form, timeout=30)
        answer.raise_for_status()
        return answer

    def stats(self) -> dict[str, Any]:
        return self.get("/stats/requests").json()

    def tab(self, key: str) -> list[dict[str, str]]:
        return next(table["data"] for table in self.stats()["extended_stats"] if table["key"] == key)

    def csv(self, path: str) -> list[dict[str, str]]:
        return list(csv.DictReader(self.get(path).text.splitlines()))

    def start(self, scenario: Path | str, **form: Any) -> dict[str, Any]:
        """Start a test as the form does; without ``user_count``/``spawn_rate``/``run_time`` the scenario's hold."""
        answer = self.post("/swarm", scenario=str(scenario), **form).json()
        assert answer["success"], answer
        return answer

    def run_dirs(self) -> list[Path]:
        return sorted(path.parent for path in self.out.glob("*/run.json"))

    def wait_for(self, what: str, check: Callable[[], Any], timeout_s: float = 60.0) -> Any:
        """Poll ``check`` until it returns something truthy; fail with ``what`` after ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"fwload ui exited early:\n{self.tail()}"
            result = check()
            if result:
                return result
            time.sleep(0.5)
        pytest.fail(f"timed out waiting for {what}\n{self.tail()}")

    def finished_run(self, name: str) -> tuple[Path, dict[str, Any]]:
        """The newest run directory of scenario ``name``, once the plugin has closed it."""

        def closed() -> tuple[Path, dict[str, Any]] | None:
            newest = [path for path in self.run_dirs() if path.name.endswith(f"-{name}")][-1:]
            for path in newest:
                meta = json.loads((path / "run.json").read_text())
                if meta["status"] != "running" and meta.get("exit_code") is not None:
                    return path, meta
            return None

        return self.wait_for(f"the run directory of {name} to be closed", closed, timeout_s=STOP_TIMEOUT_S)

    def tail(self) -> str:
        return "\n".join(self.log[-40:])

    def interrupt(self) -> int:
        """Ctrl-C: fwload ui must stop Locust and the stand-in and exit on its own."""
        self.process.send_signal(signal.SIGINT)
        code = self.process.wait(STOP_TIMEOUT_S)
        _, alive = psutil.wait_procs(self.children, timeout=5)
        assert not alive, f"left running: {alive}"
        return code


@contextlib.contextmanager
def fwload_ui(scenario: Path, out: Path, *options: str) -> Iterator[UiProcess]:
    command = [*FWLOAD, "ui", str(scenario), "--web-port", "0", "--out", str(out), *options]
    process = subprocess.Popen(command, cwd=REPO, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    log: list[str] = []
    lines: queue.Queue[str] = queue.Queue()
    readers = [threading.Thread(target=_pump, args=(process.stdout, lines.put), daemon=True),
               threading.Thread(target=_pump, args=(process.stderr, log.append), daemon=True)]
    for reader in readers:
        reader.start()
    ui = None
    try:
        url = lines.get(timeout=START_TIMEOUT_S).strip()
        assert url.startswith("http://127.0.0.1:"), url
        ui = UiProcess(process, url, out, psutil.Process(process.pid).children(recursive=True), log)
        yield ui
    except queue.Empty:
        pytest.fail("fwload ui never printed its URL:\n" + "\n".join(log[-40:]))
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                for child in ui.children if ui else []:
                    with contextlib.suppress(psutil.NoSuchProcess):
                        child.kill()
                process.kill()
                process.wait(10)


def _pump(stream: Any, sink: Callable[[str], None]) -> None:
    for line in stream:
        sink(line.rstrip("\n"))


def cell(rows: list[dict[str, str]], column: str, value: str) -> dict[str, str]:
    """The row whose ``column`` is ``value`` (the tabs have a reading order, not an id)."""
    found = [row for row in rows if row.get(column) == value]
    assert len(found) == 1, f"{value!r} in {[row.get(column) for row in rows]}"
    return found[0]


def number(text: str) -> float:
    """The leading number of a formatted cell ("1,234", "12 ms", "3 at most, …")."""
    return float(text.split()[0].replace(",", ""))
