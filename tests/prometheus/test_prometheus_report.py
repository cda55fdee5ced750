"""``fwload report --collect-from prometheus`` and ``--history`` on a finished plain Locust run,
against a real Prometheus holding backfilled cAdvisor and kube-state-metrics series."""

from __future__ import annotations

import html
import json
import shutil
import statistics
from collections import Counter
from pathlib import Path

import pytest

from fwload.recording import schema
from tests.e2e.helpers import FWLOAD, rows, run
from tests.prometheus.conftest import HISTORY_S, Backfilled
from tests.prometheus.server import free_port
from tests.prometheus.shapes import MIB


def copy_of(run_dir: Path, tmp_path: Path) -> Path:
    target = tmp_path / run_dir.name
    shutil.copytree(run_dir, target)
    return target


def report(run_dir: Path, *args: str) -> object:
    return run([*FWLOAD, "report", str(run_dir), *args], timeout=180)


def events(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / schema.EVENTS_JSONL).read_text().splitlines() if line]


@pytest.fixture(scope="module")
def collected(plain_run: Path, backfilled: Backfilled, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    target = copy_of(plain_run, tmp_path_factory.mktemp("collected"))
    done = report(target, "--collect-from", "prometheus", "--prometheus-url", backfilled.url, "--step", "1s")
    return target, done


def test_collect_from_prometheus_fills_the_resources_of_a_run_that_had_none(collected, plain_run):
    run_dir, done = collected
    assert not rows(plain_run, schema.RESOURCES_CSV), "the plain run had no collector"
    assert done.code == 3, done.out[-3000:] + done.err[-3000:]  # the api OOM kill breaks max_oom_kills
    samples = rows(run_dir, schema.RESOURCES_CSV)
    assert {row["source"] for row in samples} == {"prometheus"}
    assert {row["component"] for row in samples} == {"api", "celery-worker", "nginx"}
    assert {row["container"] for row in samples} == {"api", "celery-worker", "nginx"}, "no pod-level or pause rows"
    meta = json.loads((run_dir / schema.RUN_JSON).read_text())
    assert all(meta["started_at"] <= float(row["ts"]) <= meta["ended_at"] + 1 for row in samples)
    by = {name: [row for row in samples if row["component"] == name] for name in ("api", "celery-worker", "nginx")}
    assert statistics.median(float(r["cpu_m"]) for r in by["api"] if r["cpu_m"]) == pytest.approx(250, abs=0.01)
    assert statistics.median(float(r["cpu_m"]) for r in by["celery-worker"] if r["cpu_m"]) == pytest.approx(500, abs=0.01)
    assert {int(r["memory_bytes"]) for r in by["celery-worker"]} == {100 * MIB}, "scraped twice, counted once"
    worker = by["celery-worker"][-1]
    assert (float(worker["cpu_request_m"]), int(worker["memory_limit_bytes"])) == (100, 256 * MIB)
    assert worker["cpu_limit_m"] == "" and worker["memory_anon_bytes"] != ""
    assert all(r["ready"] == "" for r in samples), "kube_pod_container_status_ready was not exported"
    assert (by["api"][-1]["restarts"], by["api"][-1]["oom_kills"], worker["oom_kills"]) == ("1", "1", "1")
    nginx = by["nginx"]
    throttled = int(nginx[-1]["throttled_periods"]) - int(nginx[0]["throttled_periods"])
    periods = int(nginx[-1]["periods"]) - int(nginx[0]["periods"])
    assert throttled / periods == pytest.approx(0.3, abs=0.02)
    assert meta["counts"][schema.RESOURCES.name] == len(samples)
    assert (meta["collector"]["backend"], meta["collector"]["collected_after"]) == ("prometheus", True)
    assert meta["collector"]["scrape_interval_s"] == 1.0 and meta["collector"]["step_s"] == 1.0


def test_collected_oom_kills_and_restarts_are_events_counted_once(collected):
    run_dir, _ = collected
    mine = [event for event in events(run_dir) if event.get("collected_after")]
    restarts = [e for e in mine if e["type"] == "restart"]
    assert [(e["component"], e["restarts"], e["reason"]) for e in restarts] == [("api", 1, "OOMKilled")]
    kills = Counter()
    for event in mine:
        if event["type"] == "oom_kill":
            kills[event["component"]] += event["count"]
    assert kills == {"api": 1, "celery-worker": 1}, "cAdvisor and kube-state-metrics saw the api kill: once"
    verdict = json.loads((run_dir / "verdict.json").read_text())
    failed = {check["name"] for check in verdict["checks"] if check["passed"] is False}
    assert any("oom" in name for name in failed), failed
    assert {"api", "celery-worker", "nginx"} <= set(verdict["components"])


def test_a_missing_metric_is_named_once_with_its_exporter(collected):
    run_dir, done = collected
    notices = [e["detail"] for e in events(run_dir) if e["type"] == "collector_notice"]
    about = [text for text in notices if "kube_pod_container_status_ready" in text]
    assert len(about) == 1 and "kube-state-metrics" in about[0]
    assert not [text for text in notices if "container_memory_rss" in text or "cAdvisor series" in text]
    assert done.out.count("kube_pod_container_status_ready") + done.err.count("kube_pod_container_status_ready") == 1


def test_the_report_shows_resources_capacity_and_right_sizing_of_the_collected_samples(collected):
    run_dir, _ = collected
    page = (run_dir / "report.html").read_text()
    for section in ('id="resources"', 'id="capacity"', "Right-sizing"):
        assert section in page
    verdict = json.loads((run_dir / "verdict.json").read_text())
    sized = {row["component"]: row for row in verdict["capacity"]["recommendations"]}
    assert set(sized) == {"api", "celery-worker", "nginx"}
    assert sized["celery-worker"]["krr_cpu_request_m"] == 500 and sized["celery-worker"]["window"] == "load test"
    assert verdict["capacity"]["rightsizing_basis"].startswith("computed from this run's samples only")


def test_history_feeds_right_sizing_only_and_collecting_again_replaces_the_last_collection(
        collected, backfilled, tmp_path):
    run_dir = copy_of(collected[0], tmp_path)
    before = json.loads((run_dir / "verdict.json").read_text())
    first, kinds = rows(run_dir, schema.RESOURCES_CSV), Counter(e["type"] for e in events(run_dir))
    done = report(run_dir, "--collect-from", "prometheus", "--step", "1s", "--history", "6h",
                  "--prometheus-url", backfilled.url)
    assert done.code == 3, done.err[-3000:]
    assert rows(run_dir, schema.RESOURCES_CSV) == first, "the same window collected again, not appended"
    assert Counter(e["type"] for e in events(run_dir)) == kinds
    history = rows(run_dir, schema.RESOURCE_HISTORY_CSV)
    meta = json.loads((run_dir / schema.RUN_JSON).read_text())
    described = meta["resource_history"]
    assert (described["window_s"], described["step_s"], described["samples"]) == (HISTORY_S, 60.0, len(history))
    assert meta["counts"][schema.RESOURCE_HISTORY.name] == len(history)
    assert {row["component"] for row in history} == {"api", "celery-worker", "nginx"}
    assert len(history) >= 3 * (HISTORY_S / 60 - 2)
    after = json.loads((run_dir / "verdict.json").read_text())
    assert after["checks"] == before["checks"] and after["components"] == before["components"]
    sized = {row["component"]: row for row in after["capacity"]["recommendations"]}
    assert sized["api"]["window"] == "6h history" and sized["api"]["cpu_samples"] > 300
    assert sized["api"]["krr_memory_bytes"] == 345 * MIB  # 300 MiB x 1.15, rounded up to the MiB
    basis = after["capacity"]["rightsizing_basis"]
    assert basis.startswith(f"computed from 6h of Prometheus history ({len(history)} samples at a 1m step")
    assert basis in html.unescape((run_dir / "report.html").read_text())
    assert basis in (run_dir / "recommendations" / "kustomization.yaml").read_text()
    assert f"{len(history)} samples" in " ".join((done.out + done.err).split())


def test_samples_recorded_during_the_run_are_never_mixed_with_collected_ones(collected, backfilled, tmp_path):
    run_dir = copy_of(collected[0], tmp_path)
    meta = json.loads((run_dir / schema.RUN_JSON).read_text())
    meta["collector"] = {"backend": "kubernetes", "interval_s": 15}
    (run_dir / schema.RUN_JSON).write_text(json.dumps(meta))
    stored_before = (run_dir / schema.RESOURCES.parquet_name).read_bytes()
    done = report(run_dir, "--collect-from", "prometheus", "--prometheus-url", backfilled.url)
    assert done.code == 2
    assert "resource samples recorded during the run" in " ".join((done.out + done.err).split())
    assert (run_dir / schema.RESOURCES.parquet_name).read_bytes() == stored_before


def test_without_exported_pod_labels_components_come_from_the_owners_and_it_says_so_once(
        plain_run, backfilled, tmp_path):
    run_dir = copy_of(plain_run, tmp_path)
    done = report(run_dir, "--collect-from", "prometheus", "--prometheus-url", backfilled.url, "--step", "1s",
                  "--namespace", "plain", "--format", "json")
    assert done.code == 3, done.err[-3000:]
    assert {row["component"] for row in rows(run_dir, schema.RESOURCES_CSV)} == {"api", "celery-worker", "nginx"}
    notices = [e["detail"] for e in events(run_dir) if e["type"] == "collector_notice"]
    labels = [text for text in notices if "--metric-labels-allowlist" in text]
    assert len(labels) == 1 and "Deployments" in labels[0]


@pytest.mark.parametrize(("where", "message"), [
    ("closed", "cannot reach Prometheus"),
    ("standin", "is not a Prometheus HTTP API"),
])
def test_a_wrong_url_is_one_error_exit_2_and_changes_nothing(plain_run, standin, tmp_path, where, message):
    run_dir = copy_of(plain_run, tmp_path)
    before = {path.name: path.read_bytes() for path in run_dir.iterdir() if path.is_file()}
    url = f"http://127.0.0.1:{free_port()}" if where == "closed" else standin.url
    done = report(run_dir, "--collect-from", "prometheus", "--prometheus-url", url)
    assert done.code == 2
    output = " ".join((done.out + done.err).split())
    assert output.count("fwload: error:") == 1 and message in output and "fix:" in output
    assert {path.name: path.read_bytes() for path in run_dir.iterdir() if path.is_file()} == before


def test_a_run_without_any_prometheus_url_asks_for_one(plain_run, tmp_path):
    done = report(copy_of(plain_run, tmp_path), "--collect-from", "prometheus")
    assert done.code == 2 and "needs the URL of the Prometheus server" in " ".join((done.out + done.err).split())
