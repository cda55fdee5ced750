"""The start form's user count, ramp up and run time: the scenario's, unless the person changes them.

Locust's form always posts these fields, and the scenario's load shape ignored them, so a typed
value was silently overridden. Now the page opens with the preselected scenario's values, and a
value changed from that prefill overrides the scenario's for that test (`with_overrides`: the
users of a constant run, or the top of a ramp, steps or spike; the spawn rate; the duration),
validated like the file (``caps``), so an over-cap count is refused in the form. A value left as
prefilled keeps whatever scenario is picked.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fwload.errors import UsageError
from fwload.scenario.model import Scenario
from fwload.units import parse_duration

FIELDS = (
    # form field, Locust option, scenario override
    ("user_count", "num_users", "users"),
    ("spawn_rate", "spawn_rate", "spawn_rate"),
    ("run_time", "run_time", "duration"),
)


@dataclass(frozen=True)
class Prefill:
    """What the form shows when the page opens, as scenario override values."""

    values: dict[str, float]

    @classmethod
    def of(cls, scenario: Scenario) -> Prefill:
        load = scenario.load
        return cls({"users": load.users, "spawn_rate": load.spawn_rate, "duration": load.duration})

    def show(self, options: Any) -> None:
        """Put the values where Locust's page takes the form's defaults from (its parsed options)."""
        options.num_users = int(self.values["users"])
        options.spawn_rate = self.values["spawn_rate"]
        options.run_time = int(self.values["duration"])

    def changes(self, form: Mapping[str, str]) -> dict[str, float]:
        """The overrides a submitted form asks for: every field whose value differs from the prefill."""
        changed: dict[str, float] = {}
        for field, _option, override in FIELDS:
            text = (form.get(field) or "").strip()
            if not text:
                continue
            value = _parse(field, text)
            if value != self.values[override]:
                changed[override] = int(value) if override == "users" else value
        return changed


def _parse(field: str, text: str) -> float:
    try:
        return parse_duration(text) if field == "run_time" else float(text)
    except (TypeError, ValueError) as error:
        raise UsageError(f"{field.replace('_', ' ')} {text!r} is not a number ({error})",
                         "type a number, or the prefilled value to keep the scenario's") from None
