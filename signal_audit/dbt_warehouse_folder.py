"""A dbt-duckdb plugin (profiles.yml `plugins:`) that creates the warehouse file's folder.

DuckDB creates a missing database file but not its folder, so a plain `dbt build` in a clean
clone would stop on an IO error before anything runs. dbt-duckdb sets plugins up before it
opens the database: the folder exists by then.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dbt.adapters.duckdb.plugins import BasePlugin


class Plugin(BasePlugin):
    def initialize(self, plugin_config: dict[str, Any]) -> None:
        path = getattr(self.creds, "path", None) or ":memory:"
        # a local file only: not an in-memory database, MotherDuck (md:) or a URL (s3://)
        if path != ":memory:" and ":" not in Path(path).parts[0]:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
