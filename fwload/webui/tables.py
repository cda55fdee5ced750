"""The four tabs as Locust's front end wants them, and their CSV downloads.

Locust draws an extended tab as one table: ``extended_tabs`` names it, ``extended_tables``
gives its columns (both sent once with the page), and ``extended_stats`` in each
``/stats/requests`` answer brings its rows. Rows carry a ``name`` (the front end's row key).
Everything is read from the master's session: the latest resource samples, `LiveStats`
(fed by every worker) and the `FlowTracker`.
"""

from __future__ import annotations

import csv
import io
import time
from typing import TYPE_CHECKING, Any

from fwload.errors import UsageError
from fwload.limits import ComponentLimits, documented_limits
from fwload.recording import columnar, schema
from fwload.recording.export import csv_text
from fwload.webui import flows, listeners, resources, slos
from fwload.webui.flows import FlowTracker

if TYPE_CHECKING:
    from fwload.plugin.session import FwloadSession

RESOURCES = "fwload-resources"
SLOS = "fwload-slos"
FLOWS = "fwload-imports-streams"
LISTENERS = "fwload-listeners"
URL_PREFIX = "/fwload"
RESOURCES_CSV = "resources.csv"
SLOS_CSV = "slos.csv"
HISTORY_JSON = "resources/history.json"
HISTORY_SCRIPT = "resource-history.js"


def template_args() -> dict[str, Any]:
    """What the web UI page needs to show the tabs and the CSV links (relative, like Locust's)."""
    return {
        "extended_tabs": [{"title": "Resources", "key": RESOURCES}, {"title": "SLOs", "key": SLOS},
                          {"title": "Listeners", "key": LISTENERS}, {"title": "Imports and streams", "key": FLOWS}],
        "extended_tables": [
            {"key": key, "structure": [{"key": column, "title": title} for column, title in columns]}
            for key, columns in ((RESOURCES, resources.COLUMNS), (SLOS, slos.COLUMNS),
                                 (LISTENERS, listeners.COLUMNS), (FLOWS, flows.COLUMNS))
        ],
        "extended_csv_files": [
            {"href": f".{URL_PREFIX}/{RESOURCES_CSV}", "title": "Download resource samples CSV (fwload)"},
            {"href": f".{URL_PREFIX}/{SLOS_CSV}", "title": "Download SLO table CSV (fwload)"},
        ],
    }


class LiveTables:
    """Builds the rows of each tab from one Locust process's fwload session."""

    def __init__(self, session: FwloadSession, tracker: FlowTracker):
        self.session = session
        self.tracker = tracker
        self._documented: dict[str, ComponentLimits] | None = None

    @property
    def documented(self) -> dict[str, ComponentLimits]:
        """The documented limits (k8s/base), read once; none when this install has no k8s/base."""
        if self._documented is None:
            try:
                self._documented = documented_limits()
            except UsageError:
                self._documented = {}
        return self._documented

    def extended_stats(self, now: float | None = None) -> list[dict[str, Any]]:
        now = now or time.time()
        return [
            {"key": RESOURCES, "data": self.resource_rows(now)},
            {"key": SLOS, "data": self.slo_rows(now)},
            {"key": LISTENERS, "data": listeners.listener_rows(self.session.live, now, self.window_s)},
            {"key": FLOWS, "data": flows.flow_rows(self.session.live, self.tracker, now, self.window_s)},
        ]

    @property
    def window_s(self) -> float:
        return slos.window_of(self.session.scenario, self.session.live)

    def resource_rows(self, now: float) -> list[dict[str, str]]:
        session = self.session
        samples = self._current_samples()
        rows = resources.resource_rows(samples, list(session.resources.events), session.live.started, now,
                                       self.documented)
        if rows:
            return rows
        if session.run is None:
            return [resources.notice_row("no test yet")]
        if session.collector is None:
            reason = (session.run.read_meta().get("collector") or {}).get("reason")
            return [resources.notice_row(
                "no resource collector in this test" + (f": collector none because {reason}" if reason else "")
                + "; without --host the stand-in's processes are sampled, with --collector kubernetes a target "
                "in a cluster")]
        return [resources.notice_row("waiting for the collector's first sample")]

    def resource_history(self) -> dict[str, Any]:
        """The charts under the Resources tab: each component's last minutes of this test."""
        return {"components": resources.history(self.session.resources.history, self._current_samples(),
                                                self._test_began(), self.documented)}

    def _test_began(self) -> float:
        watch = self.session.watch
        return (watch.started if watch is not None else 0.0) - 1.0

    def _current_samples(self) -> list[Any]:
        """Newest samples, without those left over from an earlier test of this process."""
        begun = self._test_began()
        return [sample for sample in self.session.resources.latest() if sample.ts >= begun]

    def slo_rows(self, now: float) -> list[dict[str, str]]:
        session = self.session
        refusal = _refusal(session.failed)
        scenario_file = getattr(session.options, "scenario", "") or ""
        return slos.slo_rows(session.scenario, scenario_file, session.live, now, refusal)

    # -- downloads -------------------------------------------------------------------

    def resources_csv(self) -> str:
        """The resource samples of the current (or last) test, as in its run directory."""
        run = self.session.run
        if run is not None and columnar.stored(run.path, schema.RESOURCES):
            return csv_text(run.path, schema.RESOURCES)
        return to_csv(schema.RESOURCE_COLUMNS, [tuple(s.as_row().values()) for s in self.session.resources.latest()])

    def slos_csv(self, now: float | None = None) -> str:
        scenario = self.session.scenario
        values = slos.slo_values(scenario, self.session.live, now or time.time()) if scenario is not None else []
        return to_csv(slos.CSV_COLUMNS, [value.csv_row() for value in values])


def _refusal(error: Any) -> str | None:
    if error is None:
        return None
    return f"{error.problem} (fix: {error.fix})" if error.fix else error.problem


def to_csv(columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(["" if cell is None else cell for cell in row] for row in rows)
    return buffer.getvalue()
