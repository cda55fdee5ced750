"""``junit.xml``: one testcase per check, so CI systems show SLO and resource verdicts as tests.

Failures carry "observed X > threshold Y" as their message and the detail as their text;
checks that could not be evaluated are ``skipped`` with the reason, never silently passed.
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from typing import TYPE_CHECKING

from analysis.redact import scrub
from analysis.writers import formatting as fmt
from analysis.writers.registry import register

if TYPE_CHECKING:
    from analysis.analyse import RunAnalysis
    from analysis.verdict import Check


@register("junit", "junit.xml", "one JUnit testcase per check, for CI test reports")
def render_junit(analysis: RunAnalysis) -> str:
    checks = analysis.checks
    failures = sum(check.passed is False for check in checks)
    skipped = sum(check.passed is None for check in checks)
    counts = {"tests": str(len(checks)), "failures": str(failures), "errors": "0", "skipped": str(skipped)}
    suites = ElementTree.Element("testsuites", name="fwload", **counts)
    suite = ElementTree.SubElement(
        suites,
        "testsuite",
        name=f"fwload.{analysis.scenario.name}",
        time=f"{analysis.timeline.duration:.3f}",
        **counts,
    )
    properties = ElementTree.SubElement(suite, "properties")
    for name, value in (
        ("run_id", analysis.run.run_id),
        ("host", scrub(analysis.run.meta.get("host") or "")),
        ("exit_code", str(int(analysis.status))),
        ("partial", str(analysis.run.partial).lower()),
    ):
        ElementTree.SubElement(properties, "property", name=name, value=value)
    for check in checks:
        _testcase(suite, check)
    ElementTree.indent(suites)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(suites, encoding="unicode") + "\n"
    )


def _testcase(suite: ElementTree.Element, check: Check) -> None:
    case = ElementTree.SubElement(
        suite, "testcase", classname=f"fwload.{check.kind}", name=check.name, time="0"
    )
    observed, threshold = fmt.value(check.observed, check.unit), fmt.value(check.threshold, check.unit)
    samples = f" ({check.samples} samples)" if check.samples is not None else ""
    detail = scrub(check.detail)
    if check.passed is False:
        message = (
            f"observed {observed} > threshold {threshold}{samples}"
            if check.threshold is not None
            else detail or "failed"
        )
        failure = ElementTree.SubElement(case, "failure", message=message, type=check.kind)
        failure.text = detail
    elif check.passed is None:
        ElementTree.SubElement(case, "skipped", message=detail or "not evaluated")
    else:
        out = ElementTree.SubElement(case, "system-out")
        out.text = f"observed {observed} <= threshold {threshold}{samples}" + (
            f"; {detail}" if detail else ""
        )
