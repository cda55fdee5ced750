"""Read a run directory into DataFrames, tolerating runs that were cut short.

Large runs hold millions of request rows, so only the columns the analysis uses are read,
with explicit dtypes and categoricals for the low-cardinality strings. A ``fwload-run/2``
directory is read from its Parquet files and Arrow stream segments
(`fwload.recording.columnar`, categories arrive dictionary-encoded); a ``fwload-run/1``
directory from its CSV files, with pyarrow's CSV reader. A run killed mid-write still
loads: a torn last batch (or a cut last CSV line) is dropped and the run is flagged
`Run.partial` with the reasons (`analysis.completeness`), so the reports say so at the top
and the verdict is *incomplete* instead of silently showing less.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv

from analysis.completeness import TableRead, incompleteness
from fwload.errors import RunDirectoryError
from fwload.recording import columnar, schema
from fwload.recording.rundir import read_run_json

FLOAT, INT, CATEGORY, TEXT, BOOL = "float", "int", "category", "text", "bool"
_FROM_SCHEMA = {"time": FLOAT, "float": FLOAT, "integer": FLOAT, "code": INT, "category": CATEGORY,
                "text": TEXT, "flag": BOOL}
"""The pandas dtype family of each schema kind: whole numbers load as float64 (NaN = not known),
since the analysis adds and divides them; codes (HTTP status) as nullable Int64."""

COLUMN_KINDS: dict[str, dict[str, str]] = {
    name: {column.name: _FROM_SCHEMA[column.kind] for column in table.columns}
    for name, table in schema.TABLES.items()
}
"""The dtype family of every column of every table (from `fwload.recording.schema`)."""

ANALYSIS_COLUMNS: dict[str, tuple[str, ...]] = {
    "requests": ("ts", "group", "name", "method", "status", "response_ms", "error_kind", "error"),
    "imports": ("ts", "upload", "outcome", "wait_ms", "polls", "fixture", "format"),
    "streams": ("ts", "status", "ttfb_ms", "total_ms", "bytes", "error_kind"),
    "plays": ("ts", "client", "playback", "transcode", "startup_ms", "stalls", "stall_ms", "seek_wait_ms",
              "played_s", "duration_s", "outcome", "error_kind", "gaps"),
    "sessions": schema.SESSION_COLUMNS,
    "resources": schema.RESOURCE_COLUMNS,
    "resource_history": schema.RESOURCE_HISTORY_COLUMNS,
}
"""What the analysis reads by default: every column it uses, none it does not (a table not
listed is read whole)."""

COLUMN_BY_COLUMN_ROWS = 2_000_000
"""From this many rows a Parquet table is read a column at a time (peak memory: the frame and one
column, not the frame and the whole Arrow table); below, in one read (fewer file visits)."""

_FIXED_CATEGORIES = {"error_kind": ("", *schema.ERROR_KINDS)}
_FIXED_BY_TABLE = {
    "imports": {"outcome": schema.IMPORT_OUTCOMES},
    "plays": {"outcome": schema.PLAY_OUTCOMES, "playback": schema.PLAYBACK_MODES},
    "sessions": {"outcome": schema.SESSION_OUTCOMES, "reason": ("", *schema.DROP_REASONS)},
}
"""Categories every frame of a table has, whether its rows hold them or not (stable tables and charts)."""
_TYPES = {pa.int32(): pd.Int64Dtype(), pa.bool_(): pd.BooleanDtype()}


@dataclass
class Run:
    """One run directory, loaded: metadata, events and one DataFrame per CSV file."""

    path: Path
    meta: dict[str, Any]
    requests: pd.DataFrame
    imports: pd.DataFrame
    streams: pd.DataFrame
    resources: pd.DataFrame
    events: list[dict[str, Any]]
    plays: pd.DataFrame = field(default_factory=pd.DataFrame)
    """plays.csv; empty (with its columns) in a run that played nothing."""
    sessions: pd.DataFrame = field(default_factory=pd.DataFrame)
    """sessions.csv: one row per session an arrivals run asked for (empty in other runs)."""
    partial_reasons: list[str] = field(default_factory=list)
    resource_history: pd.DataFrame = field(default_factory=pd.DataFrame)
    """resource_history.csv: usage over a longer window, for right-sizing only (may be empty)."""

    @property
    def partial(self) -> bool:
        """True when the run did not end cleanly or its files were cut short."""
        return bool(self.partial_reasons)

    @property
    def run_id(self) -> str:
        return str(self.meta.get("run_id") or self.path.name)

    @property
    def scenario_path(self) -> Path:
        return self.path / schema.SCENARIO_YAML

    def events_of(self, *types: str) -> list[dict[str, Any]]:
        """Events of the given types, in time order."""
        return [event for event in self.events if event.get("type") in types]


def load_run(path: str | Path, columns: dict[str, tuple[str, ...]] | None = None) -> Run:
    """Load a run directory; raise `RunDirectoryError` if it is missing, empty or foreign.

    ``columns`` overrides `ANALYSIS_COLUMNS` per table (e.g. to read every column).
    """
    path = Path(path)
    meta = read_run_json(path)
    wanted = {**ANALYSIS_COLUMNS, **(columns or {})}
    events, event_problems = read_events(path / schema.EVENTS_JSONL)
    problems = [f"{name}: the last batch was cut off mid-write and was dropped" for name in meta.get("cut_tables") or ()]
    frames, tables = {}, []
    for name, table in schema.TABLES.items():
        frame, read = read_table(path, table, wanted.get(name, table.column_names))
        tables.append(read)
        frames[name] = frame
    stopped = [str(event.get("detail", "")) for event in events if event.get("type") == "interrupted"]
    reasons = incompleteness(meta, tables, [*problems, *event_problems], stopped[-1] if stopped else "")
    return Run(path=path, meta=meta, **frames, events=events, partial_reasons=reasons)


def read_table(path: Path, table: schema.Table, columns: tuple[str, ...]) -> tuple[pd.DataFrame, TableRead]:
    """One table as a typed DataFrame, and what the read found (rows, a torn last record).

    The Arrow/Parquet files when the table has any, else the CSV of the ``fwload-run/1``
    layout; a table with neither reads as no rows (a run that died early may not have
    written it).
    """
    kinds = {name: COLUMN_KINDS[table.name][name] for name in columns}
    fixed = {**_FIXED_CATEGORIES, **_FIXED_BY_TABLE.get(table.name, {})}
    if columnar.compacted(path, table) and columns and columnar.count_rows(path, table) >= COLUMN_BY_COLUMN_ROWS:
        # One column at a time: memory holds the frame so far and one column in Arrow, never both whole.
        parts = [_to_pandas(columnar.read_table(path, table, [name]).data, kinds)[name] for name in columns]
        frame = _finish(pd.DataFrame(dict(zip(columns, parts, strict=True)), copy=False), kinds, fixed)
        return frame, TableRead(table.name, len(frame))
    read = columnar.read_table(path, table, columns)
    if read.present or not (path / table.csv_name).is_file():
        frame = _finish(_to_pandas(read.data, kinds), kinds, fixed)
        return frame, TableRead(table.name, len(frame), torn_tail=read.cut)
    frame, cut = read_csv(path / table.csv_name, table, columns)
    return frame, TableRead(table.csv_name, len(frame), torn_tail=cut)


def _to_pandas(data: pa.Table, kinds: dict[str, str]) -> pd.DataFrame:
    """Whole numbers as float64 (cast in Arrow, before the copy), the rest by `_TYPES`."""
    for index, name in enumerate(data.column_names):
        if kinds[name] == FLOAT and not pa.types.is_floating(data.schema.field(name).type):
            data = data.set_column(index, name, data.column(name).cast(pa.float64()))
    frame = data.to_pandas(self_destruct=True, split_blocks=True, types_mapper=_TYPES.get)
    del data
    pa.default_memory_pool().release_unused()
    return frame


def read_csv(path: Path, table: schema.Table, columns: tuple[str, ...]) -> tuple[pd.DataFrame, bool]:
    """One table of the ``fwload-run/1`` layout as a typed DataFrame, and whether its last line was cut off."""
    kinds = {name: COLUMN_KINDS[table.name][name] for name in columns}
    fixed = {**_FIXED_CATEGORIES, **_FIXED_BY_TABLE.get(table.name, {})}
    complete = _complete_length(path)
    cut = complete < path.stat().st_size
    if complete == 0:
        return _empty(kinds, fixed), cut
    _check_header(path, columns)
    try:
        frame = _read_pyarrow(path, complete, kinds)
    except (ValueError, pa.ArrowException) as error:
        raise RunDirectoryError(
            f"{path} cannot be parsed: {str(error).splitlines()[0]}",
            "the file is damaged; restore it from the run's artifacts or re-run the test",
        ) from None
    return _finish(frame, kinds, fixed), cut


def read_events(path: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """events.jsonl as a time-ordered list, with problems found (a cut last line, bad lines)."""
    if not path.is_file():
        return [], []
    events, problems = [], []
    lines = path.read_text(encoding="utf-8", errors="replace").split("\n")
    last = len(lines) - 1
    for number, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            event = None
        if not isinstance(event, dict) or "type" not in event or not isinstance(event.get("ts"), int | float):
            where = (
                "the last line was cut off mid-write"
                if number == last
                else f"line {number + 1} is not an event"
            )
            problems.append(f"events.jsonl: {where} and was skipped")
            continue
        events.append(event)
    events.sort(key=lambda event: event["ts"])
    return events, problems


def _complete_length(path: Path) -> int:
    """Bytes up to and including the last newline: what was fully written."""
    size = path.stat().st_size
    with path.open("rb") as handle:
        end = size
        while end > 0:
            start = max(0, end - 65536)
            handle.seek(start)
            chunk = handle.read(end - start)
            if end == size and chunk.endswith(b"\n"):
                return size
            newline = chunk.rfind(b"\n")
            if newline >= 0:
                return start + newline + 1
            end = start
    return 0


def _check_header(path: Path, columns: tuple[str, ...]) -> None:
    with path.open("r", encoding="utf-8", errors="replace") as handle:
        header = next(csv.reader([handle.readline()]), [])
    missing = [name for name in columns if name not in header]
    if missing:
        raise RunDirectoryError(
            f"{path} has no column {', '.join(missing)}: it was not written in the {schema.READ_FORMATS[0]} format",
            "analyse it with the fwload version that wrote it",
        )


def _arrow_type(kind: str) -> Any:
    return {
        FLOAT: pa.float64(),
        INT: pa.float64(),
        TEXT: pa.string(),
        BOOL: pa.string(),
        CATEGORY: pa.dictionary(pa.int32(), pa.string()),
    }[kind]


def _read_pyarrow(path: Path, length: int, kinds: dict[str, str]) -> pd.DataFrame:
    with pa.memory_map(str(path)) as source:
        table = pa_csv.read_csv(
            pa.BufferReader(source.read_buffer(length)),
            convert_options=pa_csv.ConvertOptions(
                column_types={name: _arrow_type(kind) for name, kind in kinds.items()},
                include_columns=list(kinds),
                null_values=[""],
                strings_can_be_null=False,
            ),
        )
    frame = table.to_pandas(self_destruct=True)
    del table
    pa.default_memory_pool().release_unused()
    return frame


def _finish(frame: pd.DataFrame, kinds: dict[str, str], fixed_categories: dict[str, tuple[str, ...]]) -> pd.DataFrame:
    for name, kind in kinds.items():
        column = frame[name]
        if kind == INT:
            if column.dtype != "Int64":
                frame[name] = column.astype("Int64")
        elif kind == BOOL:
            if column.dtype != "boolean":
                frame[name] = column.map({"true": True, "false": False, "True": True, "False": False}).astype(
                    "boolean"
                )
        elif kind == CATEGORY:
            if not isinstance(column.dtype, pd.CategoricalDtype):
                column = column.astype("category")
            fixed = fixed_categories.get(name, ())
            extra = [value for value in fixed if value not in column.cat.categories]
            frame[name] = column.cat.add_categories(extra) if extra else column
        elif kind == TEXT:
            frame[name] = column.astype(str)
    return frame


def _empty(kinds: dict[str, str], fixed_categories: dict[str, tuple[str, ...]]) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            name: pd.Series([], dtype="float64" if kind in (FLOAT, INT) else "str")
            for name, kind in kinds.items()
        }
    )
    return _finish(frame, kinds, fixed_categories)


def finite(values: pd.Series) -> np.ndarray:
    """The non-missing values of a numeric column as a float array."""
    array = values.to_numpy(dtype="float64", na_value=np.nan)
    return array[~np.isnan(array)]
