"""A person's view: `fwload ui` in headless Chromium, from the start form to a closed run directory.

Debian's Chromium driven by Playwright (the ``browser`` and ``screenshots`` fixtures of
tests/conftest.py). With FWLOAD_SCREENSHOTS=1 the tabs' screenshots are written to
docs/screenshots/ for the README; otherwise to the test's folder.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page

from fwload.recording import schema
from tests.tables import table_rows
from tests.webui.uiprocess import FWLOAD, REPO, UiProcess, fwload_ui, number

READ_TABLE = """() => {
  const table = document.querySelector('table');
  if (!table) return [];
  const heads = [...table.querySelectorAll('thead th')].map(th => th.innerText.trim());
  return [...table.querySelectorAll('tbody tr')].map(tr =>
    Object.fromEntries([...tr.querySelectorAll('td')].map((td, i) => [heads[i], td.innerText.trim()])));
}"""


def open_tab(page: Page, title: str) -> None:
    page.get_by_role("tab", name=re.compile(f"^{title}$", re.IGNORECASE)).click()


def table_until(ui: UiProcess, page: Page, what: str, ready: Callable[[dict[str, dict[str, str]]], Any],
                first_column: str) -> dict[str, dict[str, str]]:
    """The shown table keyed by its first column, once ``ready`` accepts it (the page refreshes every 2 s)."""

    def shown() -> dict[str, dict[str, str]] | None:
        rows = {row.get(first_column, ""): row for row in page.evaluate(READ_TABLE)}
        return rows if ready(rows) else None

    return ui.wait_for(what, shown, timeout_s=60)


def milliseconds(text: str) -> float:
    value, unit = text.split()
    return float(value) * (1000 if unit == "s" else 1)


@pytest.mark.browser
def test_the_picked_scenario_runs_its_tabs_show_live_rows_and_stopping_closes_the_run(tmp_path, write_scenario, browser,
                                                                       screenshots):
    preselected = write_scenario("preselected", "3m")
    scenario = write_scenario("browser", "3m")
    with fwload_ui(preselected, tmp_path / "reports") as ui:
        page = browser.new_page(viewport={"width": 1280, "height": 760})
        page.goto(ui.url)
        users = page.locator("input[name=userCount]")
        assert (users.input_value(), page.locator("input[name=spawnRate]").input_value()) == ("3", "3")
        users.fill("4")
        page.get_by_role("button", name="Custom parameters").click()
        field = page.locator("input[name=scenario]")
        assert field.input_value() == str(preselected)
        start = page.get_by_role("button", name=re.compile("^start$", re.IGNORECASE))
        field.fill(str(tmp_path / "typo.yaml"))
        start.click()
        page.get_by_role("alert").get_by_text("typo.yaml: no such scenario file").wait_for(timeout=10_000)
        field.fill(str(scenario))
        start.click()
        page.get_by_text(re.compile("^running$", re.IGNORECASE)).wait_for(timeout=30_000)

        open_tab(page, "Resources")
        resources = table_until(ui, page, "a CPU sample of the stand-in",
                                lambda rows: re.fullmatch(r"\d+m", rows.get("standin", {}).get("CPU", "")),
                                "Component")["standin"]
        assert 10 <= number(resources["Memory"]) <= 4096
        assert resources["State"] == "Running, ready"
        assert number(resources["Sampled"]) < 30
        assert resources["Memory % of limit"].endswith("% (doc.)"), "the documented limit, as in the report"
        chart = page.locator("#fwload-resource-history [data-component=standin]")
        ui.wait_for("a history chart of the stand-in", lambda: chart.count() == 1 and all(
            len(points.split()) >= 2 for points in chart.locator("polyline").evaluate_all(
                "lines => lines.map(line => line.getAttribute('points'))")) and chart.locator("polyline").count() == 2)
        assert chart.locator("line.limit").count() == 2, "the documented CPU and memory limits, dashed"
        page.screenshot(path=screenshots / "webui-resources.png", full_page=True)

        open_tab(page, "Imports and streams")
        flows = table_until(ui, page, "a finished import and streams",
                            lambda rows: rows and number(rows["imports finished"]["Whole run"]) >= 1
                            and number(rows["streams played"]["Whole run"]) >= 20, "Measure")
        assert 0 < milliseconds(flows["stream ttfb p95"]["Whole run"]) < 30_000
        assert 0 < milliseconds(flows["import wait p95"]["Whole run"]) < 30_000
        assert flows["stream transfer rate"]["Whole run"].endswith("MiB/s")
        page.screenshot(path=screenshots / "webui-imports-streams.png")

        open_tab(page, "SLOs")
        slos = table_until(ui, page, "SLO values", lambda rows: rows.get("latency p95 [browse]", {}).get("Holds")
                           in ("yes", "NO", "yes, last window over"), "SLO")
        assert next(iter(slos)) == "scenario browser"
        browse = slos["latency p95 [browse]"]
        assert browse["Threshold"] == "2 s"
        assert 0 < milliseconds(browse["Whole run"]) < 60_000
        error_ratio = float(slos["error ratio"]["Whole run"].removesuffix(" %"))
        assert 0 <= error_ratio <= 100
        assert slos["error ratio"]["Holds"] == ("yes" if error_ratio <= 5 else "NO")
        page.screenshot(path=screenshots / "webui-slos.png")

        open_tab(page, "Download data")
        link = page.get_by_role("link", name="Download resource samples CSV (fwload)")
        answer = page.request.get(f"{ui.url}/{link.get_attribute('href').removeprefix('./')}")
        assert answer.ok and answer.text().splitlines()[0].split(",") == list(schema.RESOURCE_COLUMNS)

        page.get_by_role("button", name=re.compile("^stop$", re.IGNORECASE)).click()
        page.get_by_text(re.compile("^stopped$", re.IGNORECASE)).wait_for(timeout=90_000)
        run_dir, meta = ui.finished_run("browser")

    assert meta["status"] == "complete" and meta["scenario"]["name"] == "browser"
    assert "users: 4\n" in (run_dir / "scenario.yaml").read_text(), "the user count typed in the form"
    assert [path.name.rsplit("-", 1)[1] for path in ui.run_dirs()] == ["browser"]
    for name in set(schema.TABLES) - schema.OPTIONAL_TABLES:
        assert meta["counts"][name] == len(table_rows(run_dir, name)), name
    assert not schema.OPTIONAL_TABLES & set(meta["counts"]), "no empty history table"
    verdict = (run_dir / "verdict.json").read_text()
    rebuilt = subprocess.run([*FWLOAD, "report", str(run_dir)], cwd=REPO, capture_output=True, text=True,
                             timeout=180, stdin=subprocess.DEVNULL, check=False)
    assert rebuilt.returncode == meta["exit_code"], rebuilt.stderr[-2000:]
    assert json.loads((run_dir / "verdict.json").read_text()) == json.loads(verdict)
    assert (run_dir / "report.html").is_file() and (run_dir / "summary.md").is_file()
