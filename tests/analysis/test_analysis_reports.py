"""The written outputs: verdict.json, junit.xml, summary.md, report.html; the writer registry;
nothing half-written; no secrets; and the `fwload report` command's exit codes."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ElementTree

import pytest
from known_runs import standard_run
from run_builders import T0, RunDir
from typer.testing import CliRunner

import fwload.cli.report  # noqa: F401 - registers the report and compare commands
from analysis import writers
from analysis.outputs import build_outputs
from fwload.cli.app import app
from fwload.errors import UsageError

SECRET = "s3cr3t-t0ken-value"


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """The known run with a secret planted in its metadata and an error text, after build_outputs."""
    truth = standard_run(tmp_path_factory.mktemp("reports") / "run")
    truth.builder.meta["host"] = f"https://loadtest:{SECRET}@staging.example.test"
    truth.builder.meta["target"] = {"auth": "token", "token": SECRET}
    truth.builder.request(
        T0 + 100, "favorites", 12.0, name="/api/v1/favorites/tracks/", status=401, error_kind="http",
        error=f"401 for /api/v1/listen/x?token={SECRET} with Bearer {SECRET}", size=10,
    )
    truth.builder.write()
    return truth, build_outputs(truth.path)


def test_every_writer_is_registered_by_name():
    assert writers.available() == ["html", "json", "junit", "markdown"]
    assert writers.find("junit").filename == "junit.xml"
    with pytest.raises(UsageError, match="unknown report format 'pdf'") as error:
        writers.find("pdf")
    assert "html, json, junit, markdown" in error.value.fix


def test_all_outputs_are_written(written):
    truth, outputs = written
    names = {path.name for path in outputs.files}
    assert {"verdict.json", "junit.xml", "summary.md", "report.html", "kustomization.yaml"} <= names
    assert all(path.is_file() for path in outputs.files)


def test_junit_has_one_testcase_per_check_and_failures_carry_observed_vs_threshold(written):
    truth, outputs = written
    root = ElementTree.fromstring((truth.path / "junit.xml").read_text())
    cases = root.findall("./testsuite/testcase")
    checks = outputs.analysis.checks
    assert [case.get("name") for case in cases] == [check.name for check in checks]
    failed = [case for case in cases if case.find("failure") is not None]
    assert len(failed) == sum(check.passed is False for check in checks) == int(root.get("failures"))
    p95 = next(case for case in cases if case.get("name") == "latency p95 [browse]").find("failure")
    assert p95.get("message") == "observed 2550 ms > threshold 1000 ms (300 samples)"
    assert p95.get("type") == "slo"
    properties = {p.get("name"): p.get("value") for p in root.findall("./testsuite/properties/property")}
    assert properties["exit_code"] == "1"


def test_unevaluated_checks_are_skipped_in_junit(tmp_path):
    truth = standard_run(tmp_path / "run")
    truth.builder.resource(T0, "sidecar", 50, 1000, pod="pid-1", source="processes", node="", phase="").write()
    build_outputs(truth.path, ["junit"])
    root = ElementTree.fromstring((truth.path / "junit.xml").read_text())
    skipped = [case for case in root.iter("testcase") if case.find("skipped") is not None]
    assert [case.get("name") for case in skipped] == ["memory peak [sidecar]", "cpu p95 [sidecar]"]
    assert root.find("testsuite").get("skipped") == "2"


def test_verdict_json_matches_the_checks_and_is_strict_json(written):
    truth, outputs = written
    document = json.loads((truth.path / "verdict.json").read_text(), parse_constant=pytest.fail)
    assert document["exit_code"] == 1 and document["status"] == "slo_broken"
    assert document["precedence"] == (
        "refused (2) > not ready (4) > incomplete (5) > SLO broken (1) > resource broken (3) > passed (0)")
    assert len(document["checks"]) == len(outputs.analysis.checks)
    for entry, check in zip(document["checks"], outputs.analysis.checks):
        assert (
            entry["name"],
            entry["kind"],
            entry["observed"],
            entry["threshold"],
            entry["samples"],
            entry["passed"],
        ) == (check.name, check.kind, check.observed, check.threshold, check.samples, check.passed)
    assert document["capacity"]["highest_within_slos"]["users"] == 20
    assert document["capacity"]["first_saturated"][0]["component"] == "api"
    assert "nearest rank" in document["definitions"]["percentile"]


def test_summary_md_leads_with_the_verdict_and_lists_every_check(written):
    truth, outputs = written
    summary = (truth.path / "summary.md").read_text()
    assert summary.startswith("## ❌ fwload: SLO broken (exit 1)")
    for check in outputs.analysis.checks:
        if check.kind != "startup":
            assert f"| {check.name} |" in summary
    assert "**throttling**" in summary and "THROTTLING_ENABLED=false" in summary


def test_report_html_is_self_contained(written):
    truth, _ = written
    html = (truth.path / "report.html").read_text()
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", html, re.IGNORECASE)
    assert "<link" not in html and "<script" not in html and "@import" not in html
    assert html.count("<svg") >= 5
    for heading in (
        "Checks",
        "Latency per request group",
        "Upload → import pipeline",
        "Streaming",
        "Components",
        "Capacity",
        "Right-sizing",
        "Run",
    ):
        assert f">{heading}</h" in html
    assert html.index('id="glance"') < html.index('id="checks"') < html.index('id="capacity"')


def test_no_secret_reaches_any_output(written):
    truth, outputs = written
    for path in outputs.files:
        assert SECRET not in path.read_text(), path.name
    assert "Bearer ***" in (truth.path / "report.html").read_text()


def test_partial_run_says_so_at_the_top(tmp_path):
    truth = standard_run(tmp_path / "run", status="running")
    truth.builder.write(cut="requests")
    outputs = build_outputs(truth.path)
    assert outputs.analysis.run.partial
    html = (truth.path / "report.html").read_text()
    assert html.index("Partial run.") < html.index('class="verdict')
    assert "> ⚠️ **Partial run.**" in (truth.path / "summary.md").read_text().splitlines()[4]
    assert json.loads((truth.path / "verdict.json").read_text())["partial"] is True


def test_a_failing_writer_leaves_previous_outputs_untouched(tmp_path, monkeypatch):
    truth = standard_run(tmp_path / "run")
    build_outputs(truth.path, ["json", "markdown"])
    before = {name: (truth.path / name).read_text() for name in ("verdict.json", "summary.md")}
    (truth.path / "scenario.yaml").write_text(
        (truth.path / "scenario.yaml").read_text().replace("error_ratio: 0.01", "error_ratio: 0.5")
    )

    def broken(analysis):
        raise RuntimeError("boom")

    monkeypatch.setitem(
        writers.registry._WRITERS, "markdown", writers.registry.Writer("markdown", "summary.md", "", broken)
    )
    with pytest.raises(RuntimeError):
        build_outputs(truth.path, ["json", "markdown"])
    assert {name: (truth.path / name).read_text() for name in before} == before


def test_report_command_exits_with_the_verdict_and_prints_the_run_directory(written):
    truth, _ = written
    result = CliRunner().invoke(app, ["report", str(truth.path), "--format", "json"])
    assert result.exit_code == 1, result.output
    assert result.stdout.strip().splitlines()[-1] == str(truth.path)
    text = " ".join(result.stderr.split())
    assert "FAIL" in text and "memory peak [api]" in text and "peak 140.0 MiB" in text


def test_report_command_on_a_foreign_directory_is_a_usage_error(tmp_path):
    (tmp_path / "x.txt").write_text("")
    result = CliRunner().invoke(app, ["report", str(tmp_path)])
    assert result.exit_code == 2
    assert "not an fwload run directory" in result.output


def test_report_command_exits_0_when_everything_passes(tmp_path):
    builder = RunDir(
        tmp_path / "run",
        scenario={
            "name": "ok",
            "users": [{"class": "Listener"}],
            "slos": {"groups": {"browse": {"p95": "1s"}}},
        },
    )
    builder.stages((T0, 1), (T0 + 10, 2))
    for index in range(40):
        builder.request(T0 + index * 0.5, "browse", 50.0)
    builder.write()
    result = CliRunner().invoke(app, ["report", str(builder.path), "-f", "junit", "-f", "markdown"])
    assert result.exit_code == 0, result.output
    assert sorted(
        path.name for path in builder.path.iterdir() if path.name.endswith((".xml", ".md", ".html"))
    ) == ["junit.xml", "summary.md"]


def test_the_report_command_help_lists_every_registered_writer():
    assert fwload.cli.report.FORMATS == tuple(writers.available())
    result = CliRunner().invoke(app, ["report", "--help"])
    assert "html, json, junit, markdown" in " ".join(result.output.split())
