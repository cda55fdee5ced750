"""Creating, appending to and closing a run directory (format: `fwload.recording.schema`).

Used by the CLI (which creates the directory and records readiness before Locust starts)
and by the Locust plugin on the master (which appends measurements while the load runs).
Locust-free on purpose.
"""

from __future__ import annotations

import csv
import json
import os
import re
import tempfile
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from fwload.errors import RunDirectoryError, UsageError
from fwload.recording import schema

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def new_run_id(label: str, now: float | None = None) -> str:
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now or time.time()))
    return f"{stamp}-{_UNSAFE.sub('-', label).strip('-') or 'run'}"


def _file_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


_FILE_MODE = _file_mode()


def write_atomic(path: Path, text: str) -> None:
    """Write a whole file or nothing: a reader never sees half of it."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, _FILE_MODE)
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class RunDirectory:
    """One run's directory. Appends are buffered by the caller and flushed here in batches."""

    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.Lock()
        self._files: dict[str, Any] = {}
        self._writers: dict[str, Any] = {}
        self.counts: dict[str, int] = {name: _data_rows(path / name) for name in schema.CSV_FILES}
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
            for file in self._files.values():
                file.close()
            self._files.clear()
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
        """Append rows (already in `schema.CSV_FILES[name]` column order) and flush."""
        if not rows:
            return
        with self._lock:
            writer = self._writer(name)
            writer.writerows(rows)
            self._files[name].flush()
            self.counts[name] += len(rows)

    def _writer(self, name: str) -> Any:
        writer = self._writers.get(name)
        if writer is None:
            target = self.path / name
            new = not target.exists() or target.stat().st_size == 0
            file = open(target, "a", newline="", encoding="utf-8")  # noqa: SIM115 - kept open for appends
            writer = csv.writer(file)
            if new:
                writer.writerow(schema.CSV_FILES[name])
                file.flush()
            self._files[name] = file
            self._writers[name] = writer
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
        """Create every CSV with its header, so an empty measurement is an empty table."""
        with self._lock:
            for name in schema.CSV_FILES:
                self._writer(name)
                self._files[name].flush()

    def refuse(self, problem: str, fix: str | None, exit_code: int) -> dict[str, Any]:
        """Close a run refused before its load (bad credentials, closed registration, bad input):
        the reason and the exit code the command gave, so ``fwload report`` says the same."""
        self.event("refused", detail=problem, fix=fix or "", exit_code=exit_code)
        return self.finalize("refused", exit_code=exit_code, refusal={"problem": problem, "fix": fix or ""})

    def finalize(self, status: str, exit_code: int | None = None, **fields: Any) -> dict[str, Any]:
        self.ensure_files()
        self.event("run_end", status=status, counts=dict(self.counts))
        self.close()
        return self.update_meta(status=status, ended_at=time.time(), counts=dict(self.counts),
                                exit_code=exit_code, **fields)


def _data_rows(path: Path) -> int:
    if not path.exists():
        return 0
    with open(path, "rb") as file:
        lines = sum(chunk.count(b"\n") for chunk in iter(lambda: file.read(1 << 20), b""))
    return max(lines - 1, 0)
