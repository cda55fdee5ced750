"""Fixtures of the web UI tests: short scenarios written to the test's folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.webui.uiprocess import scenario_text


@pytest.fixture
def write_scenario(tmp_path: Path) -> Callable[..., Path]:
    def write(name: str, duration: str, users: int = 3, ready_timeout: str = "60s") -> Path:
        path = tmp_path / f"{name}.yaml"
        path.write_text(scenario_text(name, duration, users, ready_timeout), encoding="utf-8")
        return path

    return write
