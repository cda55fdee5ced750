"""A real Prometheus server for tests and benchmarks: backfilled from OpenMetrics, or scraping.

`backfill` loads a file of samples with ``promtool tsdb create-blocks-from openmetrics``;
`PrometheusServer` starts ``prometheus`` on 127.0.0.1 and a free port over that storage
(and/or scraping targets), waits until it is ready and stops it (SIGTERM, then SIGKILL)
when the ``with`` block ends. Both need the ``prometheus`` Debian package (``.ci/run``
installs it).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType
from typing import Self

import requests
import yaml

READY_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0


def tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise RuntimeError(f"{name} is not installed: apt-get install -y prometheus (.ci/run does)")
    return found


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def backfill(openmetrics: Path, storage: Path, timeout_s: float = 120.0) -> None:
    """Write TSDB blocks for the samples in ``openmetrics`` (timestamps in seconds, ``# EOF`` last)."""
    storage.mkdir(parents=True, exist_ok=True)
    done = subprocess.run([tool("promtool"), "tsdb", "create-blocks-from", "openmetrics", str(openmetrics),
                           str(storage)], capture_output=True, text=True, timeout=timeout_s, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"promtool backfill failed: {done.stderr[-2000:]}")


class PrometheusServer:
    """``with PrometheusServer(storage) as prom:`` gives ``prom.url`` (and stops the server after)."""

    def __init__(self, storage: Path, *, targets: list[str] | None = None, scrape_interval: str = "1s",
                 web_config: dict | None = None, job: str = "kubelet"):
        self.storage = storage
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._targets = targets or []
        self._scrape_interval = scrape_interval
        self._web_config = web_config
        self._job = job
        self._process: subprocess.Popen[bytes] | None = None
        self._log = storage.parent / f"prometheus-{self.port}.log"

    def start(self) -> Self:
        self.storage.mkdir(parents=True, exist_ok=True)
        config = {"global": {"scrape_interval": self._scrape_interval, "evaluation_interval": "1m"},
                  "scrape_configs": [{"job_name": self._job, "honor_labels": True,
                                      "static_configs": [{"targets": self._targets}]}] if self._targets else []}
        config_file = self.storage.parent / f"prometheus-{self.port}.yml"
        config_file.write_text(yaml.safe_dump(config))
        command = [tool("prometheus"), "--config.file", str(config_file), "--storage.tsdb.path", str(self.storage),
                   "--web.listen-address", f"127.0.0.1:{self.port}", "--log.level", "warn",
                   "--storage.tsdb.retention.time", "30d"]
        if self._web_config is not None:
            web_file = self.storage.parent / f"prometheus-web-{self.port}.yml"
            web_file.write_text(yaml.safe_dump(self._web_config))
            command += ["--web.config.file", str(web_file)]
        log = open(self._log, "wb")  # noqa: SIM115 - handed to the child
        self._process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                raise RuntimeError(f"prometheus exited with {self._process.returncode}: {self.log_tail()}")
            try:
                answer = requests.get(self.url + "/-/ready", timeout=2)
                if answer.status_code in (200, 401):
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"prometheus was not ready within {READY_TIMEOUT_S:g} s: {self.log_tail()}")

    def log_tail(self) -> str:
        try:
            return self._log.read_text(errors="replace")[-2000:]
        except OSError:
            return ""

    def wait_for_samples(self, query: str, count: int, timeout_s: float = 30.0) -> None:
        """Until ``count`` scrapes of the series ``query`` selects are stored (a scraping server)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            answer = requests.get(self.url + "/api/v1/query", params={"query": f"count_over_time({query}[5m])"},
                                  timeout=5).json()
            result = answer.get("data", {}).get("result") or []
            if result and min(float(item["value"][1]) for item in result) >= count:
                return
            time.sleep(0.5)
        raise RuntimeError(f"prometheus stored fewer than {count} samples of {query} in {timeout_s:g} s")

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=STOP_TIMEOUT_S)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.stop()
