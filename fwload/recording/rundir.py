"""Creating, appending to and closing a run directory (format: `fwload.recording.schema`).

Used by the CLI (which creates the directory and records readiness before Locust starts)
and by the Locust plugin on the master (which appends measurements while the load runs).
Rows go to one Arrow stream segment per table and process (`fwload.recording.columnar`);
`RunDirectory.finalize` compacts them into Parquet. Locust-free on purpose.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from fwload.common.files import write_atomic
from fwload.errors import RunDirectoryError, UsageError
from fwload.recording import columnar, schema

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def new_run_id(label: str, now: float | None = None) -> str:
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now or time.time()))
    return f"{stamp}-{_UNSAFE.sub('-', label).strip('-') or 'run'}"


class RunDirectory:
    """One run's directory. Appends are buffered by the caller and flushed here in batches."""

    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.Lock()
        self._writers: dict[str, columnar.SegmentWriter] = {}
        self.counts: dict[str, int] = {table.name: columnar.count_rows(path, table) for table in self._tables()}
        """Rows per table (by `schema.TABLES` name)."""
        self.cut: set[str] = set()
        """Tables whose last batch was found torn (a writer killed mid-write) when compacting."""
        self._events = None

    # -- lifecycle -------------------------------------------------------------------

    @classmethod
    def create(cls, parent: str | Path, label: str, meta: dict[str, Any], run_id: str | None = None) -> RunDirectory:
        """A new run directory under ``parent``; a generated id taken already (two runs in one
        second) gets a suffix, a given one is refused."""
        parent = Path(parent)
        path = parent / (run_id or new_run_id(label))
        for suffix in range(2, 100):
            try:
                path.mkdir(parents=True, exist_ok=False)
                break
            except FileExistsError:
                if run_id:
                    raise UsageError(f"run directory {path} already exists", "remove it, or choose another run id") from None
                path = path.with_name(f"{path.name.rsplit('~', 1)[0]}~{suffix}")
            except OSError as error:
                raise UsageError(f"cannot create run directory {path}: {error.strerror}",
                                 f"make {parent} writable, or choose another folder for the runs") from None
        else:
            raise UsageError(f"run directory {path} already exists", "remove the runs of this second") from None
        run = cls(path)
        run.write_meta({
            "format": schema.FORMAT,
            "run_id": run_id,
            "status": "running",
            "started_at": time.time(),
            "ended_at": None,
            **meta,
        })
        return run

    @classmethod
    def open(cls, path: str | Path) -> RunDirectory:
        path = Path(path)
        if not (path / schema.RUN_JSON).is_file():
            raise RunDirectoryError(f"{path} is not a run directory (no {schema.RUN_JSON})",
                                    "pass a directory created by `fwload run` or the Locust plugin")
        return cls(path)

    def close(self) -> None:
        with self._lock:
            for writer in self._writers.values():
                writer.close()
            self._writers.clear()
            if self._events is not None:
                self._events.close()
                self._events = None

    # -- metadata ----------------------------------------------------------------------

    def read_meta(self) -> dict[str, Any]:
        return json.loads((self.path / schema.RUN_JSON).read_text(encoding="utf-8"))

    def write_meta(self, meta: dict[str, Any]) -> None:
        write_atomic(self.path / schema.RUN_JSON, json.dumps(meta, indent=2, sort_keys=False, default=str) + "\n")

    def update_meta(self, **fields: Any) -> dict[str, Any]:
        with self._lock:
            meta = self.read_meta()
            meta.update(fields)
            self.write_meta(meta)
            return meta

    def write_text(self, name: str, text: str) -> Path:
        target = self.path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(target, text)
        return target

    # -- measurements ------------------------------------------------------------------

    def append_rows(self, name: str, rows: Sequence[Sequence[Any]]) -> None:
        """Append rows (tuples in the table's column order) as one flushed batch.

        ``name`` is a `schema.TABLES` name (``requests``; ``requests.csv`` is accepted too).
        """
        if not rows:
            return
        table = schema.table_named(name)
        with self._lock:
            self._writer(table).write(rows)
            self.counts[table.name] += len(rows)

    def _writer(self, table: schema.Table) -> columnar.SegmentWriter:
        writer = self._writers.get(table.name)
        if writer is None:
            writer = self._writers[table.name] = columnar.SegmentWriter(self.path, table)
        return writer

    def event(self, type: str, ts: float | None = None, **data: Any) -> None:
        self.events([{"ts": ts if ts is not None else time.time(), "type": type, **data}])

    def events(self, events: Iterable[dict[str, Any]]) -> None:
        lines = [json.dumps(e, default=str, separators=(",", ":")) + "\n" for e in events]
        if not lines:
            return
        with self._lock:
            if self._events is None:
                self._events = open(self.path / schema.EVENTS_JSONL, "a", encoding="utf-8")  # noqa: SIM115
            self._events.writelines(lines)
            self._events.flush()

    def ensure_files(self) -> None:
        """Start a segment of every table, so an empty measurement is an empty table."""
        with self._lock:
            for table in self._tables():
                self._writer(table)

    def compact(self) -> None:
        """Fold every table's segments into its Parquet file (`columnar.compact`); recount the rows."""
        with self._lock:
            for table in self._tables():
                self.counts[table.name], cut = columnar.compact(self.path, table)
                if cut:
                    self.cut.add(table.name)

    def _tables(self) -> list[schema.Table]:
        """Every table but the optional ones this directory does not hold (no empty history file)."""
        return [table for name, table in schema.TABLES.items()
                if name not in schema.OPTIONAL_TABLES or columnar.stored(self.path, table)]

    def refuse(self, problem: str, fix: str | None, exit_code: int) -> dict[str, Any]:
        """Close a run refused before its load (bad credentials, closed registration, bad input):
        the reason and the exit code the command gave, so ``fwload report`` says the same."""
        self.event("refused", detail=problem, fix=fix or "", exit_code=exit_code)
        return self.finalize("refused", exit_code=exit_code, refusal={"problem": problem, "fix": fix or ""})

    def finalize(self, status: str, exit_code: int | None = None, **fields: Any) -> dict[str, Any]:
        """End the run: every table compacted to Parquet, run.json saying how it ended and what it holds."""
        self.ensure_files()
        self.event("run_end", status=status, counts=dict(self.counts))
        self.close()
        self.compact()
        if self.cut:
            fields["cut_tables"] = sorted(self.cut)
        return self.update_meta(status=status, ended_at=time.time(), counts=dict(self.counts),
                                exit_code=exit_code, **fields)


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
    if not isinstance(meta, dict) or meta.get("format") not in schema.READ_FORMATS:
        found = meta.get("format") if isinstance(meta, dict) else type(meta).__name__
        raise RunDirectoryError(
            f"{run_json} is not in a format this fwload reads ({' or '.join(schema.READ_FORMATS)}; "
            f"format: {found!r})",
            f"analyse it with the fwload version that wrote it, or {fix}",
        )
    return meta
