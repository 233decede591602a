"""Build (locally) or adopt (on a cluster) the SparkSession every command and dbt share.

Local mode is the laptop default: `local[*]`, a warehouse folder, an embedded Derby metastore
inside that folder (so tables resolve by name across runs and for dbt), Delta's extension and
catalog, Arrow transfer on, UTC everywhere, Python workers forked from our own daemon module
(`olx_spark.spark.worker_daemon`). Cluster mode leaves the cluster's settings alone and
only makes sure the raw schema exists.

A local session may also keep its tables on S3 (`[warehouse] dir = "s3a://..."`): then the S3A
jars and settings come from `olx_spark.spark.s3_warehouse`, and the metastore, which Derby keeps
on a local disk, goes to a local folder (`metastore_home`).

The embedded metastore admits one process at a time: a local session first waits for any other
olx-spark process on the same warehouse to end (`olx_spark.spark.run_lock`), and one that still
cannot open it (a process outside olx-spark has it) fails with `MetastoreInUseError`, in words.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING

from olx_spark.config import Config, ConfigError
from olx_spark.spark import worker_daemon
from olx_spark.spark.jars import spark_jars_conf
from olx_spark.spark.s3_warehouse import (
    check_warehouse_reachable,
    default_metastore_home,
    s3a_conf,
    uses_s3a,
)

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

DELTA_CONF = {
    "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
    "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
}

COMMON_CONF = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.sql.sources.partitionOverwriteMode": "static",
    # A partitioned write keeps up to this many files open per task instead of sorting all of
    # the task's rows by the partition value first (a task with more values sorts the rest).
    # A day's tracking log spans one or two event dates: the sort cost 6-25 % of the events
    # write (benchmarks/RESULTS.md). Each open file buffers up to a Parquet row group.
    "spark.sql.maxConcurrentOutputFileWriters": "4",
}

# Small-machine defaults: a laptop has a few cores, not hundreds of shuffle partitions.
LOCAL_CONF = {
    "spark.sql.shuffle.partitions": "8",
    "spark.databricks.delta.snapshotPartitions": "4",
    "spark.ui.showConsoleProgress": "true",
    "spark.ui.enabled": "false",
    "spark.driver.memory": "4g",
    "spark.sql.adaptive.enabled": "true",
    "spark.databricks.delta.properties.defaults.enableChangeDataFeed": "false",
}


METASTORE_URL = "spark.hadoop.javax.jdo.option.ConnectionURL"


def is_local_path(uri: str) -> bool:
    return "://" not in uri or uri.startswith("file://")


def warehouse_location(config: Config) -> str:
    """Absolute warehouse location: local folders are resolved, URIs are kept as given."""
    wh = config.warehouse.dir
    return str(Path(wh.removeprefix("file://")).expanduser().resolve()) if is_local_path(wh) else wh


def local_table_location(config: Config, table: str) -> str:
    """Where a local session keeps the table `table` of the raw schema, without asking Spark.

    The raw schema is created without a LOCATION and its tables are managed tables, so the
    catalog puts them at Spark's default path, `{warehouse}/{schema}.db/{table}` (names
    lower-cased as the catalog stores them). Spark's own answer (`delta.table_location`) stays
    the truth for writes; tests check that the two agree."""
    warehouse = config.spark.conf.get("spark.sql.warehouse.dir") or warehouse_location(config)
    return f"{warehouse.rstrip('/')}/{config.warehouse.raw_schema.lower()}.db/{table.lower()}"


def metastore_home(config: Config) -> str:
    """The local folder of a local session's embedded Derby metastore and Derby's log
    (`derby.system.home`): `[warehouse] metastore_dir`, else the warehouse folder, else (a
    warehouse on S3) a folder of this machine's per-user state for that bucket and prefix."""
    if config.warehouse.metastore_dir:
        return str(Path(config.warehouse.metastore_dir).expanduser().resolve())
    if is_local_path(config.warehouse.dir):
        return warehouse_location(config)
    if not config.warehouse.dir.startswith("s3a://"):
        raise ConfigError(
            f"a local session keeps its tables in a folder or at s3a://bucket/prefix, not at "
            f"{config.warehouse.dir} ([warehouse] dir); for another file system run on a "
            'cluster (spark.mode = "cluster") or set [warehouse] metastore_dir'
        )
    return str(default_metastore_home(config.warehouse.dir))


def metastore_url(config: Config) -> str:
    """The JDBC URL of a local session's metastore: the embedded Derby database in
    `metastore_home` (the warehouse folder by default), unless `[spark.conf]` names another."""
    default = f"jdbc:derby:;databaseName={metastore_home(config)}/_metastore_db;create=true"
    return config.spark.conf.get(METASTORE_URL, default)


def embedded_derby_path(config: Config) -> str | None:
    """The folder of a local session's embedded Derby metastore; None if the metastore is not an
    embedded Derby on this machine's disk (a network server, in memory, another database)."""
    url = metastore_url(config)
    if not url.startswith("jdbc:derby:") or url.startswith("jdbc:derby://"):
        return None
    name, *attributes = url.removeprefix("jdbc:derby:").split(";")
    for attribute in attributes:
        key, _, value = attribute.partition("=")
        if key.strip() == "databaseName":
            name = value.strip()
    name = name.removeprefix("directory:")
    if not name or "://" in name or name.startswith(("memory:", "classpath:", "jar:")):
        return None
    path = Path(name).expanduser()
    if path.is_absolute():
        return str(path)
    # Derby resolves a relative name against derby.system.home, `metastore_home`.
    return str(Path(metastore_home(config)) / path)


def _metastore_in_use(config: Config, exc: Exception) -> Exception | None:
    """A clear error for a local session whose embedded metastore would not open (most likely
    another process has it open); None if `exc` is something else."""
    from olx_spark.spark.run_lock import MetastoreInUseError

    derby = embedded_derby_path(config)
    if derby is None or "SessionHiveMetaStoreClient" not in str(exc):
        return None
    return MetastoreInUseError(
        f"the warehouse's embedded metastore (Derby, {derby}) could not be opened: another "
        "process most likely has it open, and Derby admits one process at a time. olx-spark "
        "commands wait for each other; this one is something else holding it (a pyspark shell, "
        "a notebook, dbt run on its own, a Thrift server). Stop it or wait for it to end, then "
        "run this command again; or give the warehouse a shared metastore "
        f"({METASTORE_URL} under [spark.conf]). If no other process has it open, Derby's log "
        f"({metastore_home(config)}/derby.log) says what else is wrong."
    )


def local_session_conf(config: Config) -> dict[str, str]:
    """Every setting of a local session: one source of truth shared by the jobs and dbt."""
    wh = warehouse_location(config)
    log4j = files("olx_spark").joinpath("conf/log4j2.properties")
    java_opts = f"-Dderby.system.home={metastore_home(config)} -Dlog4j2.configurationFile={log4j}"
    s3a = uses_s3a(config)
    conf = {
        **COMMON_CONF,
        **DELTA_CONF,
        **LOCAL_CONF,
        "spark.sql.warehouse.dir": wh,
        "spark.sql.catalogImplementation": "hive",
        METASTORE_URL: metastore_url(config),
        "spark.driver.extraJavaOptions": java_opts,
        # Python workers run the interpreter (and so the packages) of the driver.
        "spark.pyspark.python": sys.executable,
        "spark.pyspark.driver.python": sys.executable,
        # Workers forked from our daemon skip a per-task zip re-read of Python 3.11 (see there).
        "spark.python.daemon.module": worker_daemon.__name__,
        **(s3a_conf(config) if s3a else {}),
        **spark_jars_conf(s3a),
    }
    conf.update(config.spark.conf)
    return conf


def get_session(config: Config) -> SparkSession:
    from pyspark.sql import SparkSession

    if config.spark.mode == "cluster":
        builder = SparkSession.builder.appName(config.spark.app_name)
        for key, value in {**COMMON_CONF, **config.spark.conf}.items():
            builder = builder.config(key, value)
        spark = builder.enableHiveSupport().getOrCreate()
    elif config.spark.mode == "local":
        from olx_spark.spark.run_lock import hold_metastore

        if is_local_path(config.warehouse.dir):
            Path(warehouse_location(config)).mkdir(parents=True, exist_ok=True)
        elif config.warehouse.dir.startswith("s3a://"):
            # Seconds and words instead of minutes of S3A retries and a metastore stack trace.
            check_warehouse_reachable(config)
        Path(metastore_home(config)).mkdir(parents=True, exist_ok=True)
        # One process at a time on an embedded metastore: wait here for any other to end.
        hold_metastore(config)
        # PySpark picks the workers' interpreter from the environment: make it this one.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        builder = SparkSession.builder.master(config.spark.master).appName(config.spark.app_name)
        for key, value in local_session_conf(config).items():
            builder = builder.config(key, value)
        spark = builder.getOrCreate()
        spark.sparkContext.setLogLevel("ERROR")
    else:
        raise ValueError(f"spark.mode must be 'local' or 'cluster', not {config.spark.mode!r}")
    try:
        spark.sql(f"CREATE DATABASE IF NOT EXISTS `{config.warehouse.raw_schema}`")
    except Exception as exc:
        clear = _metastore_in_use(config, exc) if config.spark.mode == "local" else None
        if clear is None:
            raise
        raise clear from exc
    return spark


@contextmanager
def conf_restored(spark: SparkSession, key: str) -> Iterator[None]:
    """On leaving the block, the runtime setting `key` has the value it had on entering again
    (unset if it had none), whatever the block or what it called set it to."""
    before = spark.conf.get(key, None)
    try:
        yield
    finally:
        if before is None:
            spark.conf.unset(key)
        else:
            spark.conf.set(key, before)
