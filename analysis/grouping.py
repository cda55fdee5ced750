"""Row-to-group ids for several groupings of one large frame, without a pandas groupby per table.

`request_metrics` builds seven tables over the same rows (10 M in a long capacity run), each
grouped by other keys. A pandas groupby hashes every key of every row again for each table;
here each key column becomes small integer codes once (a categorical's own codes; a column
of whole numbers, such as a window or stage index, offset from its minimum; anything else
factorised), a grouping's id per row is the mixed-radix sum of its keys' codes looked up in
a table of the combinations present, and the grouped index is made by pandas itself from
one row per combination present (decoded from the codes, never searched for in the rows),
so it is exactly the index ``groupby(keys, observed=True, sort=True)`` gives.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

MAX_DENSE = 1 << 24
"""Above this many possible key combinations, the combinations present are found by sorting."""
MAX_SPAN = 1 << 20
"""Whole numbers spread over more than this many values are factorised instead of offset."""


class Grouper:
    """Group ids of ``frame``'s rows for any list of columns."""

    def __init__(self, frame: pd.DataFrame):
        self.frame = frame
        self._codes: dict[str, tuple[np.ndarray, pd.Series]] = {}

    def codes(self, key: str) -> tuple[np.ndarray, pd.Series]:
        """(code per row, -1 for a missing key; the key value of each code, in the column's dtype)."""
        if key not in self._codes:
            column = self.frame[key]
            if isinstance(column.dtype, pd.CategoricalDtype):
                codes = column.cat.codes.to_numpy()
                values = pd.Series(pd.Categorical.from_codes(np.arange(len(column.cat.categories)),
                                                             dtype=column.dtype))
            else:
                codes, values = _whole_number_codes(column)
                if codes is None:
                    codes, uniques = pd.factorize(column, use_na_sentinel=True)
                    values = pd.Series(uniques, dtype=column.dtype)
            count = max(len(values), 1)
            self._codes[key] = (codes.astype(np.min_scalar_type(-count)), values)
        return self._codes[key]

    def group_ids(self, keys: list[str]) -> tuple[np.ndarray, pd.Index, np.ndarray]:
        """Group position of every row (-1: dropped by groupby, a key missing), the grouped
        index and the rows in each group."""
        combined, space = self._combined(keys)
        present, sizes = _present(combined, space)
        sample = self._decode(keys, present)
        grouped = sample.groupby(keys, observed=True, sort=True)
        index = grouped.size().index
        positions = grouped.ngroup().to_numpy().astype("int64")
        by_position = np.zeros(len(index), dtype="int64")
        by_position[positions] = sizes
        if len(present) == space and (positions == np.arange(space)).all():
            ids = combined  # every combination present, in order: the code is the position
            return (np.where(ids == space, -1, ids) if self._missing(keys) else ids), index, by_position
        return _Lookup(present, positions, space)(combined), index, by_position

    def _missing(self, keys: list[str]) -> bool:
        return any(self.codes(key)[0].size and self.codes(key)[0].min() < 0 for key in keys)

    def _combined(self, keys: list[str]) -> tuple[np.ndarray, int]:
        """Mixed-radix code of each row's keys, in the smallest type that holds it; rows with a
        missing key get ``space`` (one past the end)."""
        space = 1
        for key in keys:
            space *= max(len(self.codes(key)[1]), 1)
        dtype = np.min_scalar_type(-space - 1)
        if len(keys) == 1 and not self._missing(keys):
            return self.codes(keys[0])[0].astype(dtype, copy=False), space
        combined = np.zeros(len(self.frame), dtype=dtype)
        for key in keys:
            key_codes, values = self.codes(key)
            combined *= max(len(values), 1)
            combined += key_codes.astype(dtype, copy=False) if key_codes.min(initial=0) >= 0 else \
                np.maximum(key_codes, 0).astype(dtype)
        if self._missing(keys):
            missing = np.zeros(len(combined), dtype=bool)
            for key in keys:
                missing |= self.codes(key)[0] < 0
            combined[missing] = space
        return combined, space

    def _decode(self, keys: list[str], present: np.ndarray) -> pd.DataFrame:
        """One row per combination present, with the key values (and dtypes) of the frame."""
        columns = {}
        rest = present.copy()
        for key in reversed(keys):
            _codes, values = self.codes(key)
            count = max(len(values), 1)
            columns[key] = values.iloc[rest % count].reset_index(drop=True)
            rest //= count
        return pd.DataFrame({key: columns[key] for key in keys})


def offset_codes(numbers: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(number - minimum, -1 for NaN; every number from the minimum to the maximum) of whole
    numbers spread over less than `MAX_SPAN`, else None."""
    if numbers.dtype.kind in "iu":
        if not numbers.size:
            return numbers.astype("int64"), numbers[:0]
        low, high = int(numbers.min()), int(numbers.max())
        if high - low >= MAX_SPAN:
            return None
        return (numbers - low).astype(_code_type(high - low)), np.arange(low, high + 1, dtype=numbers.dtype)
    missing = np.isnan(numbers)
    known = numbers[~missing] if missing.any() else numbers
    if not known.size:
        return np.full(numbers.size, -1, dtype="int64"), numbers[:0]
    low, high = known.min(), known.max()
    if high - low >= MAX_SPAN or not np.array_equal(known, np.floor(known)):
        return None
    codes = numbers - low
    if known is not numbers:
        codes[missing] = -1
    return codes.astype(_code_type(high - low)), np.arange(low, high + 1, dtype=numbers.dtype)


def _code_type(top: float) -> np.dtype:
    return np.min_scalar_type(-int(top) - 1)


def _whole_number_codes(column: pd.Series) -> tuple[np.ndarray | None, pd.Series | None]:
    """Codes of a numeric column holding whole numbers over a small span: the value minus the minimum."""
    if not pd.api.types.is_numeric_dtype(column.dtype) or pd.api.types.is_bool_dtype(column.dtype):
        return None, None
    if isinstance(column.dtype, np.dtype):
        found = offset_codes(column.to_numpy())
        return (None, None) if found is None else (found[0], pd.Series(found[1], dtype=column.dtype))
    array = column.to_numpy(dtype="float64", na_value=np.nan)
    known = ~np.isnan(array)
    if not known.any():
        return np.full(len(array), -1, dtype="int64"), pd.Series([], dtype=column.dtype)
    low, high = np.nanmin(array), np.nanmax(array)
    if high - low >= MAX_SPAN or not np.array_equal(array[known], np.floor(array[known])):
        return None, None
    codes = np.where(known, array - low, -1).astype("int64")
    values = pd.Series(np.arange(low, high + 1), dtype="float64").astype(column.dtype)
    return codes, values


class _Lookup:
    """Maps mixed-radix codes to group positions: a dense table when small, a search otherwise."""

    def __init__(self, present: np.ndarray, positions: np.ndarray, space: int):
        self.present, self.positions, self.space = present, positions, space
        if space <= MAX_DENSE:
            self.table = np.full(space + 1, -1, dtype=np.min_scalar_type(-max(len(positions), 1)))
            self.table[present] = positions

    def __call__(self, combined: np.ndarray) -> np.ndarray:
        if self.space <= MAX_DENSE:
            return self.table[combined]
        found = np.searchsorted(self.present, combined)
        found = np.minimum(found, len(self.present) - 1) if len(self.present) else found
        hit = (combined < self.space) & (self.present[found] == combined) if len(self.present) else combined < 0
        return np.where(hit, self.positions[found] if len(self.present) else -1, -1)


def _present(combined: np.ndarray, space: int) -> tuple[np.ndarray, np.ndarray]:
    """The sorted codes present (missing keys excluded) and how many rows hold each."""
    if space <= MAX_DENSE:
        counts = np.bincount(combined, minlength=space + 1)[:space]
        present = np.flatnonzero(counts)
        return present, counts[present]
    present, counts = np.unique(combined, return_counts=True)
    return present[present < space], counts[present < space]
