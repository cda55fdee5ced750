"""Shared fixtures of the analysis tests: the known-answer run, analysed once per module."""

from __future__ import annotations

import pytest
from known_runs import standard_run

from analysis.analyse import analyse_run


@pytest.fixture(scope="module")
def known(tmp_path_factory):
    """The standard three-step run (slow step 3, 429 burst, OOM kill in step 3) and its analysis."""
    truth = standard_run(tmp_path_factory.mktemp("known") / "run")
    return truth, analyse_run(truth.path)
