"""Plain Locust's own outputs (--json-file, --csv, --html) hold the whole run, as requests.csv does.

CI jobs read Locust's JSON for totals: the plugin's end-of-run path must leave Locust's
statistics intact for the files Locust writes after it (issue 14, part 1).
"""

from __future__ import annotations

import csv
import json
from collections import Counter

import pytest

from fwload.standin.launcher import StandinProcess
from tests.e2e.helpers import locust, only_run_dir, rows


@pytest.fixture(scope="module")
def standin():
    with StandinProcess() as process:
        yield process


def _json_counts(path) -> Counter:
    return Counter({(e["method"], e["name"]): e["num_requests"] for e in json.loads(path.read_text())})


def _csv_counts(path) -> Counter:
    with open(path, newline="", encoding="utf-8") as file:
        return Counter({(r["Type"], r["Name"]): int(r["Request Count"]) for r in csv.DictReader(file)
                        if r["Name"] != "Aggregated"})


def _html_counts(path) -> Counter:
    text = path.read_text(encoding="utf-8")
    start = text.index("window.templateArgs = ") + len("window.templateArgs = ")
    args, _ = json.JSONDecoder().raw_decode(text, start)
    return Counter({(e["method"], e["name"]): e["num_requests"] for e in args["requests_statistics"]
                    if e["name"] != "Aggregated"})


@pytest.mark.parametrize("processes", [None, "2"], ids=["single-process", "processes-2"])
def test_locust_json_csv_and_html_files_hold_every_request_of_requests_csv(standin, tmp_path, processes):
    out = tmp_path / "out"
    extra = ["--processes", processes] if processes else []
    done = locust("--host", standin.url, "-u", "4", "-r", "4", "-t", "10s", *extra,
                  "--json-file", str(out / "r"), "--csv", str(out / "r"), "--html", str(out / "r.html"),
                  "--reports-dir", str(tmp_path / "reports"))
    assert done.code == 0, done.err[-3000:]
    requests = rows(only_run_dir(tmp_path / "reports"), "requests.csv")
    recorded = Counter((r["method"], r["name"]) for r in requests)
    assert sum(recorded.values()) > 50, "the run made requests"
    assert _json_counts(out / "r.json") == recorded
    assert _csv_counts(out / "r_stats.csv") == recorded
    assert _html_counts(out / "r.html") == recorded
    assert _json_counts(only_run_dir(tmp_path / "reports") / "locust" / "stats.json") == recorded
