"""`fwload ui` end to end over HTTP: the tabs' data, reset, scenario changes, distributed mode.

Locust, its workers and the stand-in run as subprocesses on 127.0.0.1; the tests read the
same ``/stats/requests`` answers and CSV downloads the page reads.
"""

from __future__ import annotations

import json
from collections import Counter

import psutil
import yaml

from fwload.recording.schema import SET_APART_KINDS
from fwload.standin.launcher import StandinProcess
from fwload.webui.launcher import free_port
from fwload.webui.tables import FLOWS, LISTENERS, RESOURCES, SLOS
from tests.tables import table_rows
from tests.webui.uiprocess import cell, fwload_ui, number

OUTCOME_ROWS = (("finished", "imports finished"), ("skipped", "imports skipped"), ("errored", "imports errored"),
                ("timeout", "imports timed out"), ("failed", "imports not followed"),
                ("unfinished", "imports cut short"))


def whole_run_samples(ui, slo: str) -> int:
    return int(cell(ui.csv("/fwload/slos.csv"), "slo", slo)["whole_samples"])


def test_distributed_tabs_count_the_rows_of_every_worker(tmp_path, write_scenario):
    scenario = write_scenario("distributed", "12s", users=4)
    with fwload_ui(scenario, tmp_path / "reports", "--processes", "2") as ui:
        ui.wait_for("two workers", lambda: ui.stats().get("worker_count") == 2)
        listening = {conn.laddr.ip for child in ui.children for conn in child.net_connections("inet")
                     if conn.status == psutil.CONN_LISTEN}
        assert listening == {"127.0.0.1"}
        ui.start(scenario)
        run_dir, meta = ui.finished_run("distributed")
        requests_rows = table_rows(run_dir, "requests")
        by_worker = Counter(row["worker"] for row in requests_rows)
        assert len(by_worker) == 2 and all(by_worker.values()), f"{by_worker}\n{ui.tail()}"
        counted = sum(1 for row in requests_rows if row["error_kind"] not in SET_APART_KINDS)
        assert whole_run_samples(ui, "error ratio") == counted
        browse = [row for row in requests_rows if row["group"] == "browse" and not row["error_kind"]]
        assert whole_run_samples(ui, "latency p95 [browse]") == len(browse)
        imports = Counter(row["outcome"] for row in table_rows(run_dir, "imports"))
        flows = ui.tab(FLOWS)
        shown = {outcome: number(cell(flows, "measure", title)["whole_run"]) for outcome, title in OUTCOME_ROWS}
        assert shown == {outcome: imports[outcome] for outcome, _ in OUTCOME_ROWS} and sum(shown.values()) > 0
        assert number(cell(flows, "measure", "streams played")["whole_run"]) == len(table_rows(run_dir, "streams"))
        whole = next(row for row in ui.tab(LISTENERS) if row["when"].startswith("whole run"))
        assert f"{len(table_rows(run_dir, 'plays')):,} plays ended" in whole["when"], whole
        assert cell(ui.tab(RESOURCES), "component", "standin")["cpu"].endswith("m")
        assert meta["status"] == "complete" and meta["counts"]["requests"] == len(requests_rows)
        assert meta["locust"]["workers"] == 2

        again = write_scenario("again", "6s", users=4)
        ui.start(again)
        again_dir, again_meta = ui.finished_run("again")
        events = [json.loads(line) for line in (again_dir / "events.jsonl").read_text().splitlines()]
        assert not [event for event in events if event["type"] == "worker_missing"]
        assert len({row["worker"] for row in table_rows(again_dir, "requests")}) == 2
        assert again_meta["counts"]["requests"] == len(table_rows(again_dir, "requests"))
        assert ui.interrupt() == again_meta["exit_code"]


def test_reset_and_a_new_scenario_from_the_start_form_take_effect(tmp_path, write_scenario):
    first = write_scenario("first", "2m")
    second = write_scenario("second", "6s", users=2)
    with fwload_ui(first, tmp_path / "reports", "--collector", "none") as ui:
        ui.start(first)
        ui.wait_for("the Resources tab to say there is no collector",
                    lambda: ui.tab(RESOURCES)[0]["component"].startswith("no resource collector in this test"))
        before = ui.wait_for("50 timed requests", lambda: (n := whole_run_samples(ui, "error ratio")) >= 50 and n)
        ui.post("/stats/reset")
        assert whole_run_samples(ui, "error ratio") < before
        ui.post("/stop")
        first_dir, first_meta = ui.finished_run("first")
        events = [json.loads(line)["type"] for line in (first_dir / "events.jsonl").read_text().splitlines()]
        assert "stats_reset" in events and first_meta["status"] == "complete"

        refused = ui.post("/swarm", user_count=1, spawn_rate=1, scenario=str(tmp_path / "missing.yaml")).json()
        assert not refused["success"] and "missing.yaml: no such scenario file" in refused["message"]

        ui.start(second)
        _, second_meta = ui.finished_run("second")
        assert cell(ui.tab(SLOS), "slo", "scenario second")
        assert second_meta["scenario"]["name"] == "second" and second_meta["status"] == "complete"
        assert int(second_meta["counts"]["requests"]) > 0
        assert [path.name.rsplit("-", 1)[1] for path in ui.run_dirs()] == ["first", "second"]
        ui.interrupt()


def test_a_test_refused_because_the_target_is_down_can_be_started_again_once_it_is_up(tmp_path, write_scenario):
    port = free_port()
    scenario = write_scenario("retry", "5s", ready_timeout="2s")
    with fwload_ui(scenario, tmp_path / "reports", "--host", f"http://127.0.0.1:{port}") as ui:
        ui.start(scenario)
        refusal = ui.wait_for("the refusal", lambda: [row for row in ui.tab(SLOS) if row["slo"] == "test refused"])
        assert "ready" in refusal[0]["detail"]
        assert ui.finished_run("retry")[1]["status"] == "not_ready"
        with StandinProcess(port=port):
            ui.start(scenario)
            ui.wait_for("a second run directory", lambda: len(ui.run_dirs()) == 2)
            run_dir, meta = ui.finished_run("retry")
            assert run_dir == ui.run_dirs()[1] and meta["status"] == "complete"
            assert cell(ui.tab(SLOS), "slo", "scenario retry")
        ui.interrupt()


def template_args(page: str) -> dict:
    line = next(line for line in page.splitlines() if "window.templateArgs" in line)
    return json.loads(line.split("=", 1)[1])


def test_the_start_form_opens_with_the_scenario_s_numbers_and_a_changed_one_is_honoured(tmp_path, write_scenario):
    scenario = write_scenario("form", "12s", users=3)
    with fwload_ui(scenario, tmp_path / "reports") as ui:
        page = ui.get("/").text
        args = template_args(page)
        assert (args["num_users"], args["spawn_rate"], args["run_time"]) == (3, 3.0, 12)
        assert "./fwload/resource-history.js" in page
        over = ui.post("/swarm", user_count=500, spawn_rate=500, run_time=12, scenario=str(scenario)).json()
        assert not over["success"] and "max_users" in over["message"]
        ui.start(scenario, user_count=2, spawn_rate=3, run_time="12")
        ui.wait_for("two users", lambda: ui.stats()["user_count"] == 2)
        ui.wait_for("a resource history", lambda: any(
            chart["component"] == "standin" and len(chart["points"]) >= 2
            for chart in ui.get("/fwload/resources/history.json").json()["components"]), timeout_s=60)
        row = cell(ui.tab(RESOURCES), "component", "standin")
        assert row["memory_of_limit"].endswith("% (doc.)") and row["cpu_of_limit"].endswith("% (doc.)")
        run_dir, meta = ui.finished_run("form")
        assert template_args(ui.get("/").text)["num_users"] == 3, "the next test starts from the scenario again"
    resolved = yaml.safe_load((run_dir / "scenario.yaml").read_text())
    assert (resolved["load"]["users"], resolved["load"]["duration"]) == (2, 12.0)
    assert meta["status"] == "complete"
