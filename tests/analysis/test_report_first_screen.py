"""report.html's first screen: the verdict, the key figures and one chart, then failed checks only.

The figures are checked against the rows the known run wrote; the charts' legends against
the plot areas they must not cover, drawn by matplotlib; the page itself in headless
Chromium at 1400×900, which also takes the screenshots the README shows (kept in
docs/screenshots/ with FWLOAD_SCREENSHOTS=1).
"""

from __future__ import annotations

import copy
import re

import numpy as np
import pytest
from known_runs import standard_run
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.transforms import Bbox
from run_builders import DEFAULT_SCENARIO, T0, RunDir

from analysis.analyse import analyse_run
from analysis.outputs import build_outputs
from analysis.writers import charts, glance

VIEWPORT = {"width": 1400, "height": 900}
PLAYS = 120


def listened_run(path):
    """The standard run (slow step 3, OOM kill of the api) plus real-time plays that start
    stalling in step 3, under stall-ratio and start-up SLOs."""
    scenario = copy.deepcopy(DEFAULT_SCENARIO)
    scenario["slos"].update(stall_ratio=0.01, startup_p95="2s")
    truth = standard_run(path, scenario=scenario)
    for index in range(PLAYS):
        late = index > 80
        truth.builder.play(T0 + index * 1.4, 150.0 + 3 * index, 40.0,
                           stalls=((30.0, 1.5),) if late and index % 3 == 0 else ())
    truth.builder.write()
    return truth


@pytest.fixture(scope="module")
def listened(tmp_path_factory):
    truth = listened_run(tmp_path_factory.mktemp("glance") / "run")
    return truth, analyse_run(truth.path)


def nearest_rank(values, q):
    return float(np.percentile(np.asarray(values), q, method="inverted_cdf"))


def test_key_figures_are_the_runs_numbers_judged_against_their_checks(listened):
    truth, analysis = listened
    figures = {figure.label: figure for figure in glance.key_figures(analysis)}
    assert list(figures) == ["peak users", "requests/s", "error ratio", "browse p95", "listen p95",
                             "import wait p95", "stall ratio", "closest to its limit"]
    assert figures["peak users"].value == "30"
    assert figures["requests/s"].value == f"{truth.requests / 180:.2f}"
    counted = truth.requests - truth.throttled
    assert figures["error ratio"] == glance.Figure("error ratio", f"{100 * 6 / counted:.2f}%", "SLO ≤ 1.00%", "bad")
    assert figures["browse p95"].value == f"{nearest_rank(truth.browse, 95):.0f} ms"
    assert figures["browse p95"].state == "bad" and figures["listen p95"].state == "ok"
    stalled = sum(1.5 for index in range(PLAYS) if index > 80 and index % 3 == 0)
    assert figures["stall ratio"].value == f"{100 * stalled / (40.0 * PLAYS):.2f}%"
    assert figures["stall ratio"].state == "ok"
    closest = figures["closest to its limit"]
    assert (closest.value, closest.state) == (f"api {100 * 140 / 128:.0f}%", "bad")
    assert closest.detail == "memory peak: 140.0 MiB of 128.0 MiB (documented limit)"


def test_without_resource_samples_the_closest_component_is_not_guessed(tmp_path):
    truth = standard_run(tmp_path / "run", oom_in_step3=False)
    truth.builder.rows["resources"] = []
    truth.builder.write()
    analysis = analyse_run(truth.path)
    closest = glance.key_figures(analysis)[-1]
    assert (closest.value, closest.state) == ("not measured", "na")
    assert "no resource samples" in closest.detail
    svg = charts.draw(analysis, ["glance"])["glance"]
    assert "requests/s" in svg and "% of limit" not in svg


def test_checks_are_split_failed_passed_and_unjudged(listened):
    _, analysis = listened
    split = glance.split_checks(analysis)
    outcomes = {check.name: check.passed for check in analysis.checks}
    name = 1
    assert {row[name] for row in split.failed[1]} == {n for n, passed in outcomes.items() if passed is False}
    assert {row[name] for row in split.passed[1]} == {n for n, passed in outcomes.items() if passed is True}
    assert {row[name] for row in split.unjudged[1]} == {n for n, passed in outcomes.items() if passed is None}
    assert split.failed[1] and split.passed[1]


@pytest.fixture
def drawn_figures(listened, monkeypatch):
    """Every chart of the listened run as matplotlib figures, laid out, by chart name."""
    _, analysis = listened
    figures = {}
    real = charts.to_svg

    def keep(figure):
        svg = real(figure)
        FigureCanvasAgg(figure).draw()
        figures[current[0]] = figure
        return svg

    monkeypatch.setattr(charts, "to_svg", keep)
    current = [""]
    names = charts.applicable(analysis) + [f"component:{c}" for c in analysis.resources.components]
    for name in names:
        current[0] = name
        charts.draw(analysis, [name])
    assert set(figures) == set(names) and "glance" in names and "listeners" in names
    return figures


def test_no_legend_covers_a_plot_and_every_axis_says_what_it_measures(drawn_figures):
    for name, figure in drawn_figures.items():
        renderer = figure.canvas.get_renderer()
        plots = [axis.get_window_extent(renderer) for axis in figure.axes]
        for axis in figure.axes:
            legend = axis.get_legend()
            if legend is not None:
                box = legend.get_window_extent(renderer)
                overlaps = [Bbox.intersection(box, plot) for plot in plots]
                covered = [o for o in overlaps if o is not None and o.width > 1 and o.height > 1]
                assert not covered, (name, [text.get_text() for text in legend.get_texts()])
            assert axis.get_ylabel(), (name, "an axis without a label")
        assert figure.axes[-1].get_xlabel() or any(axis.get_xlabel() for axis in figure.axes), name


def test_the_first_screen_chart_lines_up_load_latency_stalls_and_limits(listened, drawn_figures):
    figure = drawn_figures["glance"]
    labels = [axis.get_ylabel() for axis in figure.axes]
    assert labels == ["requests/s", "p95 latency (ms)", "stall ratio (%)", "% of limit", "users"]
    load, latency, stalls, limits, _users = figure.axes
    assert load.get_xlim() == latency.get_xlim() == stalls.get_xlim() == limits.get_xlim()
    assert "seconds since the load started" in limits.get_xlabel()
    legend_texts = {axis: [text.get_text() for text in axis.get_legend().get_texts()]
                    for axis in (load, latency, stalls, limits)}
    assert {"target users", "OOM kill", "respawn"} <= set(legend_texts[load])
    assert {"browse p95 (SLO 1000 ms)", "listen p95 (SLO 800 ms)"} <= set(legend_texts[latency])
    assert "SLO 1%" in legend_texts[stalls]
    assert {"api", "documented limit", "CPU", "memory", "CPU p95 check 90%"} <= set(legend_texts[limits])
    thresholds = {line.get_ydata()[0] for line in latency.get_lines() if line.get_linestyle() == "--"}
    assert thresholds == {1000.0, 800.0}
    incidents = listened[1].resources.incidents
    events = set(incidents.loc[incidents["kind"].isin(["oom_kill", "respawn"]), "ts"] - T0)
    for panel in (load, latency, stalls, limits):
        marked = {line.get_xdata()[0] for line in panel.get_lines()
                  if len(line.get_xdata()) == 2 and line.get_xdata()[0] == line.get_xdata()[1]}
        assert events and events <= marked


@pytest.mark.browser
def test_the_first_screen_answers_did_it_hold_and_where_is_the_limit(tmp_path, browser, screenshots):
    truth = listened_run(tmp_path / "run")
    build_outputs(truth.path, ["html"])
    page = browser.new_page(viewport=VIEWPORT)
    fetched = []
    page.route(re.compile(r"^(?!file:).*"), lambda route: (fetched.append(route.request.url), route.abort()))
    page.goto((truth.path / "report.html").as_uri())
    bottom = VIEWPORT["height"]

    def box(selector):
        shown = page.locator(selector).bounding_box()
        assert shown is not None, selector
        return shown

    verdict = box(".verdict")
    assert "SLO broken (exit 1)" in page.locator(".verdict").inner_text()
    cards = page.locator(".figure")
    assert cards.count() == 8
    for index in range(cards.count()):
        shown = cards.nth(index).bounding_box()
        assert shown["y"] + shown["height"] <= bottom, cards.nth(index).inner_text()
    chart = box("#glance svg")
    assert verdict["y"] < chart["y"] and chart["y"] + chart["height"] <= bottom
    closest = page.locator(".figure.bad", has_text="closest to its limit").inner_text()
    assert "api 109%" in closest

    failed_rows = page.locator("#checks + table tbody tr")
    assert failed_rows.count() == sum(check.passed is False for check in analyse_run(truth.path).checks)
    assert set(page.locator("#checks + table .badge").all_inner_texts()) == {"FAIL"}
    folded = page.locator("details.checks")
    assert folded.count() == 1 and folded.get_attribute("open") is None
    assert re.fullmatch(r"\d+ passed", folded.locator("summary").inner_text())
    assert not folded.locator("table").is_visible()
    assert fetched == []

    page.screenshot(path=screenshots / "report-first-screen.png")
    page.screenshot(path=screenshots / "report-full.png", full_page=True)
    full, first = (screenshots / name for name in ("report-full.png", "report-first-screen.png"))
    assert full.stat().st_size > first.stat().st_size


def test_a_figure_too_thin_to_judge_says_so_in_grey(tmp_path):
    truth = standard_run(tmp_path / "run")
    requests = truth.builder.rows["requests"]
    browse = [row for row in requests if row["group"] == "browse"][:12]
    truth.builder.rows["requests"] = [row for row in requests if row["group"] != "browse"] + browse
    truth.builder.write()
    figure = {figure.label: figure for figure in glance.key_figures(analyse_run(truth.path))}["browse p95"]
    assert figure.state == "na"
    assert figure.detail == "SLO ≤ 1000 ms · not judged: only 12 timed requests: a p95 needs at least 20"


def test_a_run_that_sent_no_load_shows_no_figures(tmp_path):
    run = RunDir(tmp_path / "run", status="refused")
    run.event(T0, "refused", detail="login refused for alice: bad password", fix="check users.yaml", exit_code=2)
    run.write()
    outputs = build_outputs(run.path)
    assert glance.key_figures(outputs.analysis) == []
    assert 'class="figure' not in (run.path / "report.html").read_text()
    assert "at a glance" not in (run.path / "summary.md").read_text()
