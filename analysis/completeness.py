"""Is a run directory a whole run? One judgement over what the loader found, whatever the file format.

A run that did not reach its end (stopped with Ctrl-C, killed, crashed) or whose files were
cut short can never pass: the analysis still shows everything it measured, but its verdict is
*incomplete* (`fwload.status.ExitStatus.INCOMPLETE`). The loader reports facts (the status in
run.json, each table's row count against the count run.json recorded, whether the last record
was torn mid-write); this module alone turns them into reasons.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from fwload.recording.schema import INCOMPLETE_STATUSES

STATUS_REASONS = {
    "running": "run.json still says 'running': the run did not end cleanly (killed or crashed)",
    "interrupted": "the run was interrupted before its end",
    "crashed": "Locust ended before the run did",
}


@dataclass(frozen=True)
class TableRead:
    """What the loader found in one table of the run directory."""

    name: str
    rows: int
    """Rows read (a torn last record excluded)."""
    torn_tail: bool = False
    """The last record was cut off mid-write and dropped."""


def incompleteness(meta: Mapping[str, Any], tables: Iterable[TableRead], problems: Iterable[str] = (),
                   interruption: str = "") -> list[str]:
    """Why this is not a whole run: [] when it is.

    ``meta`` is run.json; ``problems`` other damage the loader found (an unreadable event line);
    ``interruption`` what stopped an interrupted run, from its ``interrupted`` event.
    """
    reasons = []
    status = meta.get("status")
    if status in INCOMPLETE_STATUSES:
        reason = STATUS_REASONS[str(status)]
        reasons.append(f"{reason} ({interruption})" if interruption and status == "interrupted" else reason)
    counts = meta.get("counts")
    if not isinstance(counts, Mapping):
        counts = {}
        reasons.append("run.json has no row counts: the run never reached its end")
    for table in tables:
        if table.torn_tail:
            record = "line" if table.name.endswith(".csv") else "batch"
            reasons.append(f"{table.name}: the last {record} was cut off mid-write and was dropped")
        expected = counts.get(table.name, counts.get(table.name.rsplit(".", 1)[0]))
        if isinstance(expected, int) and not isinstance(expected, bool) and expected != table.rows:
            reasons.append(f"{table.name} holds {table.rows} rows but run.json counts {expected}")
    reasons.extend(problems)
    return reasons
