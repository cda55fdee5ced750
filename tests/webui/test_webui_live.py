"""`fwload ui` end to end over HTTP: the tabs' data, reset, scenario changes, distributed mode.

Locust, its workers and the stand-in run as subprocesses on 127.0.0.1; the tests read the
same ``/stats/requests`` answers and CSV downloads the page reads.
"""

from __future__ import annotations

import json
from collections import Counter

from fwload.webui.tables import FLOWS, RESOURCES, SLOS

from tests.webui.uiprocess import cell, csv_rows, fwload_ui, number


def whole_run_samples(ui, slo: str) -> int:
    return int(cell(ui.csv("/fwload/slos.csv"), "slo", slo)["whole_samples"])


def test_distributed_tabs_count_the_rows_of_every_worker(tmp_path, write_scenario):
    scenario = write_scenario("distributed", "12s", users=4)
    with fwload_ui(scenario, tmp_path / "reports", "--processes", "2") as ui:
        ui.wait_for("two workers", lambda: ui.stats().get("worker_count") == 2)
        ui.start(scenario)
        run_dir, meta = ui.finished_run("distributed")
        requests_rows = csv_rows(run_dir / "requests.csv")
        by_worker = Counter(row["worker"] for row in requests_rows)
        assert len(by_worker) == 2 and all(by_worker.values()), by_worker
        counted = sum(1 for row in requests_rows if row["error_kind"] != "throttled")
        assert whole_run_samples(ui, "error ratio") == counted
        browse = [row for row in requests_rows if row["group"] == "browse" and not row["error_kind"]]
        assert whole_run_samples(ui, "latency p95 [browse]") == len(browse)
        imports = Counter(row["outcome"] for row in csv_rows(run_dir / "imports.csv"))
        flows = ui.tab(FLOWS)
        assert number(cell(flows, "measure", "imports finished")["whole_run"]) == imports["finished"] > 0
        assert number(cell(flows, "measure", "streams played")["whole_run"]) == len(csv_rows(run_dir / "streams.csv"))
        assert cell(ui.tab(RESOURCES), "component", "standin")["cpu"].endswith("m")
        assert meta["status"] == "complete" and meta["counts"]["requests.csv"] == len(requests_rows)
        assert meta["locust"]["workers"] == 2
        assert ui.interrupt() == meta["exit_code"]


def test_reset_and_a_new_scenario_from_the_start_form_take_effect(tmp_path, write_scenario):
    first = write_scenario("first", "2m")
    second = write_scenario("second", "6s", users=2)
    with fwload_ui(first, tmp_path / "reports") as ui:
        ui.start(first)
        before = ui.wait_for("50 timed requests", lambda: (n := whole_run_samples(ui, "error ratio")) >= 50 and n)
        ui.post("/stats/reset")
        assert whole_run_samples(ui, "error ratio") < before
        ui.post("/stop")
        first_dir, first_meta = ui.finished_run("first")
        events = [json.loads(line)["type"] for line in (first_dir / "events.jsonl").read_text().splitlines()]
        assert "stats_reset" in events and first_meta["status"] == "complete"

        ui.start(tmp_path / "missing.yaml")
        refused = ui.wait_for("the refusal", lambda: cell(ui.tab(SLOS), "slo", "test refused")["detail"])
        assert "missing.yaml" in refused and "no such scenario file" in refused

        ui.start(second)
        second_dir, second_meta = ui.finished_run("second")
        assert cell(ui.tab(SLOS), "slo", "scenario second")
        assert second_meta["scenario"]["name"] == "second" and second_meta["status"] == "complete"
        assert int(second_meta["counts"]["requests.csv"]) > 0
        assert [path.name.rsplit("-", 1)[1] for path in ui.run_dirs()] == ["first", "second"]
        ui.interrupt()
