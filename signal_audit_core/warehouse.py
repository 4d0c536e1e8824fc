"""The DuckDB warehouse file: one audit at a time, one writer at a time, and a clear word when
it is busy.

DuckDB's own file lock only lasts while a connection is open, and an audit opens and closes
the file many times (dlt, then dbt and GX in processes of their own): between two of them
another run could slip in. So every command holds a lock file beside the warehouse for its
whole life (`hold`), taken with flock: the operating system releases it when the process
ends however it ends, so a killed run never leaves a stale lock (the empty file stays; only
the flock on it counts).

This module is where DuckDB's specifics live for the stages after the build: read-only
connections, DuckDB's lock conflicts turned into one sentence, the file that must exist;
`sqlalchemy_connection` is DuckDBTarget's side of the one interface every engine offers them.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

if TYPE_CHECKING:
    import sqlalchemy


class WarehouseBusy(RuntimeError):
    """Another process holds the DuckDB file."""


def in_use(path: Path) -> WarehouseBusy:
    return WarehouseBusy(
        f"the warehouse {path} is in use by another process (a notebook, BI tool or "
        "another audit run); close it and run again"
    )


def _being_written(path: Path) -> WarehouseBusy:
    return WarehouseBusy(f"the warehouse {path} is being written by another process; try again when it ends")


def _missing(path: Path) -> FileNotFoundError:
    return FileNotFoundError(f"no warehouse at {path}: run `signal-audit run` first")


def lock_path(path: Path) -> Path:
    return path.with_name(path.name + ".lock")


@contextmanager
def hold(path: Path, write: bool = True) -> Iterator[None]:
    """Hold the warehouse for the whole block: exclusively to `write`, shared to read.

    Readers (report, export, scorecard) may run side by side, as DuckDB lets read-only
    connections do; a writer excludes everyone. Raises WarehouseBusy at once, never waits.
    """
    if not write and not path.exists() and not lock_path(path).exists():
        raise _missing(path)  # (a reader creates nothing)
    # a reader meeting a run that is still creating the warehouse is told to wait for it
    # (a reader in a folder where it may not open the lock locks nothing: DuckDB's own lock
    # still guards the file)
    with flock(lock_path(path), write, in_use(path) if write else _being_written(path)):
        if not write and not path.exists():
            raise _missing(path)
        yield


@contextmanager
def flock(lock: Path, write: bool, busy: Exception) -> Iterator[bool]:
    """Hold `lock` (created if need be) exclusively to `write`, shared to read; raise `busy` at
    once when another process holds it. Yields False when a reader may not even create or open
    the lock file (nothing is locked then)."""
    lock.parent.mkdir(parents=True, exist_ok=True)
    fd = _open_lock(lock, write)
    if fd is None:
        yield False
        return
    try:
        fcntl.flock(fd, (fcntl.LOCK_EX if write else fcntl.LOCK_SH) | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise busy from None
    try:
        yield True
    finally:
        os.close(fd)  # closing the descriptor releases the flock


def _open_lock(lock: Path, write: bool) -> int | None:
    # O_CLOEXEC: not inherited by dbt's or GX's processes, so the lock is this process's and
    # ends with it (a dbt process outliving a killed run still holds DuckDB's own lock)
    try:
        return os.open(lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError:
        if write:
            raise  # PermissionError: the CLI names the file
    try:
        return os.open(lock, os.O_RDONLY | os.O_CLOEXEC)  # flock works on a read-only descriptor
    except OSError:
        return None


def ensure_writable(path: Path) -> None:
    """Fail fast, with one sentence, when another process holds the warehouse file.

    DuckDB allows one read-write process per file and refuses every other opener, even
    read-only ones, while it runs (a BI tool, a notebook, another audit).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        duckdb.connect(str(path)).close()
    except duckdb.IOException as exc:
        if is_lock_conflict(exc):
            raise in_use(path) from exc
        raise


def read_only(path: Path) -> duckdb.DuckDBPyConnection:
    if not path.exists():
        raise _missing(path)
    try:
        return duckdb.connect(str(path), read_only=True)
    except duckdb.IOException as exc:
        if is_lock_conflict(exc):
            raise _being_written(path) from exc
        raise


@contextmanager
def sqlalchemy_connection(path: Path, write: bool = False) -> Iterator[sqlalchemy.Connection]:
    """A SQLAlchemy connection (duckdb_engine) to the warehouse file: read-only, so readers run
    side by side, unless `write`, then committed when the block ends without an error. A file
    held by another process is one sentence (WarehouseBusy), a missing one FileNotFoundError."""
    import sqlalchemy

    if not write and not path.exists():
        raise _missing(path)
    if write:
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = sqlalchemy.create_engine(f"duckdb:///{path}", poolclass=sqlalchemy.pool.NullPool,
                                      connect_args={"read_only": not write})
    try:
        try:
            connection = engine.connect()
        except sqlalchemy.exc.DBAPIError as exc:
            if is_lock_conflict(exc.orig):
                raise (in_use(path) if write else _being_written(path)) from exc
            raise
        with connection:
            if write:
                with connection.begin():
                    yield connection
            else:
                yield connection
    finally:
        engine.dispose()


def is_lock_conflict(error: BaseException | str) -> bool:
    """DuckDB's "Could not set lock on file ...: Conflicting lock is held" (any opener)."""
    text = str(error).lower()
    return "could not set lock" in text or "conflicting lock" in text
