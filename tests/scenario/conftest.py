"""Helpers shared by the scenario tests: write a scenario file and expect its error."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from fwload.errors import UsageError
from fwload.scenario.loader import load_scenario

SHIPPED = Path(__file__).resolve().parents[2] / "scenarios"
MINIMAL = "name: minimal\nusers: [{class: Listener}]\nload: {users: 2, duration: 30s}\n"


@pytest.fixture
def minimal() -> str:
    """The smallest valid scenario: name, users and load."""
    return MINIMAL


@pytest.fixture
def shipped() -> Path:
    """The folder of the shipped scenarios."""
    return SHIPPED


@pytest.fixture
def write(tmp_path: Path) -> Callable[..., Path]:
    """Write YAML text to ``tmp_path/<name>`` and return its path."""

    def _write(text: str, name: str = "x.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return _write


@pytest.fixture
def problem_of(write: Callable[..., Path]) -> Callable[[str], str]:
    """Load YAML text that must be rejected; return the error's problem text."""

    def _problem(text: str) -> str:
        path = write(text)
        with pytest.raises(UsageError) as caught:
            load_scenario(path)
        return caught.value.problem

    return _problem
