"""Arrow and Parquet storage of the run directory's tables (the layout: `fwload.recording.schema`).

`SegmentWriter` appends rows to an Arrow IPC stream while a run goes, `compact` turns a
table's streams into one Parquet file when it ends, `read_table` reads whatever is there
(Parquet, streams, a torn tail) and `iter_batches` walks a table in bounded memory for
exports. Locust-free: the analysis and the CLI use it too.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

from fwload.recording import schema
from fwload.recording.schema import Table

ROW_GROUP_ROWS = 1 << 20
"""Rows per Parquet row group: large enough to compress well, small enough to read in parallel."""
_STREAM_OPTIONS = ipc.IpcWriteOptions(compression="zstd", use_threads=False)
"""One thread: a flush must not wake a thread pool beside the users on the generator's CPU."""
_READ_ERRORS = (OSError, pa.ArrowInvalid, pa.ArrowException)
_FLOAT_KINDS = ("time", "float")
_INTEGER_KINDS = ("integer", "code")
_STRING_KINDS = ("category", "text")


def _arrow_type(kind: str, stored: bool) -> pa.DataType:
    alias = schema.KINDS[kind].arrow
    if alias == "category":
        return pa.dictionary(pa.int32(), pa.string()) if stored else pa.string()
    return pa.type_for_alias(alias)


def stream_schema(table: Table) -> pa.Schema:
    """The schema of a table's stream segments (categories as plain strings: cheap to append)."""
    return pa.schema([pa.field(c.name, _arrow_type(c.kind, False)) for c in table.columns])


def stored_schema(table: Table) -> pa.Schema:
    """The schema of a table's Parquet file and of every table `read_table` returns."""
    return pa.schema([pa.field(c.name, _arrow_type(c.kind, True)) for c in table.columns])


# -- writing while the run goes ---------------------------------------------------------------


def to_batch(table: Table, rows: Sequence[Sequence[Any]]) -> pa.RecordBatch:
    """Rows (tuples in the table's column order) as one record batch of its stream schema.

    Columns are built straight from the Python values; only a column holding something
    Arrow will not take as is ("" for an unknown number, a bool as text, a Decimal) is
    cleaned value by value.
    """
    width = len(table.columns)
    if rows and set(map(len, rows)) != {width}:
        bad = next(row for row in rows if len(row) != width)
        raise ValueError(f"a {table.name} row has {len(bad)} values, the table has {width} columns: {bad!r}")
    target = stream_schema(table)
    columns = list(zip(*rows)) if rows else [() for _ in table.columns]
    arrays = [_array(values, column.kind, field.type)
              for values, column, field in zip(columns, table.columns, target, strict=True)]
    return pa.RecordBatch.from_arrays(arrays, schema=target)


def _array(values: Sequence[Any], kind: str, arrow_type: pa.DataType) -> pa.Array:
    try:
        array = pa.array(values, type=arrow_type)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
        return pa.array([_clean(value, kind) for value in values], type=arrow_type)
    if kind in _STRING_KINDS and array.null_count:
        return array.fill_null("")
    return array


def _clean(value: Any, kind: str) -> Any:
    if kind in _STRING_KINDS:
        return "" if value is None else str(value)
    if value is None or value == "":
        return None
    if kind == "flag":
        return value if isinstance(value, bool) else str(value).strip().lower() == "true"
    if kind in _INTEGER_KINDS:
        number = float(value)
        if not number.is_integer():
            raise ValueError(f"{value!r} is not a whole number")
        return int(number)
    return float(value)


class SegmentWriter:
    """Appends batches to a new stream segment of one table; every append reaches the file at once."""

    def __init__(self, folder: Path, table: Table):
        self.table = table
        self.path = _create_segment(folder, table)
        self._sink = pa.OSFile(str(self.path), "wb")
        self._writer = ipc.new_stream(self._sink, stream_schema(table), options=_STREAM_OPTIONS)
        self._sink.flush()

    def write(self, rows: Sequence[Sequence[Any]]) -> None:
        self._writer.write_batch(to_batch(self.table, rows))
        self._sink.flush()

    def close(self) -> None:
        self._writer.close()
        self._sink.close()


def _create_segment(folder: Path, table: Table) -> Path:
    """A new, empty segment file numbered after every segment there is or was (exclusive create)."""
    number = max([absorbed_segments(folder, table), *(n for n, _ in segments(folder, table))]) + 1
    while True:
        path = folder / table.segment_name(number)
        try:
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
            return path
        except FileExistsError:
            number += 1


def segments(folder: Path, table: Table) -> list[tuple[int, Path]]:
    """The table's stream segments, oldest first."""
    pattern = re.compile(re.escape(table.name) + r"\.(\d+)\.arrows")
    found = []
    for path in folder.glob(f"{table.name}.*.arrows"):
        match = pattern.fullmatch(path.name)
        if match:
            found.append((int(match.group(1)), path))
    return sorted(found)


def absorbed_segments(folder: Path, table: Table) -> int:
    """The highest segment number the table's Parquet file holds (0 without one)."""
    path = folder / table.parquet_name
    if not path.is_file():
        return 0
    metadata = pq.read_schema(path).metadata or {}
    return int(metadata.get(schema.PARQUET_SEGMENTS_KEY.encode(), b"0"))


# -- reading ------------------------------------------------------------------------------------


@dataclass
class TableRead:
    """A table as found on disk."""

    data: pa.Table
    """In `stored_schema` (categories dictionary-encoded), only the requested columns."""
    cut: bool
    """A segment ended in a torn batch (a write cut short), which was left out."""
    present: bool
    """Some file of the table exists (Parquet or a segment)."""


def stored(folder: Path, table: Table) -> bool:
    """Whether the table has a file here (Parquet or a stream segment), even an empty one."""
    return (folder / table.parquet_name).is_file() or bool(segments(folder, table))


def compacted(folder: Path, table: Table) -> bool:
    """Whether the table is all in its Parquet file (no stream segment beyond it)."""
    return (folder / table.parquet_name).is_file() and not _live_segments(folder, table)


def read_table(folder: Path, table: Table, columns: Sequence[str] | None = None) -> TableRead:
    """The whole table: its Parquet file, then its segments past what the file absorbed."""
    names = list(columns or table.column_names)
    target = pa.schema([stored_schema(table).field(name) for name in names])
    parts: list[pa.Table] = []
    cut = False
    parquet = folder / table.parquet_name
    present = parquet.is_file()
    if present:
        parts.append(_conform(_read_parquet(parquet, names), target))
    for _number, path in _live_segments(folder, table):
        present = True
        batches, torn = _read_stream(path)
        cut |= torn
        parts.extend(_conform(pa.Table.from_batches([batch]), target) for batch in batches)
    if not parts:
        return TableRead(target.empty_table(), cut, present)
    data = parts[0] if len(parts) == 1 else pa.concat_tables(parts)
    return TableRead(data, cut, present)


def iter_batches(folder: Path, table: Table) -> Iterator[pa.RecordBatch]:
    """Every row of the table in `stored_schema`, a row group or a flushed batch at a time."""
    return _batches(folder, table, [])


def _batches(folder: Path, table: Table, torn: list[Path]) -> Iterator[pa.RecordBatch]:
    """`iter_batches`, adding each segment that ended in a torn batch to ``torn``."""
    target = stored_schema(table)
    parquet = folder / table.parquet_name
    if parquet.is_file():
        file = pq.ParquetFile(parquet)
        for group in range(file.num_row_groups):
            yield from _conform(file.read_row_group(group), target).to_batches()
    for _number, path in _live_segments(folder, table):
        batches, cut = _read_stream(path)
        if cut:
            torn.append(path)
        for batch in batches:
            yield from _conform(pa.Table.from_batches([batch]), target).to_batches()


def count_rows(folder: Path, table: Table) -> int:
    """Rows the table holds (Parquet metadata, plus every readable batch of its segments)."""
    parquet = folder / table.parquet_name
    rows = pq.read_metadata(parquet).num_rows if parquet.is_file() else 0
    return rows + sum(batch.num_rows for _n, path in _live_segments(folder, table) for batch in _read_stream(path)[0])


def _live_segments(folder: Path, table: Table) -> list[tuple[int, Path]]:
    absorbed = absorbed_segments(folder, table)
    return [(number, path) for number, path in segments(folder, table) if number > absorbed]


def _read_parquet(path: Path, names: list[str]) -> pa.Table:
    present = set(pq.read_schema(path).names)
    return pq.read_table(path, columns=[name for name in names if name in present])


def _read_stream(path: Path) -> tuple[list[pa.RecordBatch], bool]:
    """The complete batches of a segment, and whether it ended in a torn one."""
    batches: list[pa.RecordBatch] = []
    if path.stat().st_size == 0:
        return batches, False
    try:
        reader = ipc.open_stream(pa.memory_map(str(path)))
    except _READ_ERRORS:
        return batches, True
    while True:
        try:
            batches.append(reader.read_next_batch())
        except StopIteration:
            return batches, False
        except _READ_ERRORS:
            return batches, True


def _conform(data: pa.Table, target: pa.Schema) -> pa.Table:
    """``data`` with exactly ``target``'s columns and types (missing columns as nulls)."""
    columns = []
    for field in target:
        if field.name not in data.column_names:
            columns.append(pa.nulls(data.num_rows, field.type))
            continue
        column = data.column(field.name)
        if column.type != field.type:
            column = column.dictionary_encode() if pa.types.is_dictionary(field.type) and \
                pa.types.is_string(column.type) else column.cast(field.type)
        columns.append(column)
    return pa.Table.from_arrays(columns, schema=target.remove_metadata())


# -- at the end of a run ----------------------------------------------------------------------


def compact(folder: Path, table: Table) -> tuple[int, bool]:
    """Fold the table's segments (and any earlier Parquet file) into ``<table>.parquet``.

    Returns the rows it holds and whether a segment ended in a torn batch (left out).
    Written aside and renamed, so the file is whole or absent; the segments go only after.
    """
    live = _live_segments(folder, table)
    parquet = folder / table.parquet_name
    if not live and parquet.is_file():
        _remove_absorbed(folder, table)
        return pq.read_metadata(parquet).num_rows, False
    absorbed = max([absorbed_segments(folder, table), *(number for number, _ in live)])
    temporary = folder / f".{table.parquet_name}.{os.getpid()}.tmp"
    torn: list[Path] = []
    try:
        rows = _write_parquet(temporary, table, _batches(folder, table, torn), absorbed)
        os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, parquet)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _remove_absorbed(folder, table)
    return rows, bool(torn)


def _remove_absorbed(folder: Path, table: Table) -> None:
    """Remove the segments the Parquet file holds (left over by a compaction cut short too)."""
    absorbed = absorbed_segments(folder, table)
    for number, path in segments(folder, table):
        if number <= absorbed:
            path.unlink(missing_ok=True)


def replace_table(folder: Path, table: Table, rows: Sequence[Sequence[Any]]) -> int:
    """Make ``rows`` the whole table: its Parquet file, written aside and renamed, absorbing (and
    so dropping) whatever its earlier files held. ``fwload report --collect-from`` fills a
    finished run this way, so a failed or repeated collection never leaves half of one."""
    absorbed = max([absorbed_segments(folder, table), *(number for number, _ in segments(folder, table))])
    temporary = folder / f".{table.parquet_name}.{os.getpid()}.tmp"
    try:
        count = _write_parquet(temporary, table, [to_batch(table, rows)], absorbed)
        os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, folder / table.parquet_name)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _remove_absorbed(folder, table)
    return count


def write_parquet(folder: Path, table: Table, data: pa.Table | Iterable[pa.RecordBatch]) -> int:
    """Write a whole table as its Parquet file, exactly as `compact` does (for tools and tests)."""
    batches = data.to_batches(ROW_GROUP_ROWS) if isinstance(data, pa.Table) else data
    return _write_parquet(folder / table.parquet_name, table, batches, 0)


def _write_parquet(path: Path, table: Table, batches: Iterable[pa.RecordBatch], absorbed: int) -> int:
    target = stored_schema(table).with_metadata({schema.PARQUET_SEGMENTS_KEY: str(absorbed)})
    rows = 0
    with pq.ParquetWriter(path, target, compression="zstd",
                          use_dictionary=[c.name for c in table.columns if c.kind == "category"]) as writer:
        for group in _row_groups(batches, target):
            writer.write_table(group, row_group_size=ROW_GROUP_ROWS)
            rows += group.num_rows
    return rows


def _row_groups(batches: Iterable[pa.RecordBatch], target: pa.Schema) -> Iterator[pa.Table]:
    """Batches gathered into tables of about `ROW_GROUP_ROWS` rows, one dictionary per category column."""
    pending: list[pa.RecordBatch] = []
    held = 0
    for batch in batches:
        pending.append(batch)
        held += batch.num_rows
        if held >= ROW_GROUP_ROWS:
            yield _group(pending, target)
            pending, held = [], 0
    if pending:
        yield _group(pending, target)


def _group(batches: list[pa.RecordBatch], target: pa.Schema) -> pa.Table:
    data = pa.concat_tables([_conform(pa.Table.from_batches([batch]), target) for batch in batches])
    return data.unify_dictionaries().combine_chunks()


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask
