"""dlt's working folders hold copies of the rows it lands (Parquet job files): none may outlive
the load that wrote them.

dlt deletes a package's job files once they are loaded (`load.delete_completed_jobs`), but not
what a run that died left behind: the folder an extract was writing when the process was killed
(`normalize/<random id>/`, never committed and never read again), a package normalize had
begun (`load/new/<id>/`), or the job files of a package aborted after a crash, which dlt keeps
as `failed_jobs` (with the jobs' error texts). Each is a copy of input rows (PII hashed or
redacted, but a copy) that no later run would remove. Pending packages
(`normalize/extracted/`, `load/normalized/`) are left alone: dlt loads them on the next run
(the database and API sources) or aborts them (the file inputs), and the sweep after that
load removes what is left of them.

The input files parsed before dlt sees them (pipelines/spill.py) are spilled to temporary
files too; `temporary_files_in` puts them in the pipelines folder's `.tmp`, where the same
sweep finds what a killed run left, instead of the system's temporary folder, where nothing
would.

Call `remove_leftovers` only while no other process uses the same pipelines folder (the CLI
holds the warehouse's lock, signal_audit_core/warehouse.py).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

TEMPORARY = ".tmp"

# a package's job files by state, and the text of its jobs' errors (a database's error can
# quote a value)
_JOB_FOLDERS = ("new_jobs", "started_jobs", "completed_jobs", "failed_jobs", ".exceptions")


def remove_leftovers(pipelines_dir: Path) -> int:
    """Delete what no pending package needs under every pipeline of `pipelines_dir`; return the
    number of files removed."""
    removed = sum(_remove(p) for p in _entries(pipelines_dir / TEMPORARY))
    if not pipelines_dir.is_dir():
        return removed
    for pipeline in (p for p in pipelines_dir.iterdir() if p.is_dir() and p.name != TEMPORARY):
        normalize, load = pipeline / "normalize", pipeline / "load"
        extracted = normalize / "extracted"
        pending = {p.name for p in extracted.iterdir()} if extracted.is_dir() else set()
        # an extract's own folder, renamed into extracted/ when it commits
        removed += sum(_remove(p) for p in _folders(normalize) if p.name != "extracted")
        # normalize's output for a package whose extracted files are gone (aborted)
        removed += sum(_remove(p) for p in _folders(load / "new") if p.name not in pending)
        # the job files of packages that are done, loaded or aborted (the folders stay: dlt's
        # package info lists them)
        for package in _folders(load / "loaded"):
            removed += sum(_remove(entry) for jobs in _JOB_FOLDERS for entry in _entries(package / jobs))
    return removed


def _folders(path: Path) -> list[Path]:
    return [p for p in path.iterdir() if p.is_dir()] if path.is_dir() else []


def _entries(path: Path) -> list[Path]:
    return list(path.iterdir()) if path.is_dir() else []


def _remove(path: Path) -> int:
    if path.is_dir() and not path.is_symlink():
        count = sum(1 for p in path.rglob("*") if p.is_file())
        shutil.rmtree(path)
        return count
    path.unlink(missing_ok=True)
    return 1


@contextmanager
def temporary_files_in(pipelines_dir: Path) -> Iterator[None]:
    """Python's temporary files and folders go to `pipelines_dir/.tmp` for the block."""
    folder = pipelines_dir / TEMPORARY
    folder.mkdir(parents=True, exist_ok=True)
    previous = tempfile.tempdir
    tempfile.tempdir = str(folder)
    try:
        yield
    finally:
        tempfile.tempdir = previous
