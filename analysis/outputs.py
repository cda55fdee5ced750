"""Build every output of a run directory in one call: the entry point of ``fwload run`` and ``fwload report``.

All writers render before anything is written, and each file is replaced atomically, so a
failure leaves the previous outputs intact rather than a mix of old and new ones.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from analysis.analyse import RunAnalysis, analyse_run
from analysis.capacity.kustomize import DIRECTORY, base_reference, overlay_files
from analysis.writers import all_writers, chart_process, find
from analysis.writers.chart_process import ChartProcess
from fwload.common.files import write_atomic
from fwload.status import ExitStatus


@dataclass
class Outputs:
    analysis: RunAnalysis
    status: ExitStatus
    """The verdict's exit code (see `analysis.verdict.PRECEDENCE`)."""
    files: list[Path] = field(default_factory=list)
    texts: dict[str, str] = field(default_factory=dict)
    """What each writer rendered, by file name."""

    @property
    def exit_code(self) -> int:
        return int(self.status)

    @property
    def summary_text(self) -> str:
        """summary.md, for printing at the end of a run (empty if the markdown writer was not asked for)."""
        return self.texts.get("summary.md", "")


def build_outputs(
    run_dir: str | Path,
    formats: Iterable[str] | None = None,
    *,
    recommendations: bool = True,
    window_s: float | None = None,
) -> Outputs:
    """Analyse ``run_dir`` and (re)write its reports; returns the analysis, exit code and files.

    ``formats`` names writers (`analysis.writers.available`); None writes all of them.
    Raises `fwload.errors.RunDirectoryError` for a missing, empty or foreign directory.
    """
    run_dir = Path(run_dir)
    writers = all_writers() if formats is None else [find(name) for name in formats]
    helper = ChartProcess() if any(w.name == "html" for w in writers) and chart_process.worth_it(run_dir) else None
    try:
        analysis = analyse_run(run_dir, window_s, on_resources=helper.on_resources if helper else None)
        if helper is not None:
            analysis.charts = helper.finish(analysis)
    finally:
        if helper is not None:
            helper.close()
    rendered = {writer.filename: writer.render(analysis) for writer in writers}
    overlay = (
        overlay_files(
            analysis.capacity.recommendations,
            base_reference(run_dir),
            analysis.run.run_id,
            analysis.capacity.rightsizing_basis,
        )
        if recommendations
        else {}
    )
    files = []
    for name, text in rendered.items():
        write_atomic(run_dir / name, text)
        files.append(run_dir / name)
    if recommendations:
        target = run_dir / DIRECTORY
        replace_directory(target, overlay)
        files.extend(target / name for name in sorted(overlay))
    return Outputs(analysis=analysis, status=analysis.status, files=files, texts=rendered)


def replace_directory(target: Path, files: dict[str, str]) -> None:
    """Make ``target`` hold exactly ``files`` (removed when empty), swapping a complete new copy in."""
    if not files:
        shutil.rmtree(target, ignore_errors=True)
        return
    fresh = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}."))
    try:
        for name, text in files.items():
            (fresh / name).write_text(text, encoding="utf-8")
        old = None
        if target.exists():
            old = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.old."))
            target.rename(old / target.name)
        fresh.chmod(0o777 & ~_umask())  # mkdtemp makes it private; reports are shared like any file
        fresh.rename(target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(fresh, ignore_errors=True)
        raise


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask
