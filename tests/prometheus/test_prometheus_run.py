"""A Prometheus-backed ``fwload run``: a real Prometheus scrapes (every second) an exporter that
publishes the stand-in's real process as a kube-state-metrics/cAdvisor container, behind an
nginx that only lets the right bearer token through."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from fwload.collectors.prometheus.queries import METRICS
from fwload.limits import documented_limits
from fwload.recording import schema
from fwload.standin.launcher import StandinProcess
from tests.e2e.helpers import FWLOAD, all_text, only_run_dir, rows, run
from tests.prometheus.auth_proxy import BearerProxy
from tests.prometheus.exporter import Exporter, ProcessAsContainer
from tests.prometheus.server import PrometheusServer

TOKEN = "prom-test-token-7f3a9c1e5b"
TOKEN_ENV = "FWLOAD_TEST_PROMETHEUS_TOKEN"
SCENARIO = """\
name: prom-live
users:
  - class: Listener
    options: {wait: [0.5s, 1s], max_stream_bytes: 262144}
load: {profile: steps, users: 2, spawn_rate: 2, duration: 8s, steps: {count: 2}}
collector: {interval: 1s, namespace: funkwhale}
target: {ready_timeout: 20s}
"""


@dataclass
class Scraped:
    prometheus: str
    proxy: str


@pytest.fixture(scope="module")
def scraped(standin: StandinProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scraped]:
    api = documented_limits()["api"]
    container = ProcessAsContainer(
        standin.pid, namespace="funkwhale", component="api",
        requests={"cpu": api.cpu_request_m / 1000, "memory": api.memory_request_bytes},
        limits={"cpu": api.cpu_limit_m / 1000, "memory": api.memory_limit_bytes},
        omit=("container_memory_rss",),
    )
    folder = tmp_path_factory.mktemp("prometheus-live")
    with Exporter(container) as exporter, \
            PrometheusServer(folder / "tsdb", targets=[exporter.target], scrape_interval="1s") as prometheus, \
            BearerProxy(prometheus.url, TOKEN) as proxy:
        prometheus.wait_for_samples('container_cpu_usage_seconds_total{container="api"}', 3)
        yield Scraped(prometheus.url, proxy.url)


def fwload_run(tmp_path: Path, standin: StandinProcess, url: str, token: str | None = None):
    scenario = tmp_path / "prom-live.yaml"
    scenario.write_text(SCENARIO)
    command = [*FWLOAD, "run", str(scenario), "--host", standin.url, "--collector", "prometheus",
               "--prometheus-url", url, "--out", str(tmp_path / "reports")]
    if token is not None:
        command += ["--prometheus-token-env", TOKEN_ENV]
    return run(command, timeout=240, env={TOKEN_ENV: token} if token is not None else None)


def range_queries(prometheus: str) -> float:
    """What the server itself counted (its own /metrics): query_range requests answered so far."""
    text = requests.get(prometheus + "/metrics", timeout=5).text
    return sum(sample.value for family in text_string_to_metric_families(text)
               for sample in family.samples
               if sample.name == "prometheus_http_requests_total"
               and sample.labels.get("handler") == "/api/v1/query_range")


def test_a_prometheus_backed_run_samples_the_target_and_reports_on_it_without_keeping_the_token(
        scraped, standin, tmp_path):
    before = range_queries(scraped.prometheus)
    done = fwload_run(tmp_path, standin, scraped.proxy, token=TOKEN)
    sent = range_queries(scraped.prometheus) - before
    assert done.code in (0, 1, 3), done.out[-3000:] + done.err[-3000:]
    run_dir = only_run_dir(tmp_path / "reports")
    meta = json.loads((run_dir / schema.RUN_JSON).read_text())
    assert meta["status"] == "complete"
    collector = meta["collector"]
    assert (collector["backend"], collector["credentials"], collector["interval_s"]) == (
        "prometheus", f"environment variable {TOKEN_ENV}", 1.0)
    assert collector["scrape_interval_s"] == 1.0 and collector["rate_window_s"] == 4.0
    samples = rows(run_dir, schema.RESOURCES_CSV)
    assert {(s["source"], s["component"], s["container"]) for s in samples} == {("prometheus", "api", "api")}
    assert len(samples) >= 5 and all(float(s["memory_bytes"]) > 0 for s in samples)
    assert any(float(s["cpu_m"] or 0) > 0 for s in samples)
    assert {s["memory_limit_bytes"] for s in samples} == {str(documented_limits()["api"].memory_limit_bytes)}
    stamps = {float(s["ts"]) for s in samples}
    assert sent > 0 and sent % len(METRICS) == 0 and sent / len(METRICS) <= len(stamps), \
        "one query_range per metric per collection"
    events = [json.loads(line) for line in (run_dir / schema.EVENTS_JSONL).read_text().splitlines()]
    assert not [e for e in events if e["type"] == "gap"]
    rss = [e for e in events if e["type"] == "collector_notice" and "container_memory_rss" in e["detail"]]
    assert len(rss) == 1 and "cAdvisor" in rss[0]["detail"]
    readiness = next(e for e in events if e["type"] == "readiness")
    assert readiness["ready"] and "api" in readiness["components"]
    verdict = json.loads((run_dir / "verdict.json").read_text())
    assert "api" in verdict["components"] and verdict["components"]["api"]["source"] == "prometheus"
    assert verdict["capacity"]["applicable"] and len(verdict["capacity"]["levels"]) >= 2
    assert [row["component"] for row in verdict["capacity"]["recommendations"]] == ["api"]
    page = (run_dir / "report.html").read_text()
    assert 'id="resources"' in page and 'id="capacity"' in page and "Right-sizing" in page
    assert TOKEN not in all_text(run_dir), "the token was sent (the proxy let the queries through), never kept"
    assert TOKEN not in done.out + done.err


@pytest.mark.parametrize(("token", "message"), [
    ("wrong-token", f"refused the bearer token from environment variable {TOKEN_ENV} (401 Unauthorized)"),
    (None, "asks for credentials (401)"),
])
def test_a_refused_token_is_one_error_exit_2_before_any_load(scraped, standin, tmp_path, token, message):
    done = fwload_run(tmp_path, standin, scraped.proxy, token=token)
    output = " ".join((done.out + done.err).split())
    assert done.code == 2, output[-3000:]
    assert output.count("fwload: error:") == 1 and message in output and "fix:" in output
    if token is not None:
        assert token not in output
    run_dir = only_run_dir(tmp_path / "reports")
    assert json.loads((run_dir / schema.RUN_JSON).read_text())["status"] == "refused"
    requests_csv = run_dir / schema.REQUESTS_CSV
    assert not requests_csv.exists() or not rows(run_dir, schema.REQUESTS_CSV), "no load was sent"
