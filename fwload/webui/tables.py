"""The three tabs as Locust's front end wants them, and their CSV downloads.

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

from fwload.recording import columnar, schema
from fwload.recording.export import csv_text
from fwload.webui import flows, resources, slos
from fwload.webui.flows import FlowTracker

if TYPE_CHECKING:
    from fwload.plugin.session import FwloadSession

RESOURCES = "fwload-resources"
SLOS = "fwload-slos"
FLOWS = "fwload-imports-streams"
URL_PREFIX = "/fwload"
RESOURCES_CSV = "resources.csv"
SLOS_CSV = "slos.csv"


def template_args() -> dict[str, Any]:
    """What the web UI page needs to show the tabs and the CSV links (relative, like Locust's)."""
    return {
        "extended_tabs": [{"title": "Resources", "key": RESOURCES}, {"title": "SLOs", "key": SLOS},
                          {"title": "Imports and streams", "key": FLOWS}],
        "extended_tables": [
            {"key": key, "structure": [{"key": column, "title": title} for column, title in columns]}
            for key, columns in ((RESOURCES, resources.COLUMNS), (SLOS, slos.COLUMNS), (FLOWS, flows.COLUMNS))
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

    def extended_stats(self, now: float | None = None) -> list[dict[str, Any]]:
        now = now or time.time()
        return [
            {"key": RESOURCES, "data": self.resource_rows(now)},
            {"key": SLOS, "data": self.slo_rows(now)},
            {"key": FLOWS, "data": flows.flow_rows(self.session.live, self.tracker, now, self.window_s)},
        ]

    @property
    def window_s(self) -> float:
        return slos.window_of(self.session.scenario, self.session.live)

    def resource_rows(self, now: float) -> list[dict[str, str]]:
        session = self.session
        samples = self._current_samples()
        rows = resources.resource_rows(samples, list(session.resources.events), session.live.started, now)
        if rows:
            return rows
        if session.run is None:
            return [resources.notice_row("no test yet")]
        if session.collector is None:
            return [resources.notice_row(
                "no resource collector in this test: run `fwload ui` without --host to sample the stand-in, "
                "give --local-pids component=pid, or use --collector kubernetes")]
        return [resources.notice_row("waiting for the collector's first sample")]

    def _current_samples(self) -> list[Any]:
        """Newest samples, without those left over from an earlier test of this process."""
        watch = self.session.watch
        begun = watch.started if watch is not None else 0.0
        return [sample for sample in self.session.resources.latest() if sample.ts >= begun - 1.0]

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
