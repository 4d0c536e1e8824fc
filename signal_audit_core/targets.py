"""Where an audit lands and builds: a target.

A target says which dlt destination the inputs land in (dataset `raw`), which output of
profiles.yml dbt builds with, where dlt's pipeline state and the run lock live on this machine,
how Python reaches the data for the few small reads the loader makes (which files are
loaded, which log lines are landed) - through dlt's sql_client - and how everything after the
build (the checks, report, scorecard, export, run history) reads the marts: one SQLAlchemy
connection (`connect`), in SQL every engine speaks, and one GX datasource (`gx_datasource`).

- `duckdb` (the default, needs nothing): one DuckDB file; state and lock beside it.
- `postgres`: a PostgreSQL database. Its connection is dlt's own setting for its postgres
  destination: the env vars DESTINATION__POSTGRES__CREDENTIALS__HOST, __PORT, __USERNAME,
  __PASSWORD, __DATABASE (or one DESTINATION__POSTGRES__CREDENTIALS URL), or
  `[destination.postgres.credentials]` in .dlt/secrets.toml. dbt's `postgres` output reads the
  same env vars; `dbt_env` hands them to dbt's process whichever way they were given. State and
  lock live in a local folder named for host, port and database, in the warehouse's folder
  (`warehouse/` by default); dlt also keeps its state in the database, so a fresh machine
  resumes from there.
- `spark`: dlt's filesystem destination writing Parquet into a lake folder (SIGNAL_AUDIT_RAW_LAKE,
  default `<spark dir>/lake`; the spark dir is SIGNAL_AUDIT_SPARK_DIR, default `spark/` beside
  the warehouse file: warehouse/spark), `<lake>/raw/<table>/*.parquet`, which dbt-spark registers
  as tables (macros/engines/spark.sql). There is no SQL engine to ask: the loader's small reads
  and writes go to an in-memory DuckDB over the lake's Parquet (signal_audit_core/lake.py), and
  the tables merged on a key elsewhere are kept to their latest row per key after each load
  (`settle`). State and lock live in the spark dir. The stages after the build (checks,
  report, scorecard, export, history) read a DuckDB file of views over the Parquet files Spark
  wrote, refreshed after each build (`after_build`, signal_audit_core/spark_catalog.py): no
  Spark, no Java, Spark's own numbers.

DuckDB-specific code lives in DuckDBTarget (and signal_audit_core/warehouse.py: the file, its
lock, read-only connections), PostgreSQL's in PostgresTarget: the loader, the readers and the
CLI ask the target, never its name. The PostgreSQL password lives in this process's memory
only: SQLAlchemy's URL hides it when printed, and GX gets a URL without it (libpq reads it from
PGPASSWORD, set for the checks' run only), so no GX file or Data Docs page can hold it.
dlt is imported where it is used: reading settings should not pay its import.
"""

from __future__ import annotations

import os
import re
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from signal_audit_core.config import TARGETS, WAREHOUSE_ENV, Config, ConfigError
from signal_audit_core.warehouse import WarehouseBusy, flock, hold

if TYPE_CHECKING:
    import dlt
    import sqlalchemy
    from dlt.destinations.sql_client import SqlClientBase

__all__ = ["TARGETS", "DuckDBTarget", "GxDatasource", "PostgresTarget", "SparkTarget", "Target", "as_target",
           "target_of"]

DATASET = "raw"

# dlt's names for the postgres destination's settings; dbt's profile reads the same env vars
POSTGRES_ENV = "DESTINATION__POSTGRES__CREDENTIALS"
POSTGRES_FIELDS = ("host", "port", "username", "password", "database")
# the Spark target's folders (profiles.yml's `spark` output reads the same env vars)
SPARK_DIR_ENV = "SIGNAL_AUDIT_SPARK_DIR"
RAW_LAKE_ENV = "SIGNAL_AUDIT_RAW_LAKE"


@dataclass(frozen=True)
class GxDatasource:
    """How GX's SQL datasource reaches the target for one run of the checks.

    `connection_string` and `kwargs` replace the committed datasource's in memory (never
    written to gx/); `env` is set in the process while the checks run; `persist_connection`:
    GX must keep one connection open (DuckDB, signal_audit/checks/duckdb_gx.py).
    """

    connection_string: str
    kwargs: dict[str, Any]
    env: dict[str, str]
    persist_connection: bool = False

    def __repr__(self) -> str:  # env may hold a password
        return f"GxDatasource({self.connection_string})"


class Target(ABC):
    """An engine the audit runs on. Subclasses: DuckDBTarget, PostgresTarget, SparkTarget."""

    name: ClassVar[str]
    # the output of profiles.yml (`dbt build --target <dbt_target>`)
    dbt_target: ClassVar[str]
    # how dlt writes what it loads: None is the destination's preferred format
    loader_file_format: ClassVar[str | None] = None

    @property
    @abstractmethod
    def label(self) -> str:
        """What messages call it: a file, or postgres://user@host:port/database (never a secret)."""

    @property
    @abstractmethod
    def home(self) -> Path:
        """The local folder of this target's run lock and dlt's pipeline state."""

    @property
    def state_dir(self) -> Path:
        """dlt's pipelines folder (`pipelines_dir`)."""
        return self.home / ".dlt_pipelines"

    @abstractmethod
    def destination(self) -> Any:
        """The dlt destination that lands `raw`."""

    def pipeline(self, name: str) -> dlt.Pipeline:
        import dlt

        return dlt.pipeline(pipeline_name=name, destination=self.destination(), dataset_name=DATASET,
                            pipelines_dir=str(self.state_dir))

    def sql_client(self) -> SqlClientBase[Any]:
        """dlt's sql_client of the destination on the dataset `raw` (open it with `with`), for
        small reads and writes in SQL that DuckDB and PostgreSQL both speak (%s placeholders).

        Made from the destination, not from a pipeline: it may be used while a pipeline of the
        same name runs (the delivery log asks which lines are landed while dlt extracts).
        """
        from dlt.common.schema import Schema

        destination = self.destination()
        config = destination.spec()._bind_dataset_name(DATASET)
        return destination.client(Schema(DATASET), config).sql_client

    def settle(self, pipeline: dlt.Pipeline, load_id: str) -> None:
        """After each dlt load into the target (`load_id`): what the destination could not do
        itself. Nothing on DuckDB."""
        return

    def can_build(self) -> None:
        """Fail fast, with one sentence, when dbt cannot build on the target from here (a missing
        adapter or runtime)."""
        return

    def after_build(self, manifest: Path) -> None:
        """After each dbt build on the target (`manifest`: dbt's manifest.json of it): what the
        readers need that the build does not leave. Nothing on an engine with a SQL server."""
        return

    @property
    def duckdb_file(self) -> Path | None:
        """The DuckDB file the loader's in-memory DuckDB may attach read-only (the delivery log's
        landed lines, read without copying), when the target is one."""
        return None

    @abstractmethod
    def connect(self, write: bool = False) -> AbstractContextManager[sqlalchemy.Connection]:
        """A SQLAlchemy connection to the target, for the stages after the build: read-only
        unless `write` (the run history); with `write`, committed when the block ends without
        an error. Everything read through it is SQL DuckDB and PostgreSQL both speak, with
        named parameters (`:start`)."""

    @abstractmethod
    def gx_datasource(self) -> GxDatasource:
        """GX's connection to the target for the checks (gx/, signal_audit/checks/runner.py)."""

    @abstractmethod
    def hold(self, write: bool = True) -> AbstractContextManager[None]:
        """The run lock for a command's whole life (signal_audit_core/warehouse.py)."""

    @abstractmethod
    def ensure_writable(self) -> None:
        """Fail fast, with one sentence, when the target cannot be written now."""

    @abstractmethod
    def dbt_env(self) -> dict[str, str]:
        """What dbt's process needs in its environment to reach the target."""


@dataclass(frozen=True)
class DuckDBTarget(Target):
    warehouse: Path

    name: ClassVar[str] = "duckdb"
    dbt_target: ClassVar[str] = "duckdb"

    @property
    def label(self) -> str:
        return str(self.warehouse)

    @property
    def home(self) -> Path:
        return self.warehouse.parent

    @property
    def state_dir(self) -> Path:
        # named for the file: two warehouses in one folder never share state, and deleting a
        # warehouse's folder forgets everything
        return self.warehouse.parent / ".dlt_pipelines" / self.warehouse.name

    def destination(self) -> Any:
        import dlt
        from dlt.destinations.impl.duckdb.configuration import DuckDbCredentials

        credentials = DuckDbCredentials(str(self.warehouse))
        # DuckDB takes 80% of RAM by default; merging millions of log lines should spill to
        # disk instead (the same limit dbt uses, profiles.yml)
        credentials.global_config = {
            "memory_limit": os.environ.get("SIGNAL_AUDIT_DUCKDB_MEMORY", "1GB"),
            "preserve_insertion_order": False,
        }
        return dlt.destinations.duckdb(credentials)

    @property
    def duckdb_file(self) -> Path | None:
        return self.warehouse

    @contextmanager
    def connect(self, write: bool = False) -> Iterator[sqlalchemy.Connection]:
        from signal_audit_core.warehouse import sqlalchemy_connection

        with sqlalchemy_connection(self.warehouse, write) as connection:
            yield connection

    def gx_datasource(self) -> GxDatasource:
        # the committed datasource's own settings (gx/great_expectations.yml), read-only
        return GxDatasource(f"duckdb:///${{{WAREHOUSE_ENV}}}", {"connect_args": {"read_only": True}},
                            {WAREHOUSE_ENV: str(self.warehouse.resolve())}, persist_connection=True)

    def hold(self, write: bool = True) -> AbstractContextManager[None]:
        return hold(self.warehouse, write)

    def ensure_writable(self) -> None:
        from signal_audit_core.warehouse import ensure_writable

        ensure_writable(self.warehouse)

    def dbt_env(self) -> dict[str, str]:
        return {WAREHOUSE_ENV: str(self.warehouse)}


@dataclass(frozen=True)
class PostgresTarget(Target):
    host: str
    port: int
    database: str
    username: str
    password: str | None
    base: Path  # the folder under which `home` is made (the default warehouse's folder)

    name: ClassVar[str] = "postgres"
    dbt_target: ClassVar[str] = "postgres"
    # INSERT statements, dlt's default here: its faster CSV (COPY) path lands an empty string
    # as NULL in every nullable column (dlt copies with FORCE_NULL), and `""` is a value the
    # audit judges ("present but empty"); its Parquet (ADBC) path fails on the empty tables
    # every load writes. DECISIONLOG.md, "Landing on PostgreSQL".
    loader_file_format: ClassVar[str | None] = "insert_values"

    def __repr__(self) -> str:  # the dataclass's would show the password
        return f"PostgresTarget({self.label})"

    def settle(self, pipeline: dlt.Pipeline, load_id: str) -> None:
        """Refresh PostgreSQL's statistics of the raw tables: dlt's INSERTs leave them stale until
        autovacuum comes round, and the build's filter on the newest load (`_dlt_load_id > ...`)
        is then estimated at one row and planned as a nested loop over the whole history
        (minutes for one day's orders against a year of them)."""
        with self.sql_client() as client:
            landed = {name for (name,) in client.execute_sql(
                "select table_name from information_schema.tables where table_schema = %s", DATASET)}
            for table in pipeline.default_schema.data_tables():
                if table["name"] in landed:
                    client.execute_sql(f"analyze {client.make_qualified_table_name(table['name'])}")

    @property
    def label(self) -> str:
        return f"postgres://{self.username}@{self.host}:{self.port}/{self.database}"

    @property
    def home(self) -> Path:
        return self.base / f"postgres-{_safe(self.host)}-{self.port}-{_safe(self.database)}"

    def credentials(self) -> Any:
        from dlt.destinations.impl.postgres.configuration import PostgresCredentials

        credentials = PostgresCredentials()
        credentials.host, credentials.port, credentials.database = self.host, self.port, self.database
        credentials.username, credentials.password = self.username, self.password
        return credentials

    def destination(self) -> Any:
        import dlt

        return dlt.destinations.postgres(self.credentials())

    def sqlalchemy_url(self, with_password: bool = True) -> sqlalchemy.URL:
        """The URL of psycopg2's dialect. SQLAlchemy shows its password as *** when printed."""
        import sqlalchemy

        return sqlalchemy.URL.create("postgresql+psycopg2", username=self.username,
                                     password=self.password if with_password else None,
                                     host=self.host, port=self.port, database=self.database)

    @contextmanager
    def connect(self, write: bool = False) -> Iterator[sqlalchemy.Connection]:
        import sqlalchemy

        # a reader cannot write by mistake: the server refuses it in a read-only transaction
        options = {} if write else {"options": "-c default_transaction_read_only=on"}
        engine = sqlalchemy.create_engine(self.sqlalchemy_url(), poolclass=sqlalchemy.pool.NullPool,
                                          connect_args={"connect_timeout": 15, **options})
        try:
            try:
                connection = engine.connect()
            except sqlalchemy.exc.DBAPIError as exc:
                detail = (str(exc.orig).strip().splitlines() or [type(exc.orig).__name__])[0]
                raise ConfigError(f"cannot connect to {self.label}: {detail}") from None
            with connection:
                if write:
                    with connection.begin():
                        yield connection
                else:
                    yield connection
        finally:
            engine.dispose()

    def gx_datasource(self) -> GxDatasource:
        # no password in the URL: libpq takes it from PGPASSWORD, set for the checks' run only,
        # so nothing GX keeps, prints or renders can hold it
        url = self.sqlalchemy_url(with_password=False).render_as_string(hide_password=False)
        return GxDatasource(url, {"connect_args": {"connect_timeout": 15,
                                                   "options": "-c default_transaction_read_only=on"}},
                            {"PGPASSWORD": self.password or ""})

    @contextmanager
    def hold(self, write: bool = True) -> Iterator[None]:
        # one run at a time from this machine: the database itself cannot be locked for the
        # life of a command that runs dbt in another process
        with flock(self.home / "run.lock", write, WarehouseBusy(
                f"{self.label} is in use by another signal-audit run on this machine; try again when it ends")):
            yield

    def ensure_writable(self) -> None:
        import psycopg2

        try:
            psycopg2.connect(host=self.host, port=self.port, dbname=self.database, user=self.username,
                             password=self.password, connect_timeout=15).close()
        except psycopg2.Error as exc:
            detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise ConfigError(f"cannot connect to {self.label}: {detail}") from None

    def dbt_env(self) -> dict[str, str]:
        values = {"host": self.host, "port": str(self.port), "username": self.username,
                  "password": self.password or "", "database": self.database}
        return {f"{POSTGRES_ENV}__{name.upper()}": values[name] for name in POSTGRES_FIELDS}


@dataclass(frozen=True)
class SparkTarget(Target):
    """Apache Spark (dbt-spark, session method): raw lands as Parquet in `lake` (dlt's filesystem
    destination), dbt builds in `spark_dir` (its metastore and managed tables, profiles.yml)."""

    spark_dir: Path
    lake: Path

    name: ClassVar[str] = "spark"
    dbt_target: ClassVar[str] = "spark"
    # plain Parquet: what Spark reads without jars (Delta and Iceberg come from Maven)
    loader_file_format: ClassVar[str | None] = "parquet"

    @property
    def label(self) -> str:
        return f"Spark at {self.spark_dir} (raw: Parquet in {self.raw})"

    @property
    def raw(self) -> Path:
        """The folder of the raw tables (dlt's dataset folder)."""
        return self.lake / DATASET

    @property
    def home(self) -> Path:
        return self.spark_dir

    @property
    def state_dir(self) -> Path:
        # named for the lake: two lakes built from one spark dir never share dlt's state
        return self.spark_dir / ".dlt_pipelines" / _safe(str(self.lake))[-120:]

    def destination(self) -> Any:
        import dlt

        return dlt.destinations.filesystem(bucket_url=self.lake.resolve().as_uri())

    def sql_client(self) -> Any:
        """Not dlt's (a filesystem destination has none): an in-memory DuckDB over the lake's
        Parquet, with the same `execute_sql`/`begin_transaction` (signal_audit_core/lake.py)."""
        from signal_audit_core.lake import LakeClient

        return LakeClient(self.raw)

    def settle(self, pipeline: dlt.Pipeline, load_id: str) -> None:
        """dlt appends where it merges elsewhere (no merge on plain Parquet): keep each merged
        table's latest row per key, as a merge would have left it."""
        from signal_audit_core.lake import keep_latest

        for table in pipeline.default_schema.data_tables():
            table_name = table["name"]
            columns = table.get("columns", {})
            if columns and not any((self.raw / table_name).glob("*.parquet")):
                self._write_empty(pipeline, table_name, columns)  # Spark cannot register a folder without one
            if table.get("write_disposition") != "merge":
                continue
            keys = [name for name, column in columns.items() if column.get("primary_key")]
            if keys:
                sorts = [(name, str(column["dedup_sort"])) for name, column in columns.items()  # type: ignore[typeddict-item]
                         if column.get("dedup_sort")]
                keep_latest(self.raw, table_name, keys, sorts, f"{load_id}.merged")

    def _write_empty(self, pipeline: dlt.Pipeline, table_name: str, columns: Any) -> None:
        """An empty Parquet file with the table's columns, as dlt writes for an empty chunk."""
        import pyarrow.parquet as pq
        from dlt.common.libs.pyarrow import columns_to_arrow

        schema = columns_to_arrow(columns, self.destination().capabilities(), "UTC")
        (self.raw / table_name).mkdir(parents=True, exist_ok=True)
        pq.write_table(schema.empty_table(), self.raw / table_name / "empty.parquet")

    @property
    def catalog(self) -> Path:
        """The readers' DuckDB file: views over the tables Spark wrote (signal_audit_core/spark_catalog.py)."""
        from signal_audit_core.spark_catalog import CATALOG_FILE

        return self.spark_dir / CATALOG_FILE

    def can_build(self) -> None:
        import importlib.util
        import shutil

        if importlib.util.find_spec("pyspark") is None or importlib.util.find_spec("dbt.adapters.spark") is None:
            raise ConfigError("building on Spark needs the `spark` extra (dbt-spark, pyspark): "
                              "run `.venv/bin/pip install -e \".[spark]\"` in the project folder")
        if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):  # pyspark looks there first
            raise ConfigError("building on Spark needs Java 17: none on the PATH and JAVA_HOME is not set "
                              "(Debian: apt-get install openjdk-17-jre-headless)")

    def after_build(self, manifest: Path) -> None:
        import duckdb

        from signal_audit_core.spark_catalog import refresh
        from signal_audit_core.warehouse import in_use, is_lock_conflict

        try:
            refresh(self.spark_dir, self.raw, manifest, self.catalog)
        except duckdb.IOException as exc:
            if is_lock_conflict(exc):  # a notebook or BI tool has the readers' file open
                raise in_use(self.catalog) from None
            raise

    @contextmanager
    def connect(self, write: bool = False) -> Iterator[sqlalchemy.Connection]:
        from signal_audit_core.warehouse import sqlalchemy_connection

        self._require_catalog()
        with sqlalchemy_connection(self.catalog, write) as connection:
            yield connection

    def gx_datasource(self) -> GxDatasource:
        self._require_catalog()
        return GxDatasource(f"duckdb:///${{{WAREHOUSE_ENV}}}", {"connect_args": {"read_only": True}},
                            {WAREHOUSE_ENV: str(self.catalog.resolve())}, persist_connection=True)

    def _require_catalog(self) -> None:
        if not self.catalog.exists():
            raise ConfigError(f"no models built on {self.label} yet: run `signal-audit build --target spark` "
                              "(or `signal-audit run --target spark`) first")

    @contextmanager
    def hold(self, write: bool = True) -> Iterator[None]:
        # one run at a time from this machine: Spark's metastore (embedded Derby) takes one
        # process, and a load rewrites the merged tables' folders
        with flock(self.home / "run.lock", write, WarehouseBusy(
                f"{self.label} is in use by another signal-audit run on this machine; try again when it ends")):
            yield

    def ensure_writable(self) -> None:
        for folder in (self.spark_dir, self.lake):
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise ConfigError(f"cannot create {folder}: {exc.strerror}") from None
            if not os.access(folder, os.W_OK):
                raise ConfigError(f"{folder} is not writable")

    def dbt_env(self) -> dict[str, str]:
        return {SPARK_DIR_ENV: str(self.spark_dir.resolve()), RAW_LAKE_ENV: str(self.lake.resolve())}


def spark_target(base: Path, lake: Path | None = None) -> SparkTarget:
    """The Spark folders: SIGNAL_AUDIT_SPARK_DIR (default `<base>/spark`), and the lake: `lake`
    (the settings' `spark_lake:`), else SIGNAL_AUDIT_RAW_LAKE, else `<spark dir>/lake`; `base` is
    the warehouse file's folder."""
    spark_dir = Path(os.environ.get(SPARK_DIR_ENV) or base / "spark").absolute()
    lake = Path(lake or os.environ.get(RAW_LAKE_ENV) or spark_dir / "lake").absolute()
    return SparkTarget(spark_dir=spark_dir, lake=lake)


def as_target(where: Target | Path) -> Target:
    """`where` as a target: a path is a DuckDB warehouse file (what the stages took before
    there were targets, and what tests and scripts still pass)."""
    return where if isinstance(where, Target) else DuckDBTarget(Path(where))


def target_of(config: Config) -> Target:
    """The target `config` names (`config.target`), its connection resolved."""
    name = config.target
    if name == "duckdb":
        return DuckDBTarget(config.warehouse)
    if name == "postgres":
        return postgres_target(config.warehouse.parent)
    if name == "spark":
        return spark_target(config.warehouse.parent, config.spark_lake)
    raise ConfigError(f"unknown target '{name}'; choose from {', '.join(TARGETS)}")


def postgres_target(base: Path) -> PostgresTarget:
    """The PostgreSQL database dlt's settings name (env vars or .dlt/secrets.toml)."""
    from dlt.common.configuration import resolve_configuration
    from dlt.common.configuration.exceptions import ConfigurationException
    from dlt.destinations.impl.postgres.configuration import PostgresCredentials

    try:
        # where dlt's postgres destination looks: fields or one URL, env vars or secrets.toml
        credentials = resolve_configuration(PostgresCredentials(), sections=("destination", "postgres", "credentials"))
    except ConfigurationException:
        credentials = None
    if credentials is None or not credentials.is_resolved():
        raise ConfigError(
            "the postgres target needs its connection: set DESTINATION__POSTGRES__CREDENTIALS__HOST, "
            "__PORT (default 5432), __DATABASE, __USERNAME and __PASSWORD, or write them under "
            "[destination.postgres.credentials] in .dlt/secrets.toml (docs/engines.md)")
    return PostgresTarget(host=credentials.host, port=int(credentials.port or 5432), database=credentials.database,
                          username=credentials.username, password=credentials.password, base=base)


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._]+", "_", text).strip("_") or "_"
