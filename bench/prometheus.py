"""Benchmark 5, collector (Prometheus half): CPU time per sample of the Prometheus backend with 200 pods.

A real Prometheus (``promtool`` backfill, then ``prometheus`` on a free 127.0.0.1 port) holds
the cAdvisor and kube-state-metrics series of 200 pods (`tests.prometheus.shapes`) for a past
window; the collector samples it as in a live run, one interval after another (its clock is
moved through that window). Its CPU time is the sampling thread's own (the server is another
process). The baseline sends the same ``query_range`` requests with a bare `requests` session
and parses the JSON: the floor any collector pays. The server's own request counter
(``prometheus_http_requests_total``) proves one query per metric per interval, never one per pod.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import requests

from bench.errors import BenchError, require_tool
from bench.sizes import Sizes
from bench.table import Row

NAME = "collector"
INTERVAL_S = 15.0
SCRAPE_S = 15.0


def _served_range_queries(url: str) -> float:
    from prometheus_client.parser import text_string_to_metric_families

    text = requests.get(url + "/metrics", timeout=10).text
    return sum(sample.value for family in text_string_to_metric_families(text) for sample in family.samples
               if sample.name == "prometheus_http_requests_total"
               and sample.labels.get("handler") == "/api/v1/query_range")


def run(sizes: Sizes) -> tuple[list[Row], float]:
    """The Prometheus rows, and its CPU ms per sample (for the row beside the Kubernetes backend)."""
    require_tool("prometheus")
    require_tool("promtool")
    from fwload.collectors.prometheus import PrometheusCollector
    from fwload.collectors.prometheus.queries import METRICS, promql
    from tests.prometheus.server import PrometheusServer, backfill
    from tests.prometheus.shapes import Box, openmetrics

    samples_wanted = sizes.collector_samples
    end = time.time() - 60
    start = end - (samples_wanted + 30) * INTERVAL_S
    boxes = [Box("funkwhale", f"pod{index:03d}", "app", component=f"component{index % 6}", cpu_limit_m=500,
                 node=f"worker-{index % 4}") for index in range(sizes.pods)]
    with tempfile.TemporaryDirectory(prefix="fwload-bench-prometheus-") as folder:
        root = Path(folder)
        (root / "samples.om").write_text(openmetrics(boxes, start, end, SCRAPE_S))
        try:
            backfill(root / "samples.om", root / "tsdb")
            server = PrometheusServer(root / "tsdb").start()
        except RuntimeError as error:
            raise BenchError(f"the Prometheus benchmark could not start its server: {error}") from None
        try:
            times = iter([end - (samples_wanted + 1 - index) * INTERVAL_S for index in range(samples_wanted + 1)])
            now = [next(times)]
            collector = PrometheusCollector(server.url, namespace="funkwhale", interval_s=INTERVAL_S,
                                            scrape_interval_s=SCRAPE_S, clock=lambda: now[0])
            collector.collect()  # connection set up, first-sample baseline
            served = _served_range_queries(server.url)
            spent, samples = 0.0, 0
            for ts in times:
                now[0] = ts
                started = time.thread_time()
                result = collector.collect()
                spent += time.thread_time() - started
                samples += len(result.samples)
            queries = _served_range_queries(server.url) - served
            collector.close()
            texts = [promql(metric, "funkwhale", rate_window_s=collector.timing.rate_window_s,
                            gauge_window_s=collector.timing.gauge_window_s) for metric in METRICS]
            session = requests.Session()
            raw = 0.0
            for index in range(samples_wanted):
                at = f"{end - index * INTERVAL_S:.3f}"
                started = time.thread_time()
                for text in texts:
                    json.loads(session.post(server.url + "/api/v1/query_range", timeout=30, data={
                        "query": text, "start": at, "end": at, "step": f"{INTERVAL_S:g}"}).content)
                raw += time.thread_time() - started
            session.close()
        finally:
            server.stop()
    n = samples_wanted
    if samples != n * sizes.pods:
        raise BenchError(f"the Prometheus collector returned {samples} samples, expected {n} x {sizes.pods}")
    per_sample, raw_per_sample = spent / n * 1000, raw / n * 1000
    per_metric = queries / n / len(METRICS)
    rows = [
        Row(NAME, f"Prometheus backend: CPU per sample of {sizes.pods} pods as a share of one core at a "
            f"{INTERVAL_S:g} s interval", f"{per_sample:.1f} ms / {INTERVAL_S:g} s", "1 core",
            per_sample / 1000 / INTERVAL_S),
        Row(NAME, f"Prometheus backend: CPU ms per sample of {sizes.pods} pods vs bare query + JSON parse of the "
            "same queries", f"{per_sample:.1f} ms", f"{raw_per_sample:.1f} ms", per_sample / raw_per_sample),
        Row(NAME, f"Prometheus query_range calls per sample per metric ({len(METRICS)} metrics, counted by the "
            "server; none per pod)", f"{queries / n:g}", f"{len(METRICS)}", per_metric, "= 1 per metric",
            per_metric == 1),
    ]
    return rows, per_sample
