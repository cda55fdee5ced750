"""The run directory's tables as CSV, in the ``fwload-run/1`` layout (``fwload export --csv``).

For tools and people that want CSV: one ``<table>.csv`` per table of `schema.TABLES`, a
header of the column names, empty fields for nulls, ``true``/``false`` for flags, strings
quoted. Tables are streamed a row group (or a flushed batch) at a time, so a run of tens of
millions of requests exports in bounded memory; each file is written aside and renamed.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv

from fwload.errors import UsageError
from fwload.recording import columnar, schema
from fwload.recording.rundir import read_run_json, write_atomic

CSV_FORMAT = schema.READ_FORMATS[0]
_OPTIONS = pa_csv.WriteOptions(include_header=False, quoting_style="needed")
_COPIED = (schema.SCENARIO_YAML, schema.EVENTS_JSONL)


def export_csv(run_dir: Path, out: Path | None = None) -> list[Path]:
    """Write every table of ``run_dir`` as CSV; returns the files written.

    With ``out`` (another folder), a whole ``fwload-run/1`` run directory is written there
    (run.json, scenario.yaml and events.jsonl copied), which fwload versions that read only
    CSV can analyse. Without it, the CSV files go beside the Parquet files.
    """
    run_dir = Path(run_dir)
    meta = read_run_json(run_dir)
    if meta.get("format") == CSV_FORMAT:
        raise UsageError(f"{run_dir} is a {CSV_FORMAT} run directory: its tables are CSV files already",
                         f"read its {', '.join(t.csv_name for t in schema.TABLES.values())} directly")
    target = run_dir if out is None else Path(out)
    if out is not None:
        if target.resolve() == run_dir.resolve():
            target = run_dir
        elif target.exists() and any(target.iterdir()):
            raise UsageError(f"{target} already exists and is not empty", "choose a new folder for --out")
        try:
            target.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise UsageError(f"cannot create {target}: {error.strerror}", "choose a writable folder for --out") from None
    written = [_write_table(run_dir, table, target / table.csv_name) for table in schema.TABLES.values()]
    if target != run_dir:
        for name in _COPIED:
            if (run_dir / name).is_file():
                shutil.copyfile(run_dir / name, target / name)
                written.append(target / name)
        counts = meta.get("counts")
        legacy = {**meta, "format": CSV_FORMAT}
        if isinstance(counts, dict):
            legacy["counts"] = {schema.table_named(name).csv_name: count for name, count in counts.items()
                                if name.removesuffix(".csv") in schema.TABLES}
        write_atomic(target / schema.RUN_JSON, json.dumps(legacy, indent=2, default=str) + "\n")
        written.append(target / schema.RUN_JSON)
    return written


def csv_text(run_dir: Path, table: schema.Table) -> str:
    """One table as CSV text (for downloads of small tables, e.g. resource samples)."""
    sink = pa.BufferOutputStream()
    _write_csv(run_dir, table, sink)
    return sink.getvalue().to_pybytes().decode("utf-8")


def _write_table(run_dir: Path, table: schema.Table, path: Path) -> Path:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with pa.OSFile(str(temporary), "wb") as sink:
            _write_csv(run_dir, table, sink)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return path


def _write_csv(run_dir: Path, table: schema.Table, sink: pa.NativeFile) -> None:
    """Header unquoted, as the csv module writes it (readers that split the first line keep working)."""
    plain = pa.schema([pa.field(c.name, pa.string() if c.kind == "category" else columnar.stored_schema(table)
                                .field(c.name).type) for c in table.columns])
    sink.write((",".join(table.column_names) + "\n").encode())
    with pa_csv.CSVWriter(sink, plain, write_options=_OPTIONS) as writer:
        for batch in columnar.iter_batches(run_dir, table):
            writer.write_batch(batch.cast(plain))
