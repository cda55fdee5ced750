"""Drawing a large run's charts in a second process while this one analyses its requests.

Charts cost a fixed second or two of matplotlib; the request tables of a long run cost as
much again, on one core. So `build_outputs` starts a helper process as it begins, which
imports matplotlib while the run is read, draws the component charts while the request
tables are computed, and takes the request charts in turn. Once the analysis is done this
process draws, itself, every chart the helper has not started yet (the helper is handed one
chart at a time), so neither waits on the other. A helper that fails costs nothing but the
time: its charts are drawn here.

The helper is a plain ``python -c`` child speaking pickles over its stdin and stdout, not
a `multiprocessing` one: spawning those re-runs the caller's main script, and forking a
process that may run pyarrow's threads is unsafe. It is not used for small runs (starting
it would cost more than it saves), nor inside a gevent-patched process (a plain ``locust``
run writing its reports at the end).
"""

from __future__ import annotations

import json
import pickle
import struct
import subprocess
import sys
import threading
from collections import deque
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from analysis.writers import charts
from fwload.recording import schema

if TYPE_CHECKING:
    from analysis.analyse import RunAnalysis

PARALLEL_FROM_ROWS = 300_000
"""Requests from which a run's charts are drawn in a helper process."""
_HEADER = struct.Struct("!Q")


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
    """A helper process drawing charts; `on_resources`, `submit` and `finish` hand it work.

    A thread of this process feeds the helper one chart at a time (so that this process can
    still take the others) and collects what it drew.
    """

    def __init__(self) -> None:
        code = f"import sys; sys.path[:0] = {sys.path!r}; from analysis.writers.chart_process import serve; serve()"
        self._child = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE,
                                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self._state = threading.Condition()
        self._pending: deque[tuple[str, Any]] = deque()
        self._busy: tuple[str, Any] | None = None
        self._drawn: dict[str, str] = {}
        self._closing = self._broken = False
        self._feeder = threading.Thread(target=self._feed, name="fwload-charts", daemon=True)
        self._feeder.start()

    def on_resources(self, timeline: Any, resources: Any, documented: dict, live: dict) -> None:
        """Queue the component charts (`analysis.analyse.analyse_run`'s ``on_resources``)."""
        for component in resources.components:
            self.submit(f"component:{component}",
                        charts.component_inputs(timeline, resources, documented, live, component))

    def submit(self, name: str, inputs: Any) -> None:
        """Queue ``charts.draw(inputs, [name])`` for the helper."""
        with self._state:
            self._pending.append((name, inputs))
            self._state.notify_all()

    def finish(self, analysis: RunAnalysis) -> dict[str, str]:
        """Every chart of ``analysis``: the helper's, and those this process draws meanwhile."""
        names = charts.applicable(analysis)
        inputs = charts.chart_inputs(analysis)
        for name in names:
            self.submit(name, inputs)
        wanted = names + [f"component:{component}" for component in analysis.resources.components]
        mine: dict[str, str] = {}
        while True:
            with self._state:
                job = self._pending.pop() if self._pending else None
                if job is None:
                    self._state.wait_for(lambda: self._busy is None or self._broken)
                    drawn = dict(self._drawn)
                    break
            mine.update(charts.draw(analysis, [job[0]]))
        drawn.update(mine)
        return {**drawn, **charts.draw(analysis, [name for name in wanted if name not in drawn])}

    def helper_drew(self, name: str, timeout: float) -> str | None:
        """What the helper drew for ``name``, waiting for it up to ``timeout`` seconds (None if it did not)."""
        with self._state:
            self._state.wait_for(lambda: name in self._drawn or self._broken, timeout)
            return self._drawn.get(name)

    def close(self) -> None:
        """Let the helper go (it ends when its input closes) without waiting for it."""
        with self._state:
            self._closing = True
            self._pending.clear()
            self._state.notify_all()

    def _feed(self) -> None:
        try:
            _read(self._child.stdout)  # ready: matplotlib imported
            while True:
                with self._state:
                    self._state.wait_for(lambda: self._pending or self._closing)
                    if self._closing:
                        break
                    self._busy = self._pending.popleft()
                _write(self._child.stdin, self._busy)
                name, result = _read(self._child.stdout)
                with self._state:
                    if isinstance(result, str):
                        self._drawn[name] = result
                    self._busy = None
                    self._state.notify_all()
        except (OSError, EOFError, pickle.PickleError, struct.error):
            pass
        finally:
            with self._state:
                self._broken = True
                self._busy = None
                self._state.notify_all()
            for stream in (self._child.stdin, self._child.stdout):
                try:
                    stream.close()
                except OSError:
                    pass
            self._child.wait()


def serve() -> None:
    """The helper's loop: read ``(name, inputs)``, answer ``(name, svg)`` (or an error text)."""
    source, sink = sys.stdin.buffer, sys.stdout.buffer
    charts.to_svg(charts._figure(1)[0])
    _write(sink, "ready")
    while True:
        try:
            name, inputs = _read(source)
        except EOFError:
            return
        try:
            answer: Any = charts.draw(inputs, [name])[name]
        except Exception as error:  # noqa: BLE001 - the parent draws it instead
            answer = ValueError(repr(error))
        _write(sink, (name, answer))


def _write(sink: IO[bytes] | None, message: Any) -> None:
    assert sink is not None
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    sink.write(_HEADER.pack(len(data)) + data)
    sink.flush()


def _read(source: IO[bytes] | None) -> Any:
    assert source is not None
    header = source.read(_HEADER.size)
    if len(header) < _HEADER.size:
        raise EOFError
    (size,) = _HEADER.unpack(header)
    data = source.read(size)
    if len(data) < size:
        raise EOFError
    return pickle.loads(data)
