"""Analysis of fwload run directories: verdicts, capacity and reports, from the directory alone.

A run directory (`fwload.recording.schema`) is everything the analysis reads, so a run can be
re-analysed, compared or rescued after a crash. The entry point that ``fwload run`` and
``fwload report`` call is `build_outputs` (`analysis.outputs`; ``build_reports`` is the same
function); notebooks use `analysis.analyse.analyse_run`. Both are imported lazily, so
``import analysis`` stays cheap.

Never import ``locust`` from here: it monkey-patches the standard library.
"""

from __future__ import annotations

from typing import Any

__all__ = ["build_outputs", "build_reports"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from analysis.outputs import build_outputs

        return build_outputs
    raise AttributeError(f"module 'analysis' has no attribute {name!r}")
