"""``report.html``: one self-contained page (inline CSS and SVG charts, no network) for people.

The first screen answers "did it hold, and where is the limit?": the verdict, a few key
figures (`analysis.writers.glance`) and one chart of load, latency and every component's
share of its limit over time. Then the failed checks, the passed and unjudged ones folded,
start-up, the listener experience, latency per group, the import pipeline, streaming, every
component against its limits, capacity and the run's metadata. A partial run says so at the top.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from analysis.percentiles import DEFINITION, MIN_SAMPLES_RULE
from analysis.writers import charts, glance, views
from analysis.writers import formatting as fmt
from analysis.writers.registry import register

if TYPE_CHECKING:
    from analysis.analyse import RunAnalysis

_ENVIRONMENT = Environment(
    loader=PackageLoader("analysis.writers", "templates"),
    autoescape=select_autoescape(["html", "j2"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
_ENVIRONMENT.globals["badges"] = {
    word: css for word, css in (("pass", "ok"), ("FAIL", "bad"), ("n/a", "na"), (fmt.WARNING, "warn"))
}


@register("html", "report.html", "self-contained HTML report with charts")
def render_html(analysis: RunAnalysis) -> str:
    drawn = analysis.charts
    if drawn is None:
        names = charts.applicable(analysis) + [f"component:{c}" for c in analysis.resources.components]
        drawn = charts.draw(analysis, names)
    context = {
        "a": analysis,
        "headline": views.headline(analysis),
        "overview": views.overview(analysis),
        "partial": [notice for notice in analysis.notices if notice.kind == "partial"],
        "refusals": views.refusals(analysis),
        "notices": [notice for notice in analysis.notices if notice.kind != "partial"],
        "definition": DEFINITION,
        "min_samples_rule": MIN_SAMPLES_RULE,
        "precedence": views.PRECEDENCE_TEXT,
        "startup": views.startup_table(analysis),
        "startup_shown": analysis.startup.failed or not analysis.startup.incidents_before_load.empty,
        "figures": glance.key_figures(analysis),
        "split": glance.split_checks(analysis),
        "groups": views.group_table(analysis),
        "endpoints": views.endpoint_table(analysis),
        "error_kinds": views.error_kind_table(analysis),
        "top_errors": views.top_errors_table(analysis),
        "imports": views.imports_table(analysis),
        "streams": views.streams_table(analysis),
        "sessions": views.sessions_table(analysis),
        "listeners": views.listeners_table(analysis),
        "listener_figures": views.listener_figures(analysis),
        "components": views.components_table(analysis),
        "incidents": views.incidents_table(analysis),
        "levels": views.levels_table(analysis),
        "saturation": views.saturation_table(analysis),
        "projections": views.projections_table(analysis),
        "flat": views.flat_projections(analysis),
        "recommendations": views.recommendations_table(analysis),
        "metadata": views.metadata_table(analysis),
        "charts": {
            **{name: Markup(drawn[name]) if name in drawn else None for name in charts.REQUEST_CHARTS},
            "components": {
                component: Markup(drawn[f"component:{component}"]) for component in analysis.resources.components
            },
        },
    }
    return _ENVIRONMENT.get_template("report.html.j2").render(**context)
