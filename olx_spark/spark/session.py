"""Build (locally) or adopt (on a cluster) the SparkSession every command and dbt share.

Local mode is the laptop default: `local[*]`, a warehouse folder, an embedded Derby metastore
inside that folder (so tables resolve by name across runs and for dbt), Delta's extension and
catalog, Arrow transfer on, UTC everywhere, Python workers forked from our own daemon module
(`olx_spark.spark.worker_daemon`). Cluster mode leaves the cluster's settings alone and
only makes sure the raw schema exists.
"""

from __future__ import annotations

import os
import sys
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING

from olx_spark.config import Config
from olx_spark.spark import worker_daemon
from olx_spark.spark.jars import delta_spark_conf

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


def local_session_conf(config: Config) -> dict[str, str]:
    """Every setting of a local session: one source of truth shared by the jobs and dbt."""
    wh = warehouse_location(config)
    log4j = files("olx_spark").joinpath("conf/log4j2.properties")
    java_opts = f"-Dderby.system.home={wh} -Dlog4j2.configurationFile={log4j}"
    conf = {
        **COMMON_CONF,
        **DELTA_CONF,
        **LOCAL_CONF,
        "spark.sql.warehouse.dir": wh,
        "spark.sql.catalogImplementation": "hive",
        "spark.hadoop.javax.jdo.option.ConnectionURL": (
            f"jdbc:derby:;databaseName={wh}/_metastore_db;create=true"
        ),
        "spark.driver.extraJavaOptions": java_opts,
        # Python workers run the interpreter (and so the packages) of the driver.
        "spark.pyspark.python": sys.executable,
        "spark.pyspark.driver.python": sys.executable,
        # Workers forked from our daemon skip a per-task zip re-read of Python 3.11 (see there).
        "spark.python.daemon.module": worker_daemon.__name__,
        **delta_spark_conf(),
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
        if is_local_path(config.warehouse.dir):
            Path(warehouse_location(config)).mkdir(parents=True, exist_ok=True)
        # PySpark picks the workers' interpreter from the environment: make it this one.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        builder = SparkSession.builder.master(config.spark.master).appName(config.spark.app_name)
        for key, value in local_session_conf(config).items():
            builder = builder.config(key, value)
        spark = builder.getOrCreate()
        spark.sparkContext.setLogLevel("ERROR")
    else:
        raise ValueError(f"spark.mode must be 'local' or 'cluster', not {config.spark.mode!r}")
    spark.sql(f"CREATE DATABASE IF NOT EXISTS `{config.warehouse.raw_schema}`")
    return spark
