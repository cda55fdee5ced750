"""Fixtures: the stand-in, a finished plain Locust run without a collector, and a real
Prometheus holding cAdvisor and kube-state-metrics series for that run's window."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from fwload.standin.launcher import StandinProcess
from tests.e2e.helpers import FWLOAD, locust, only_run_dir, run
from tests.prometheus.server import PrometheusServer, backfill
from tests.prometheus.shapes import MIB, Box, openmetrics

HISTORY_S = 6 * 3600.0
HISTORY_SCRAPE_S = 15.0
RUN_SCRAPE_S = 1.0


@pytest.fixture(scope="package")
def standin() -> Iterator[StandinProcess]:
    with StandinProcess() as process:
        yield process


@pytest.fixture(scope="package")
def plain_run(standin: StandinProcess, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A plain ``locust`` run (no fwload run, no collector), as a CI job would make it.

    The audio fixtures are made first: generated inside the run's first tick, they would eat
    into its 6 s (the load shape's clock is already going)."""
    made = run([*FWLOAD, "fixtures"], timeout=300)
    assert made.code == 0, made.err[-2000:]
    reports = tmp_path_factory.mktemp("plain-run")
    done = locust("--host", standin.url, "-u", "2", "-r", "2", "-t", "6s", "--collector", "none",
                  "--reports-dir", str(reports), timeout=180)
    assert done.code in (0, 1, 3), done.err[-3000:]
    found = only_run_dir(reports)
    assert json.loads((found / "run.json").read_text())["counts"]["requests"] > 0, done.err[-3000:]
    return found


@dataclass
class Backfilled:
    url: str
    start: float
    end: float
    boxes: list[Box]


def scripted_cluster(start: float, namespace: str, labelled: bool = True) -> list[Box]:
    """Three components; in the run: a worker process OOM-killed (the container lives on) in
    celery-worker, the api container OOM-killed and restarted, nginx throttled at its CPU limit."""
    return [
        Box(namespace, "api", "api", cpu_cores=0.25, memory_bytes=300 * MIB, oom_restarts=[start + 4.5],
            labelled=labelled),
        Box(namespace, "celery-worker", "celery-worker", cpu_cores=0.5, memory_bytes=100 * MIB,
            worker_ooms=[start + 2.5], labelled=labelled),
        Box(namespace, "nginx", "nginx", cpu_cores=0.1, memory_bytes=20 * MIB, cpu_limit_m=200,
            throttled_share=0.3, labelled=labelled),
    ]


@pytest.fixture(scope="package")
def backfilled(plain_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backfilled]:
    """6 h of history at a 15 s scrape, then 1 s scrapes around the run; namespace ``funkwhale``
    with the component labels allow-listed, ``plain`` as kube-state-metrics exports by default,
    ``crashing`` with one container in CrashLoopBackOff. kube_pod_container_status_ready is left
    out, to be named as missing."""
    meta = json.loads((plain_run / "run.json").read_text())
    start, end = meta["started_at"], meta["ended_at"]
    last = min(end + 5, time.time() - 1)
    first = last - HISTORY_S

    def every(ts: float) -> float:
        return RUN_SCRAPE_S if ts >= start - 300 else HISTORY_SCRAPE_S

    boxes = scripted_cluster(start, "funkwhale")
    crashing = Box("crashing", "celery-beat", "celery-beat", crash_looping=3)
    text = openmetrics([*boxes, *scripted_cluster(start, "plain", labelled=False), crashing], first, last, every,
                       omit=("kube_pod_container_status_ready",), duplicate_kubelet=True)
    folder = tmp_path_factory.mktemp("prometheus")
    (folder / "samples.om").write_text(text)
    backfill(folder / "samples.om", folder / "tsdb")
    with PrometheusServer(folder / "tsdb") as server:
        yield Backfilled(server.url, start, end, boxes)
