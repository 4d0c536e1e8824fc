"""Export the raw schema of a DuckDB warehouse to a Parquet lake: one folder per table,
<lake>/raw/<table>/part-0.parquet, the layout of dlt's filesystem destination, which Spark
reads as external Parquet tables (macros/engines/spark.sql: spark__require_loaded_data). The
CLI lands that lake itself (`signal-audit load --target spark`); this copies a DuckDB
warehouse's raw data there, for comparing builds.

    python tests/python/export_raw_lake.py WAREHOUSE.duckdb LAKE_DIR
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import duckdb


def export_raw(warehouse: Path, lake: Path) -> list[str]:
    if lake.exists():
        shutil.rmtree(lake)
    (lake / "raw").mkdir(parents=True)
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        tables = [r[0] for r in con.execute(
            "select table_name from duckdb_tables() where schema_name = 'raw' order by table_name").fetchall()]
        for table in tables:
            (lake / "raw" / table).mkdir()
            # microsecond timestamps: Spark reads Parquet TIMESTAMP(MICROS, UTC) as timestamp
            con.execute(f"copy (select * from raw.\"{table}\") to '{lake / 'raw' / table / 'part-0.parquet'}' "
                        "(format parquet)")
    finally:
        con.close()
    return tables


if __name__ == "__main__":
    print("\n".join(export_raw(Path(sys.argv[1]), Path(sys.argv[2]))))
