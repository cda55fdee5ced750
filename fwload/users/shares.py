"""Ratio options taken as shares: exactly that share of the chances, spread evenly.

``favorite_ratio: 0.2`` drawn with ``random.random() < 0.2`` at every play leaves a one-minute
run with a dozen plays no favorite at all about one time in fourteen, and the favorites SLO
then fails as never exercised. A `Share` instead says yes on the first chance and then on
exactly every fifth, over all users of a class in one process: the same 20 %, without the
runs where the group never happens.
"""

from __future__ import annotations

import random


class Share:
    """Yes for ``ratio`` of the calls to `take`, evenly spread (error diffusion). By default the
    phase makes the first call a yes (the rest of it random), so a short run has at least one."""

    def __init__(self, ratio: float, phase: float | None = None) -> None:
        self.ratio = ratio
        self.credit = 1.0 - ratio * random.random() if phase is None else phase

    def take(self) -> bool:
        if self.ratio <= 0:
            return False
        self.credit += self.ratio
        if self.credit >= 1.0 - 1e-9:  # 1/3 three times is 0.999…
            self.credit -= 1.0
            return True
        return False


class Shares:
    """One `Share` per name, for every user of a class in this process; a new one when the
    ratio changes (another scenario started from the web UI)."""

    def __init__(self) -> None:
        self._by_name: dict[str, Share] = {}

    def take(self, name: str, ratio: float) -> bool:
        share = self._by_name.get(name)
        if share is None or share.ratio != ratio:
            share = self._by_name[name] = Share(ratio)
        return share.take()
