"""`olx-spark transform`: the dbt project (`dbt/`) run in this process, on this Spark session,
or against a Spark Thrift server (`--target thrift`).

The dbt profile's `local` target uses dbt-spark's `session` method, whose cursor calls
`SparkSession.builder.enableHiveSupport().config(...).getOrCreate()` for every statement
(dbt-spark 1.10.3, `dbt/adapters/spark/session.py`). `getOrCreate()` returns the session that
already exists in the process and only applies runtime settings to it. So we build OUR session
first (`get_session(config)`: warehouse, embedded metastore, Delta, UTC) and dbt runs on that very
session: the jobs and dbt share one source of truth for every Spark setting. The one runtime
setting dbt-spark forces (`spark.sql.ansi.enabled=false`) is put back when dbt is done.

The `thrift` target sends every statement to a Spark Thrift server (HiveThriftServer2 on a
cluster, with the cluster's catalog and warehouse) and starts no Spark here: this process
never opens a metastore. The server is checked first (a clear error, in seconds, naming the
settings to fix, before dbt writes anything), and the raw course tables of both platforms
are created there if missing, as the local target does with its session (`ensure_raw_tables`).

Schemas: the raw tables are in `config.warehouse.raw_schema` (dbt var `raw_schema`); dbt's base
schema is that name without its `_raw` suffix (dbt var `target_schema`), and models land in
`{base}_staging`, `{base}_intermediate` and `{base}_marts` (e.g. `ol_warehouse_local_marts`).
Both targets get the same vars.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from olx_spark.config import Config
from olx_spark.olx.tables import PLATFORMS
from olx_spark.sql_literals import sql_string

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

DBT_TARGET = "local"
THRIFT_TARGET = "thrift"
TARGETS = (DBT_TARGET, THRIFT_TARGET)
ANSI_KEY = "spark.sql.ansi.enabled"
RAW_SUFFIX = "_raw"
# dbt/profiles.yml's `thrift` target reads these (with these defaults).
THRIFT_HOST_ENV, THRIFT_PORT_ENV, THRIFT_USER_ENV = (
    "DBT_SPARK_THRIFT_HOST",
    "DBT_SPARK_THRIFT_PORT",
    "DBT_SPARK_THRIFT_USER",
)
THRIFT_DEFAULTS = {
    THRIFT_HOST_ENV: "localhost",
    THRIFT_PORT_ENV: "10001",
    THRIFT_USER_ENV: "hadoop",
}
THRIFT_CONNECT_SECONDS = 10.0


class TransformSetupError(RuntimeError):
    """dbt cannot start with this target (server unreachable, extra missing): nothing was
    written; the message says which setting to fix."""


def dbt_project_dir() -> Path:
    """The dbt project: `$OLX_SPARK_DBT_PROJECT_DIR`, else `dbt/` next to the package (a source
    checkout or editable install), else `./dbt`."""
    override = os.environ.get("OLX_SPARK_DBT_PROJECT_DIR")
    if override:
        return Path(override).expanduser().resolve()
    beside = Path(__file__).resolve().parent.parent / "dbt"
    if (beside / "dbt_project.yml").is_file():
        return beside
    return (Path.cwd() / "dbt").resolve()


def dbt_base_schema(raw_schema: str) -> str:
    """dbt's base schema for a raw schema: `ol_warehouse_local_raw` -> `ol_warehouse_local`."""
    base = raw_schema.removesuffix(RAW_SUFFIX)
    return base or raw_schema


def declared_sources(project_dir: Path | None = None) -> dict[str, str]:
    """Every raw table a dbt source declares (its name in the warehouse, lower case: the
    `identifier`, else the table's name) -> its selector `source:{source}.{table}`, read from
    the project's YAML files (models/staging/_sources.yml declares them, once)."""
    import yaml

    project = project_dir or dbt_project_dir()
    selectors: dict[str, str] = {}
    for path in sorted((project / "models").rglob("*.yml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for source in document.get("sources") or ():
            for table in source.get("tables") or ():
                name = table["name"]
                warehouse_name = str(table.get("identifier") or name).lower()
                selectors[warehouse_name] = f"source:{source['name']}.{name}"
    return selectors


def downstream_selectors(
    changed: Sequence[str], project_dir: Path | None = None
) -> tuple[list[str], list[str]]:
    """dbt `--select` for the models (and their tests) downstream of the changed raw tables
    (`schema.table` names): `source:{source}.{table}+` for each one a source declares; and
    the changed tables no source declares (a model cannot read them through dbt's graph, so
    nothing says what they reach: the caller builds every model)."""
    sources = declared_sources(project_dir)
    names = {table.rsplit(".", 1)[-1].lower() for table in changed}
    undeclared = sorted(name for name in names if name not in sources)
    return sorted(f"{sources[name]}+" for name in names if name in sources), undeclared


def changed_only(
    changed: Sequence[str], read: int, models_only: bool, project_dir: Path | None = None
) -> tuple[list[str], str]:
    """For a build after which only the raw tables `changed` (of `read`) moved: dbt's
    `--select` of what is downstream of them ([]: every model, when a changed table is one no
    source declares) and what to tell the user."""
    selectors, undeclared = downstream_selectors(changed, project_dir)
    names = ", ".join(table.rsplit(".", 1)[-1] for table in changed)
    said = f"olx-spark transform: {len(changed)} of {read} raw tables changed since the last build"
    if undeclared:
        return [], (
            f"{said} ({names}); no dbt source declares {', '.join(undeclared)}: building "
            "every model"
        )
    return selectors, (
        f"{said} ({names}): building only the models downstream of them"
        f"{'' if models_only else ' and their tests'} (every other model would read what it "
        "read then; --all-models builds every model)"
    )


def dbt_schema(config: Config, layer: str) -> str:
    """Where a dbt layer (`staging`, `intermediate`, `marts`) lands for this config."""
    return f"{dbt_base_schema(config.warehouse.raw_schema)}_{layer}"


def dbt_vars(config: Config) -> dict[str, str]:
    raw = config.warehouse.raw_schema
    return {"raw_schema": raw, "target_schema": dbt_base_schema(raw)}


def dbt_args(
    config: Config,
    args: Sequence[str],
    project_dir: Path | None = None,
    target: str = DBT_TARGET,
) -> list[str]:
    """`args` (e.g. `["build"]`) plus the project, profile, target and vars for `config`."""
    project = str(project_dir or dbt_project_dir())
    return [
        *args,
        "--project-dir",
        project,
        "--profiles-dir",
        project,
        "--target",
        target,
        "--vars",
        json.dumps(dbt_vars(config)),
    ]


def prepare_session(config: Config) -> SparkSession:
    """Our session (the one dbt will get), with every raw course table present for both
    platforms, so the dbt sources resolve even when only one platform was ingested."""
    from olx_spark.spark.course_archives import CourseArchiveJob, ensure_tables
    from olx_spark.spark.session import get_session

    spark = get_session(config)
    for platform in PLATFORMS:
        ensure_tables(
            spark, config, CourseArchiveJob(source="", platform=platform, source_system="")
        )
    return spark


@dataclass(frozen=True)
class ThriftServer:
    """Where dbt's `thrift` target connects: the profile's environment variables, else its
    defaults."""

    host: str
    port: int
    user: str

    @classmethod
    def from_env(cls) -> ThriftServer:
        env = {key: os.environ.get(key) or default for key, default in THRIFT_DEFAULTS.items()}
        try:
            port = int(env[THRIFT_PORT_ENV])
        except ValueError:
            raise TransformSetupError(
                f"{THRIFT_PORT_ENV}={env[THRIFT_PORT_ENV]!r} is not a port number"
            ) from None
        return cls(env[THRIFT_HOST_ENV], port, env[THRIFT_USER_ENV])

    def where(self) -> str:
        return (
            f"{self.host}:{self.port} ({THRIFT_HOST_ENV}={os.environ.get(THRIFT_HOST_ENV, '')!r},"
            f" {THRIFT_PORT_ENV}={os.environ.get(THRIFT_PORT_ENV, '')!r}; unset means "
            f"{THRIFT_DEFAULTS[THRIFT_HOST_ENV]}:{THRIFT_DEFAULTS[THRIFT_PORT_ENV]})"
        )

    def check_reachable(self, seconds: float = THRIFT_CONNECT_SECONDS) -> None:
        """Raise `TransformSetupError` unless something accepts connections at host:port."""
        try:
            with socket.create_connection((self.host, self.port), timeout=seconds):
                return
        except OSError as exc:
            raise TransformSetupError(
                f"cannot reach the Spark Thrift server for dbt's `thrift` target at "
                f"{self.where()}: {type(exc).__name__}: {exc}. Start the server (README, "
                f"'Running on a cluster') or point {THRIFT_HOST_ENV} / {THRIFT_PORT_ENV} at it. "
                "Nothing was written."
            ) from exc

    def connect(self) -> Any:
        """A PyHive connection to the server (close it when done)."""
        try:
            from pyhive import hive
        except ImportError as exc:
            raise TransformSetupError(
                "dbt's `thrift` target needs dbt-spark's PyHive extra: "
                "pip install 'olx-spark[thrift]' (or 'dbt-spark[PyHive]==1.10.3')"
            ) from exc
        try:
            return hive.connect(host=self.host, port=self.port, username=self.user)
        except Exception as exc:  # thrift's transport errors have no common base worth naming
            raise TransformSetupError(
                f"the server at {self.where()} did not answer as a Spark Thrift server "
                f"({type(exc).__name__}: {exc}). Check {THRIFT_HOST_ENV} / {THRIFT_PORT_ENV}. "
                "Nothing was written."
            ) from exc


def raw_table_ddl(config: Config) -> list[str]:
    """`CREATE ... IF NOT EXISTS` for the raw schema and every raw course table of both
    platforms, as the course archive job declares them (what `prepare_session` ensures)."""
    from olx_spark.olx.tables import ENTITIES, course_table_name
    from olx_spark.spark.course_archives import PARTITION_COLUMN, TABLE_COMMENTS
    from olx_spark.spark.delta import qualified
    from olx_spark.spark.schemas import spark_schema

    schema = config.warehouse.raw_schema
    statements = [f"CREATE DATABASE IF NOT EXISTS `{schema}`"]
    for platform in PLATFORMS:
        for entity in ENTITIES:
            columns = ", ".join(
                f"`{f.name}` {f.dataType.simpleString()}{'' if f.nullable else ' NOT NULL'}"
                for f in spark_schema(entity).fields
            )
            statements.append(
                f"CREATE TABLE IF NOT EXISTS {qualified(schema, course_table_name(platform, entity))}"
                f" ({columns}) USING delta PARTITIONED BY (`{PARTITION_COLUMN}`)"
                f" COMMENT {sql_string(TABLE_COMMENTS[entity])}"
            )
    return statements


def ensure_raw_tables(config: Config, server: ThriftServer) -> None:
    """On the Thrift server: the raw course tables dbt's sources name, if missing."""
    connection = server.connect()
    cursor = connection.cursor()
    try:
        for statement in raw_table_ddl(config):
            try:
                cursor.execute(statement)
            except Exception as exc:  # pyhive's errors share no base worth naming
                first = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ""
                raise TransformSetupError(
                    f"the Spark Thrift server at {server.where()} refused to create the raw "
                    f"course tables ({type(exc).__name__}: {first}). It needs Delta Lake "
                    "(spark.sql.extensions and spark.sql.catalog.spark_catalog, README 'Running "
                    "on a cluster') and the right to create tables in "
                    f"`{config.warehouse.raw_schema}`. Nothing else was written."
                ) from exc
    finally:
        cursor.close()
        connection.close()


def _invoke(config: Config, args: list[str], target: str) -> int:
    from dbt.cli.main import dbtRunner

    result = dbtRunner().invoke(dbt_args(config, args, target=target))
    if result.exception is not None:
        return 2
    return 0 if result.success else 1


def run_dbt(config: Config, args: list[str], target: str = DBT_TARGET) -> int:
    """Run one dbt command (`["docs", "generate"]`, `["test", "--select", "..."]`, ...) in this
    process with the profile's `target`. Returns 0 on success, 1 if a node failed, 2 if dbt
    errored. The `thrift` target raises `TransformSetupError` when the server is unreachable."""
    if target == THRIFT_TARGET:
        server = ThriftServer.from_env()
        server.check_reachable()
        ensure_raw_tables(config, server)
        return _invoke(config, args, target)
    if target != DBT_TARGET:
        raise ValueError(f"dbt target must be one of {', '.join(TARGETS)}, not {target!r}")
    from olx_spark.spark.session import conf_restored

    spark = prepare_session(config)
    with conf_restored(spark, ANSI_KEY):  # dbt-spark sets it for its statements
        return _invoke(config, args, target)


def run_transform(
    config: Config,
    select: list[str] | None = None,
    extra: list[str] | None = None,
    target: str = DBT_TARGET,
) -> int:
    """`dbt build` (models and their tests) with the profile's `target` (`local`: this process's
    session; `thrift`: a Spark Thrift server); `select` is dbt's `--select` (e.g.
    `["staging"]`, `["+int__combined__course_xml_courseruns"]`), `extra` is passed through (e.g.
    `["--full-refresh"]`). Returns 0 on success, 1 on a failed model or test, 2 if dbt could
    not run."""
    args = ["build"]
    if select:
        args += ["--select", *select]
    return run_dbt(config, args + list(extra or ()), target=target)


def transform_command(
    config: Config,
    select: list[str] | None = None,
    full_refresh: bool = False,
    models_only: bool = False,
    all_models: bool = False,
    target: str = DBT_TARGET,
    say: Callable[[str], None] = print,
) -> int:
    """`olx-spark transform`: `run_transform` with the local warehouse's stamp
    (olx_spark.run_stamps). A plain run (local target, no `select`, no `full_refresh`) with
    nothing new since the last successful one stops before Spark; when only some raw tables
    changed it builds only the models downstream of them (unless `all_models`). The stamp is
    forgotten before dbt runs and written again only when the build succeeded. Returns
    `run_transform`'s code; raises `TransformSetupError` as it does."""
    from olx_spark.run_stamps import transform_check

    extra = ["--full-refresh"] if full_refresh else []
    if models_only:
        extra += ["--exclude-resource-type", "test"]
    plain = target == DBT_TARGET and not select and not full_refresh
    check = transform_check(config, models_only) if plain else None
    if check is not None and check.up_to_date:
        say(
            f"olx-spark transform: nothing changed since the last build ({len(check.read)} raw "
            "tables at the versions it read, the same dbt project): dbt not run, Spark not "
            "started (--full-refresh rebuilds anyway)"
        )
        return 0
    if check is not None and check.changed and not all_models:
        selectors, message = changed_only(check.changed, len(check.read), models_only)
        say(message)
        if selectors:
            # eager: a test of a selected model runs even if it also reads an unselected one
            select, extra = selectors, [*extra, "--indirect-selection", "eager"]
    if check is not None:
        check.forget(config)  # until this run has built what it has to
    code = run_transform(config, select=select, extra=extra, target=target)
    if check is not None and code == 0:
        check.record(config)
    return code
