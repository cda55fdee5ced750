"""Row-to-group ids for several groupings of one large frame, without a pandas groupby per table.

`request_metrics` builds seven tables over the same rows (10 M in a long capacity run), each
grouped by other keys. A pandas groupby hashes every key of every row again for each table;
that was most of a report's time. Here each key column becomes small integer codes once
(a categorical's own codes, else one factorisation), a grouping's id per row is the
mixed-radix sum of its keys' codes looked up in a table of the combinations present, and
the grouped index is made by pandas itself from one row per group present, so it is
exactly the index ``groupby(keys, observed=True, sort=True)`` gives.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

MAX_DENSE = 1 << 24
"""Above this many possible key combinations, the combinations present are found by sorting."""


class Grouper:
    """Group ids of ``frame``'s rows, and of the rows ``order`` selects, for any list of columns."""

    def __init__(self, frame: pd.DataFrame, order: np.ndarray | None = None):
        self.frame = frame
        self.order = order
        self._codes: dict[str, tuple[np.ndarray, int]] = {}
        self._ordered: dict[str, np.ndarray] = {}

    def codes(self, key: str) -> tuple[np.ndarray, int]:
        """(code per row in the smallest signed type, -1 for a missing key; number of distinct codes).

        Small types matter: gathering codes in latency order is a random read of every row.
        """
        if key not in self._codes:
            column = self.frame[key]
            if isinstance(column.dtype, pd.CategoricalDtype):
                codes, count = column.cat.codes.to_numpy(), len(column.cat.categories)
            else:
                codes, uniques = pd.factorize(column, use_na_sentinel=True)
                count = len(uniques)
            self._codes[key] = (codes.astype(np.min_scalar_type(-max(count, 1))), count)
        return self._codes[key]

    def group_ids(self, keys: list[str]) -> tuple[np.ndarray, np.ndarray | None, pd.Index]:
        """Group position of every row and of every ``order`` row (-1: dropped by groupby), and the index."""
        combined, space = self._combined(keys, [self.codes(key)[0] for key in keys])
        present, first = _present(combined, space)
        sample = self.frame.iloc[first][keys]
        grouped = sample.groupby(keys, observed=True, sort=True)
        index = grouped.size().index
        lookup = _Lookup(present, grouped.ngroup().to_numpy().astype("int64"), space)
        ordered = None
        if self.order is not None:
            ordered_codes = [self._ordered_codes(key) for key in keys]
            ordered = lookup(self._combined(keys, ordered_codes)[0])
        return lookup(combined), ordered, index

    def _ordered_codes(self, key: str) -> np.ndarray:
        if key not in self._ordered:
            self._ordered[key] = self.codes(key)[0][self.order]
        return self._ordered[key]

    def _combined(self, keys: list[str], codes: list[np.ndarray]) -> tuple[np.ndarray, int]:
        """Mixed-radix code of each row's keys; rows with a missing key get ``space`` (one past the end)."""
        space = 1
        combined = np.zeros(len(codes[0]) if codes else 0, dtype="int64")
        missing = np.zeros(len(combined), dtype=bool)
        for key, key_codes in zip(keys, codes, strict=True):
            count = max(self.codes(key)[1], 1)
            missing |= key_codes < 0
            combined *= count
            combined += key_codes.astype("int64")
            space *= count
        combined[missing] = space
        return combined, space


class _Lookup:
    """Maps mixed-radix codes to group positions: a dense table when small, a search otherwise."""

    def __init__(self, present: np.ndarray, positions: np.ndarray, space: int):
        self.present, self.positions, self.space = present, positions, space
        if space <= MAX_DENSE:
            self.table = np.full(space + 1, -1, dtype="int64")
            self.table[present] = positions

    def __call__(self, combined: np.ndarray) -> np.ndarray:
        if self.space <= MAX_DENSE:
            return self.table[combined]
        found = np.searchsorted(self.present, combined)
        found = np.minimum(found, len(self.present) - 1) if len(self.present) else found
        hit = (combined < self.space) & (self.present[found] == combined) if len(self.present) else combined < 0
        return np.where(hit, self.positions[found] if len(self.present) else -1, -1)


def _present(combined: np.ndarray, space: int) -> tuple[np.ndarray, np.ndarray]:
    """The sorted codes present (missing keys excluded) and, for each, one row holding it."""
    if space <= MAX_DENSE:
        first = np.full(space + 1, -1, dtype="int64")
        first[combined[::-1]] = np.arange(len(combined) - 1, -1, -1)
        present = np.flatnonzero(first[:space] >= 0)
        return present, first[present]
    present, first = np.unique(combined, return_index=True)
    keep = present < space
    return present[keep], first[keep]
