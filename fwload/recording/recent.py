"""The last minutes of one request group's rows, kept per second in compact arrays.

The watch asks every second for the error ratio over 10 s and the p95 over 30 s (plus one
query per abort rule). Keeping every row as a tuple in one deque made each of those
queries scan the whole window and cost ~150 bytes per row held: at 5,000 requests/s
that is 600,000 tuples, ~90 MB, and tenths of a second of CPU per tick. Here a row costs
16 bytes, queries touch only the seconds they need, and percentiles use numpy's selection,
with the same answers: exact nearest-rank over the rows whose ``ts >= now - seconds``.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterator

import numpy as np


class _Second:
    """The rows of one wall-clock second: times and latencies of the good ones, flags of the rest."""

    __slots__ = ("bad_throttled", "bad_ts", "failed", "ok_ms", "ok_ts", "throttled")

    def __init__(self) -> None:
        self.ok_ts = array("d")
        self.ok_ms = array("d")
        self.bad_ts = array("d")
        self.bad_throttled = array("b")
        self.failed = 0
        self.throttled = 0


class RequestWindow:
    """Rows of the last ``seconds`` (at least; `trim` drops whole seconds)."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self._seconds: dict[int, _Second] = {}

    def add(self, ts: float, value: float, failed: bool, throttled: bool) -> None:
        key = int(ts // 1)
        second = self._seconds.get(key)
        if second is None:
            second = self._seconds[key] = _Second()
        if failed or throttled:
            second.bad_ts.append(ts)
            second.bad_throttled.append(throttled)
            if throttled:
                second.throttled += 1
            else:
                second.failed += 1
        else:
            second.ok_ts.append(ts)
            second.ok_ms.append(value)

    def add_ok(self, ts: float, value: float) -> None:
        """`add` for a request that neither failed nor was throttled (the common case)."""
        key = int(ts // 1)
        second = self._seconds.get(key)
        if second is None:
            second = self._seconds[key] = _Second()
        second.ok_ts.append(ts)
        second.ok_ms.append(value)

    def trim(self, now: float) -> None:
        """Forget the seconds entirely older than the window."""
        cutoff = now - self.seconds
        for key in [key for key in self._seconds if key + 1 <= cutoff]:
            del self._seconds[key]

    def __len__(self) -> int:
        return sum(len(s.ok_ts) + len(s.bad_ts) for s in self._seconds.values())

    def _since(self, cutoff: float) -> Iterator[tuple[_Second, bool]]:
        """Seconds holding rows at or after ``cutoff``, and whether all their rows are."""
        for key, second in self._seconds.items():
            if key >= cutoff:
                yield second, True
            elif key + 1 > cutoff:
                yield second, False

    def counts(self, now: float, seconds: float) -> tuple[int, int, int]:
        """(all, failed, throttled) rows with ``ts >= now - seconds``."""
        cutoff = now - seconds
        total = failed = throttled = 0
        for second, whole in self._since(cutoff):
            if whole:
                total += len(second.ok_ts) + len(second.bad_ts)
                failed += second.failed
                throttled += second.throttled
                continue
            total += sum(1 for ts in second.ok_ts if ts >= cutoff)
            for ts, was_throttled in zip(second.bad_ts, second.bad_throttled, strict=True):
                if ts >= cutoff:
                    total += 1
                    throttled += was_throttled
                    failed += not was_throttled
        return total, failed, throttled

    def ok_values(self, now: float, seconds: float) -> list[np.ndarray]:
        """Latencies of the good rows with ``ts >= now - seconds``, as arrays to concatenate."""
        cutoff = now - seconds
        parts = []
        for second, whole in self._since(cutoff):
            if not second.ok_ms:
                continue
            values = np.array(second.ok_ms, dtype="float64")  # a copy: arrays keep growing
            parts.append(values if whole else values[np.array(second.ok_ts, dtype="float64") >= cutoff])
        return parts


def nearest_rank_of(parts: list[np.ndarray], q: float) -> tuple[float | None, int]:
    """(nearest-rank ``q`` percentile, count) of the values in ``parts``, selected, not sorted."""
    values = np.concatenate(parts) if parts else np.empty(0)
    if not values.size:
        return None, 0
    index = max(1, math.ceil(q / 100 * values.size)) - 1
    return float(np.partition(values, index)[index]), int(values.size)
