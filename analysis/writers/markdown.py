"""``summary.md``: the verdict for a CI job summary (GitHub ``$GITHUB_STEP_SUMMARY``, GitLab).

The key figures come first (`analysis.writers.glance`, as on report.html's first screen),
start-up failures apart, then every check, then what a reader needs to trust
them (partial run, throttling), latency per group, resources and capacity in brief.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from analysis.percentiles import DEFINITION, MIN_SAMPLES_RULE
from analysis.writers import formatting as fmt
from analysis.writers import glance, views
from analysis.writers.registry import register
from fwload.status import ExitStatus

if TYPE_CHECKING:
    from analysis.analyse import RunAnalysis


@register("markdown", "summary.md", "the verdict as Markdown, for CI job summaries")
def render_markdown(analysis: RunAnalysis) -> str:
    icon = fmt.ICONS[fmt.WARNING if analysis.status == ExitStatus.INCOMPLETE
                     else fmt.verdict_word(analysis.status == ExitStatus.SUCCESS)]
    lines = [f"## {icon} fwload: {views.headline(analysis)}", ""]
    lines.append(" · ".join(f"**{label}** {value}" for label, value in views.overview(analysis)))
    lines.append("")
    for refusal in views.refusals(analysis):
        lines += [f"> ❌ **Refused before the load.** {refusal}", ""]
    for notice in analysis.notices:
        if notice.kind == "partial":
            lines += [f"> ⚠️ **Partial run.** {notice.message}", ""]
    lines += at_a_glance(analysis)
    if analysis.startup.failed or analysis.startup.incidents_before_load.shape[0]:
        lines += ["### Start-up (before the load)", "", *table(views.startup_table(analysis)), ""]
    lines += ["### Checks", ""]
    columns, rows = views.checks_table(analysis, ("slo", "resource"))
    unjudged = fmt.verdict_word(None)
    judged_rows = [row for row in rows if row[0] != unjudged]
    skipped_rows = [row for row in rows if row[0] == unjudged]
    lines += table((columns, judged_rows)) if judged_rows else ["No SLO or resource check could be judged."]
    if skipped_rows:
        lines += ["", f"<details><summary>{len(skipped_rows)} check(s) not evaluated (each says why)</summary>",
                  "", *table((columns, skipped_rows)), "", "</details>"]
    lines.append("")
    others = [notice for notice in analysis.notices if notice.kind != "partial"]
    if others:
        lines += ["### Notices", ""]
        lines += [
            f"- **{notice.kind}**: {notice.message}" + (f" {notice.advice}" if notice.advice else "")
            for notice in others
        ]
        lines.append("")
    if analysis.sessions is not None and analysis.sessions.active:
        lines += ["### Arrivals", "", f"Sessions: {analysis.sessions.summary()}.", "",
                  *table(views.sessions_table(analysis)), ""]
    figures = views.listener_figures(analysis)
    if figures:
        lines += ["### Listener experience", "", " · ".join(f"**{label}** {value}" for label, value in figures), ""]
    if len(analysis.requests.by_group):
        lines += ["### Latency per request group", "", *table(views.group_table(analysis)), ""]
    if len(analysis.resources.summary):
        lines += ["### Resources", "", *table(views.components_table(analysis)), ""]
    lines += ["### Capacity", "", analysis.capacity.verdict, ""]
    first = analysis.capacity.first_saturated
    for _, row in first.iterrows():
        lines.append(
            f"- First to saturate: **{row['component']}** at {row['users']:.0f} users: "
            + "; ".join(row["evidence"])
        )
    if analysis.capacity.saturation_unjudged:
        lines.append(f"- Saturation of CPU, memory, restarts and OOM kills not judged: "
                     f"{analysis.capacity.saturation_unjudged}.")
    lines += [
        "",
        f"<sub>Percentiles: {DEFINITION}; {MIN_SAMPLES_RULE}. Exit codes: {views.PRECEDENCE_TEXT}. "
        "Charts and details: report.html in the run directory.</sub>",
        "",
    ]
    return "\n".join(lines)


def at_a_glance(analysis: RunAnalysis) -> list[str]:
    """report.html's first-screen figures as a table (nothing for a run without load or samples)."""
    states = {"ok": True, "bad": False, "na": None}
    rows = [[fmt.ICONS[fmt.verdict_word(states[figure.state])] if figure.state else "", figure.label, figure.value,
             figure.detail] for figure in glance.key_figures(analysis)]
    return [*table((["", "at a glance", "value", "detail"], rows)), ""] if rows else []


def table(content: views.Table) -> list[str]:
    columns, rows = content
    return [
        "| " + " | ".join(columns) + " |",
        "|" + "---|" * len(columns),
        *("| " + " | ".join(_cell(cell) for cell in row) + " |" for row in rows),
    ]


def _cell(text: str) -> str:
    return fmt.ICONS.get(text, text.replace("|", "\\|").replace("\n", " "))
