"""The Prometheus collector in process, against the real backfilled Prometheus: a live run's
successive collections, long range queries in pieces, and the readiness gate's view."""

from __future__ import annotations

from fwload.collectors.prometheus import PrometheusAPI, PrometheusCollector
from fwload.collectors.prometheus.api import MAX_POINTS
from fwload.collectors.prometheus.queries import METRICS
from tests.prometheus.conftest import HISTORY_S, Backfilled


def collector(backfilled: Backfilled, now: list[float], **settings) -> PrometheusCollector:
    return PrometheusCollector(backfilled.url, namespace="funkwhale", interval_s=1.0, clock=lambda: now[0],
                               **settings)


def rows_of(collection) -> list[tuple]:
    return [tuple(sample.as_row().values()) for sample in collection.samples]


def test_collections_one_interval_apart_give_what_one_collection_of_the_window_gives(backfilled):
    now = [backfilled.start]
    whole = collector(backfilled, now)
    whole.check_window(backfilled.start, backfilled.end)
    expected = whole.collect_window(backfilled.start, backfilled.end)
    live = collector(backfilled, now, scrape_interval_s=1.0)
    samples, events, sent = [], [], []
    ts = backfilled.start + 1 - (backfilled.start % 1)
    while ts <= backfilled.end:
        now[0] = ts + 0.3  # the loop wakes just after each evaluation time
        before = live.api.calls["/api/v1/query_range"]
        got = live.collect()
        sent.append(live.api.calls["/api/v1/query_range"] - before)
        samples += rows_of(got)
        events += [(e.ts, e.type, e.data) for e in got.events]
        ts += 1
    assert samples == rows_of(expected)
    assert events == [(e.ts, e.type, e.data) for e in expected.events if e.type != "collector_notice"]
    assert set(sent) == {len(METRICS)}, "one query per metric per interval, whatever the number of pods"
    whole.close()
    live.close()


def test_a_collection_with_nothing_new_on_the_step_grid_sends_nothing(backfilled):
    now = [int(backfilled.start) + 1.1]
    live = collector(backfilled, now, scrape_interval_s=1.0)
    assert live.collect().samples
    now[0] += 0.5
    before = sum(live.api.calls.values())
    assert live.collect().samples == [] and sum(live.api.calls.values()) == before
    live.close()


def test_a_range_longer_than_prometheus_allows_is_fetched_in_pieces_without_gaps(backfilled):
    api = PrometheusAPI(backfilled.url)
    end = backfilled.end
    start = end - HISTORY_S
    found = api.query_range('kube_pod_info{namespace="funkwhale",pod=~"api-.*"}', start, end, 1.0)
    assert api.calls["/api/v1/query_range"] == -(-int(HISTORY_S + 1) // MAX_POINTS) > 1
    assert len(found) == 1
    stamps = [ts for ts, _ in found[0].points]
    assert stamps == sorted(set(stamps)) and all(abs(b - a - 1) < 1e-6 for a, b in zip(stamps, stamps[1:]))
    assert end - 1 < stamps[-1] <= end + 0.001 and len(stamps) > HISTORY_S - 60
    api.close()


def test_the_readiness_gate_sees_each_component_and_nothing_once_the_series_are_gone(backfilled):
    now = [backfilled.end]
    live = collector(backfilled, now)
    health = {h.component: h for h in live.health()}
    assert set(health) == {"api", "celery-worker", "nginx"}
    assert all(h.alive and h.ready for h in health.values()), health
    assert health["api"].detail == "1/1 pods ready"
    now[0] = backfilled.end + 3600  # beyond the lookback delta: kube-state-metrics says nothing
    assert live.health() == []
    live.close()


def test_a_component_crash_looping_at_start_is_dead_to_the_readiness_gate_with_its_reason(backfilled):
    now = [backfilled.end]
    live = PrometheusCollector(backfilled.url, namespace="crashing", clock=lambda: now[0])
    (beat,) = live.health()
    assert (beat.component, beat.alive, beat.ready) == ("celery-beat", False, False)
    assert "CrashLoopBackOff, last terminated OOMKilled, 3 restarts" in beat.detail
    live.close()
