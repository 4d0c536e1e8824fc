"""The DuckDB warehouse file: one writer at a time, and a clear word when it is busy."""

from __future__ import annotations

from pathlib import Path

import duckdb


class WarehouseBusy(RuntimeError):
    """Another process holds the DuckDB file."""


def ensure_writable(path: Path) -> None:
    """Fail fast, with one sentence, when another process holds the warehouse file.

    DuckDB allows one read-write process per file and refuses every other opener, even
    read-only ones, while it runs (a BI tool, a notebook, another audit).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        duckdb.connect(str(path)).close()
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise WarehouseBusy(
                f"the warehouse {path} is in use by another process (a notebook, BI tool or "
                "another audit run); close it and run again"
            ) from exc
        raise


def read_only(path: Path) -> duckdb.DuckDBPyConnection:
    if not path.exists():
        raise FileNotFoundError(f"no warehouse at {path}: run `signal-audit run` first")
    try:
        return duckdb.connect(str(path), read_only=True)
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise WarehouseBusy(
                f"the warehouse {path} is being written by another process; try again when it ends"
            ) from exc
        raise
