"""Commit data files that the tasks wrote themselves (`olx_spark.storage.delta_files`) to a Delta
table: one transaction of `add` actions through Delta's own API, on the driver. The JVM reads and
writes no row; it only checks the transaction against the table and writes the log entry (with
Delta's usual write metrics, so `DESCRIBE HISTORY` shows the rows and files added).

Delta's API is reached through the driver's JVM gateway (`DeltaLog.forTable`,
`startTransaction`, `commit`); `can_commit_files` says whether this session has it (open-source
Delta Lake does; a runtime with its own Delta build may not, and then the job writes through
Spark as before).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import urlparse

from delta.tables import DeltaTable
from py4j.java_gateway import JavaClass
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from olx_spark.config import S3Config
from olx_spark.storage.delta_log import table_location as delta_log_location
from olx_spark.storage.delta_log import written_version

# Schemes whose files a Python worker can write where Spark will read them.
PYTHON_WRITABLE_SCHEMES = ("", "file", "s3", "s3a")


def python_writable(location: str) -> bool:
    """Whether the tasks' Python can write a table's files at `location` (local or S3)."""
    return urlparse(location).scheme in PYTHON_WRITABLE_SCHEMES


def can_commit_files(spark: SparkSession) -> bool:
    """Whether this session's JVM has open-source Delta's transaction API."""
    jvm = spark.sparkContext._jvm
    try:
        return isinstance(jvm.org.apache.spark.sql.delta.DeltaLog, JavaClass)  # type: ignore[union-attr]
    except Exception:  # a gateway that cannot even look
        return False


def _scala_seq(spark: SparkSession, items: Iterable[Any]) -> Any:
    jvm = spark.sparkContext._jvm
    assert jvm is not None
    java_list = jvm.java.util.ArrayList()
    for item in items:
        java_list.add(item)
    return jvm.scala.jdk.javaapi.CollectionConverters.asScala(java_list).toSeq()


def _write_metrics(spark: SparkSession, files: int, rows: int, size: int) -> Any:
    """The metrics Delta records for a write (`numFiles`, `numOutputRows`, `numOutputBytes`),
    as the Scala map `registerSQLMetrics` takes."""
    jvm = spark.sparkContext._jvm
    assert jvm is not None
    sc = spark.sparkContext._jsc.sc()  # type: ignore[union-attr]
    metrics = jvm.java.util.HashMap()
    for name, value in (("numFiles", files), ("numOutputRows", rows), ("numOutputBytes", size)):
        metric = jvm.org.apache.spark.sql.execution.metric.SQLMetrics.createMetric(sc, name)
        metric.add(value)
        metrics.put(name, metric)
    return jvm.org.apache.spark.api.python.PythonUtils.toScalaMap(metrics)


class DataFilesRefused(Exception):
    """The table is not what the tasks wrote its data files for (column mapping, other
    partitions, a column missing): nothing was committed."""


def _check_metadata(txn: Any, columns: Sequence[str], partition_by: list[str], where: str) -> None:
    """Refuse a table whose files the tasks' plain Parquet would misread: column mapping
    (Delta would look for physical names the files lack), other partition columns, or a
    column the files hold that the table lacks."""
    metadata = txn.metadata()
    mode = str(metadata.columnMappingMode().name())
    partitions = list(metadata.getPartitionColumns())
    fields = {f["name"] for f in json.loads(metadata.schemaString())["fields"]}
    missing = sorted(set(columns) - fields)
    if mode != "none" or partitions != partition_by or missing:
        raise DataFilesRefused(
            f"{where}: the tasks wrote data files for a table partitioned by {partition_by}"
            f" without column mapping, but it is partitioned by {partitions} with column"
            f" mapping {mode!r}"
            + (f" and lacks {missing}" if missing else "")
            + "; nothing was committed. Set `direct_writes = false` under [ingest] so"
            " Spark writes this table."
        )


def commit_files(
    spark: SparkSession,
    location: str,
    adds: Sequence[dict[str, Any]],
    partition_by: list[str],
    columns: Sequence[str],
    replaced: tuple[str, Sequence[str]],
    s3: S3Config,
) -> int:
    """Commit the `add` actions `adds` (their files already in place, holding `columns`) to
    the Delta table at `location` as one append, replacing the rows whose `replaced[0]` column
    is in `replaced[1]`; returns the new table version (with no `adds`, those rows are only
    deleted).

    The transaction reads the whole table, so Delta fails it (a concurrent-append conflict)
    if another writer added files meanwhile: two runs racing on one table never both add the
    same rows. The common case, no such rows in the snapshot it read (a never-written table
    is known to hold none without a Spark job), commits at once; rows left by a killed
    earlier run are deleted first, in a commit of their own, and the transaction started
    again: if such rows are there once more, another run wrote them, and this one stops."""
    jvm = spark.sparkContext._jvm
    assert jvm is not None
    delta = jvm.org.apache.spark.sql.delta
    column, values = replaced
    for attempt in range(2):
        txn = delta.DeltaLog.forTable(spark._jsparkSession, location).startTransaction()
        txn.readWholeTable()
        _check_metadata(txn, columns, partition_by, location)
        if not _holds_rows(spark, location, column, values, int(txn.readVersion()), s3):
            break
        if attempt:
            raise RuntimeError(
                f"{location}: rows of the archives this run loads were written by another run"
                " meanwhile; nothing of this table was committed. Run the job again (one"
                ' run at a time: see the README\'s "Two runs at once").'
            )
        DeltaTable.forPath(spark, location).delete(F.col(column).isin(sorted(set(values))))
    if not adds:  # nothing to add: the rows to replace, if any, are deleted
        return int(txn.readVersion())
    actions = _scala_seq(spark, (delta.actions.Action.fromJson(json.dumps(a)) for a in adds))
    rows = sum(json.loads(a["add"]["stats"])["numRecords"] for a in adds)
    size = sum(a["add"]["size"] for a in adds)
    txn.registerSQLMetrics(spark._jsparkSession, _write_metrics(spark, len(adds), rows, size))
    write = getattr(delta, "DeltaOperations$Write")
    option = jvm.scala.Option
    operation = write(
        jvm.org.apache.spark.sql.SaveMode.Append,
        option.apply(_scala_seq(spark, partition_by)),
        option.apply(None),
        option.apply(None),
    )
    return int(txn.commit(actions, operation))


def _never_written(location: str, s3: S3Config) -> bool:
    """Whether the table's Delta log, read directly (no Spark job: asking Delta's snapshot
    costs one in a new JVM), shows it was never written, so holds no row."""
    try:
        return written_version(delta_log_location(location, s3)) is None
    except Exception:  # a log this reader cannot vouch for: Spark decides
        return False


def _holds_rows(
    spark: SparkSession,
    location: str,
    column: str,
    values: Sequence[str],
    version: int,
    s3: S3Config,
) -> bool:
    """Whether version `version` of the table at `location` has rows whose `column` is in
    `values` (none if the table was never written, read from its log without Spark)."""
    wanted = sorted(set(values))
    if not wanted or _never_written(location, s3):
        return False
    table = spark.read.format("delta").option("versionAsOf", version).load(location)
    return bool(table.where(F.col(column).isin(wanted)).limit(1).collect())
