"""Read a run directory into DataFrames, tolerating runs that were cut short.

Large runs hold millions of request rows, so the CSV files are read with pyarrow when it is
installed (pandas' C parser otherwise), only the columns the analysis uses, with explicit
dtypes and categoricals for the low-cardinality strings. A run killed mid-write still loads:
a cut last line is dropped and the run is flagged `Run.partial` with the reasons
(`analysis.completeness`), so the reports say so at the top and the verdict is *incomplete*
instead of silently showing less.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.completeness import TableRead, incompleteness
from fwload.errors import RunDirectoryError
from fwload.recording import schema

try:
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    _PARSE_ERRORS: tuple[type[Exception], ...] = (ValueError, pa.ArrowException)
except ImportError:  # pragma: no cover - pyarrow is optional, the C parser is the fallback
    pa = None
    _PARSE_ERRORS = (ValueError,)

FLOAT, INT, CATEGORY, TEXT, BOOL = "float", "int", "category", "text", "bool"

COLUMN_KINDS: dict[str, dict[str, str]] = {
    schema.REQUESTS_CSV: {
        "ts": FLOAT,
        "group": CATEGORY,
        "name": CATEGORY,
        "method": CATEGORY,
        "status": INT,
        "response_ms": FLOAT,
        "bytes": FLOAT,
        "error_kind": CATEGORY,
        "error": CATEGORY,
        "user_class": CATEGORY,
        "worker": CATEGORY,
    },
    schema.IMPORTS_CSV: {
        "ts": FLOAT,
        "upload": TEXT,
        "outcome": CATEGORY,
        "wait_ms": FLOAT,
        "polls": FLOAT,
        "fixture": CATEGORY,
        "format": CATEGORY,
        "bytes": FLOAT,
        "user_class": CATEGORY,
        "worker": CATEGORY,
    },
    schema.STREAMS_CSV: {
        "ts": FLOAT,
        "track": FLOAT,
        "status": INT,
        "ttfb_ms": FLOAT,
        "total_ms": FLOAT,
        "bytes": FLOAT,
        "range": CATEGORY,
        "error_kind": CATEGORY,
        "transcode": CATEGORY,
        "user_class": CATEGORY,
        "worker": CATEGORY,
    },
    schema.SESSIONS_CSV: {
        "intended_ts": FLOAT,
        "start_ts": FLOAT,
        "start_delay_ms": FLOAT,
        "first_ms": FLOAT,
        "length_s": FLOAT,
        "ended_ts": FLOAT,
        "iterations": FLOAT,
        "outcome": CATEGORY,
        "reason": CATEGORY,
        "user_class": CATEGORY,
        "worker": CATEGORY,
    },
    schema.PLAYS_CSV: {
        "ts": FLOAT,
        "track": TEXT,
        "client": CATEGORY,
        "playback": CATEGORY,
        "transcode": CATEGORY,
        "startup_ms": FLOAT,
        "stalls": FLOAT,
        "stall_ms": FLOAT,
        "seek_wait_ms": FLOAT,
        "played_s": FLOAT,
        "duration_s": FLOAT,
        "bytes": FLOAT,
        "requests": FLOAT,
        "outcome": CATEGORY,
        "error_kind": CATEGORY,
        "gaps": TEXT,
        "user_class": CATEGORY,
        "worker": CATEGORY,
    },
    schema.RESOURCES_CSV: {
        "ts": FLOAT,
        "source": CATEGORY,
        "component": CATEGORY,
        "pod": CATEGORY,
        "container": CATEGORY,
        "node": CATEGORY,
        "phase": CATEGORY,
        "ready": BOOL,
        "stage": CATEGORY,
        **{
            name: FLOAT
            for name in (
                "cpu_m",
                "memory_bytes",
                "memory_anon_bytes",
                "memory_peak_bytes",
                "cpu_request_m",
                "cpu_limit_m",
                "memory_request_bytes",
                "memory_limit_bytes",
                "restarts",
                "oom_kills",
                "throttled_periods",
                "periods",
                "throttled_s",
                "respawns",
            )
        },
    },
    schema.RESOURCE_HISTORY_CSV: {
        "ts": FLOAT,
        "source": CATEGORY,
        "component": CATEGORY,
        "pod": CATEGORY,
        "container": CATEGORY,
        "cpu_m": FLOAT,
        "memory_bytes": FLOAT,
    },
}
"""The dtype family of every column of every CSV file (names from `fwload.recording.schema`)."""

ANALYSIS_COLUMNS: dict[str, tuple[str, ...]] = {
    schema.REQUESTS_CSV: ("ts", "group", "name", "method", "status", "response_ms", "error_kind", "error"),
    schema.IMPORTS_CSV: ("ts", "upload", "outcome", "wait_ms", "polls", "fixture", "format"),
    schema.STREAMS_CSV: ("ts", "status", "ttfb_ms", "total_ms", "bytes", "error_kind"),
    schema.PLAYS_CSV: ("ts", "client", "playback", "transcode", "startup_ms", "stalls", "stall_ms", "seek_wait_ms",
                       "played_s", "duration_s", "outcome", "error_kind", "gaps"),
    schema.SESSIONS_CSV: schema.SESSION_COLUMNS,
    schema.RESOURCES_CSV: schema.RESOURCE_COLUMNS,
    schema.RESOURCE_HISTORY_CSV: schema.RESOURCE_HISTORY_COLUMNS,
}
"""What the analysis reads by default: every column it uses, none it does not."""

_FIXED_CATEGORIES = {"error_kind": ("", *schema.ERROR_KINDS)}
_FIXED_BY_FILE = {
    schema.IMPORTS_CSV: {"outcome": schema.IMPORT_OUTCOMES},
    schema.PLAYS_CSV: {"outcome": schema.PLAY_OUTCOMES, "playback": schema.PLAYBACK_MODES},
    schema.SESSIONS_CSV: {"outcome": schema.SESSION_OUTCOMES, "reason": ("", *schema.DROP_REASONS)},
}


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

    ``columns`` overrides `ANALYSIS_COLUMNS` per file (e.g. to read every column).
    """
    path = Path(path)
    meta = read_run_json(path)
    wanted = {**ANALYSIS_COLUMNS, **(columns or {})}
    frames, tables = {}, []
    for name in (*schema.CSV_FILES, *schema.OPTIONAL_CSV_FILES):
        frame, cut = read_csv(path / name, wanted[name])
        tables.append(TableRead(name, len(frame), cut))
        frames[name] = frame
    events, event_problems = read_events(path / schema.EVENTS_JSONL)
    stopped = [str(event.get("detail", "")) for event in events if event.get("type") == "interrupted"]
    reasons = incompleteness(meta, tables, event_problems, stopped[-1] if stopped else "")
    return Run(
        path=path,
        meta=meta,
        requests=frames[schema.REQUESTS_CSV],
        imports=frames[schema.IMPORTS_CSV],
        streams=frames[schema.STREAMS_CSV],
        resources=frames[schema.RESOURCES_CSV],
        sessions=frames[schema.SESSIONS_CSV],
        events=events,
        plays=frames[schema.PLAYS_CSV],
        partial_reasons=reasons,
        resource_history=frames[schema.RESOURCE_HISTORY_CSV],
    )


def read_run_json(path: Path) -> dict[str, Any]:
    """The run's metadata, after checking that ``path`` is an fwload run directory at all."""
    fix = "pass the directory `fwload run` printed (reports/<run-id>/)"
    if not path.is_dir():
        raise RunDirectoryError(f"{path} is not a directory", fix)
    run_json = path / schema.RUN_JSON
    if not run_json.is_file():
        entries = sorted(entry.name for entry in path.iterdir())
        if not entries:
            raise RunDirectoryError(f"{path} is empty: no run was recorded there", fix)
        shown = ", ".join(entries[:5]) + (", ..." if len(entries) > 5 else "")
        raise RunDirectoryError(f"{path} is not an fwload run directory: no run.json (found {shown})", fix)
    try:
        meta = json.loads(run_json.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise RunDirectoryError(
            f"{run_json} cannot be read: {error}", "restore it from the run's artifacts"
        ) from None
    if not isinstance(meta, dict) or meta.get("format") != schema.FORMAT:
        found = meta.get("format") if isinstance(meta, dict) else type(meta).__name__
        raise RunDirectoryError(
            f"{run_json} is not in the {schema.FORMAT} format (format: {found!r})",
            f"analyse it with the fwload version that wrote it, or {fix}",
        )
    return meta


def read_csv(path: Path, columns: tuple[str, ...]) -> tuple[pd.DataFrame, bool]:
    """One run CSV file as a typed DataFrame, and whether its last line was cut off.

    A missing file reads as no rows: a run that died early may not have written it.
    """
    kinds = {name: COLUMN_KINDS[path.name][name] for name in columns}
    fixed = {**_FIXED_CATEGORIES, **_FIXED_BY_FILE.get(path.name, {})}
    if not path.is_file():
        return _empty(kinds, fixed), False
    complete = _complete_length(path)
    cut = complete < path.stat().st_size
    if complete == 0:
        return _empty(kinds, fixed), cut
    _check_header(path, columns)
    try:
        frame = (
            _read_pyarrow(path, complete, kinds) if pa is not None else _read_pandas(path, complete, kinds)
        )
    except _PARSE_ERRORS as error:
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
        header = handle.readline().strip().split(",")
    missing = [name for name in columns if name not in header]
    if missing:
        raise RunDirectoryError(
            f"{path} has no column {', '.join(missing)}: it was not written in the {schema.FORMAT} format",
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


def _read_pandas(path: Path, length: int, kinds: dict[str, str]) -> pd.DataFrame:
    dtypes = {
        name: {FLOAT: "float64", INT: "float64", CATEGORY: "category"}.get(kind, "str")
        for name, kind in kinds.items()
    }
    with path.open("rb") as handle:
        source = io.BytesIO(handle.read(length)) if length < path.stat().st_size else handle
        return pd.read_csv(
            source,
            usecols=list(kinds),
            dtype=dtypes,
            keep_default_na=False,
            na_values={name: [""] for name, kind in kinds.items() if kind in (FLOAT, INT)},
        )[list(kinds)]


def _finish(frame: pd.DataFrame, kinds: dict[str, str], fixed_categories: dict[str, tuple[str, ...]]) -> pd.DataFrame:
    for name, kind in kinds.items():
        column = frame[name]
        if kind == INT:
            frame[name] = column.astype("Int64")
        elif kind == BOOL:
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
