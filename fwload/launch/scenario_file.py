"""The scenario file a Locust child process loads when the command line changed the scenario.

Locust reads ``--scenario`` itself (the plugin loads and records it), so options such as
``--users`` or ``--duration`` reach it as a private, resolved copy of the scenario — readable
by this user only, since it holds the target's password when the scenario has one.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path

import yaml

from fwload.preflight import safe_url
from fwload.scenario.loader import as_options, with_overrides
from fwload.scenario.model import Scenario

OVERRIDE_FIX = "change the option(s) named, or the scenario file (its caps: set the ceiling)"


def with_command_line(scenario: Scenario, path: Path, **options: object) -> Scenario:
    """``scenario`` with the options given on a command line (`OVERRIDES` names; None or ""
    = not given), validated like the file, caps included; an error names the file and options."""
    given = {name: value for name, value in options.items() if value is not None and value != ""}
    if not given:
        return scenario
    shown = {**given, "host": safe_url(str(given["host"]))} if "host" in given else given
    return with_overrides(scenario, **given, source=f"{path} with {as_options(shown)}", fix=OVERRIDE_FIX)


@contextlib.contextmanager
def resolved_copy(scenario: Scenario) -> Iterator[Path]:
    """A temporary file holding ``scenario`` as validated (removed on exit)."""
    with tempfile.TemporaryDirectory(prefix="fwload-scenario-") as folder:
        path = Path(folder) / "scenario.yaml"
        data = scenario.model_dump(mode="json", by_alias=True)
        if scenario.target.password is not None:
            data["target"]["password"] = scenario.target.password.get_secret_value()
        path.touch(mode=0o600)
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        yield path
