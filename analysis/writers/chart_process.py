"""Drawing a large run's charts in a second process while this one analyses its requests.

Charts cost a fixed second or two of matplotlib; the request tables of a long run cost as
much again, on one core. So `build_outputs` starts a helper process as it begins (spawned,
not forked: the analysing process may already run pyarrow's threads), which imports
matplotlib while the run is read, draws the component charts while the request tables are
computed, and takes the request charts in turn. Once the analysis is done this process
draws, itself, every chart the helper has not started (work stealing through
``Future.cancel``), so neither waits on the other. A helper that fails costs nothing but
the time: its charts are drawn here.

Not used for small runs (starting the helper would cost more than it saves), nor inside a
gevent-patched process (a plain ``locust`` run writing its reports at the end).
"""

from __future__ import annotations

import json
import multiprocessing
import sys
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from analysis.writers import charts
from fwload.recording import schema

if TYPE_CHECKING:
    from analysis.analyse import RunAnalysis

PARALLEL_FROM_ROWS = 300_000
"""Requests from which a run's charts are drawn in a helper process."""


def worth_it(run_dir: Path) -> bool:
    """A run big enough, in a process where starting a helper is safe."""
    if "gevent.monkey" in sys.modules and sys.modules["gevent.monkey"].is_module_patched("threading"):
        return False
    try:
        counts = json.loads((run_dir / schema.RUN_JSON).read_text(encoding="utf-8")).get("counts") or {}
    except (OSError, ValueError):
        return False
    rows = counts.get("requests", counts.get(schema.REQUESTS_CSV, 0)) if isinstance(counts, dict) else 0
    return isinstance(rows, int) and rows >= PARALLEL_FROM_ROWS


class ChartProcess:
    """A helper process drawing charts; `on_resources` and `finish` hand it work."""

    def __init__(self) -> None:
        self._executor = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                                             initializer=_warm_up)
        self._jobs: dict[str, Future] = {}
        self._executor.submit(_ready)

    def on_resources(self, timeline: Any, resources: Any, documented: dict, live: dict) -> None:
        """Queue the component charts (`analysis.analyse.analyse_run`'s ``on_resources``)."""
        for component in resources.components:
            inputs = charts.component_inputs(timeline, resources, documented, live, component)
            self._submit(f"component:{component}", inputs)

    def finish(self, analysis: RunAnalysis) -> dict[str, str]:
        """Every chart of ``analysis``: the helper's, and those this process draws meanwhile."""
        names = charts.applicable(analysis)
        inputs = charts.chart_inputs(analysis)
        for name in names:
            self._submit(name, inputs)
        wanted = names + [f"component:{component}" for component in analysis.resources.components]
        drawn: dict[str, str] = {}
        for name in reversed(wanted):
            job = self._jobs.get(name)
            if job is None or job.cancel():
                drawn.update(charts.draw(analysis, [name]))
        for name in wanted:
            if name not in drawn:
                try:
                    drawn.update(self._jobs[name].result())
                except Exception:  # noqa: BLE001 - a broken helper only costs time
                    drawn.update(charts.draw(analysis, [name]))
        return drawn

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    def draw(self, inputs: Any, names: list[str]) -> Future:
        """`charts.draw` in the helper; the future's result is the charts by name."""
        return self._executor.submit(charts.draw, inputs, names)

    def _submit(self, name: str, inputs: Any) -> None:
        try:
            self._jobs[name] = self.draw(inputs, [name])
        except Exception:  # noqa: BLE001 - the helper died: this process draws the chart
            return


def _warm_up() -> None:
    """Import and draw once in the helper, while the parent reads the run."""
    charts.to_svg(charts._figure(1)[0])


def _ready() -> bool:
    return True
