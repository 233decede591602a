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


def commit_files(
    spark: SparkSession, location: str, adds: Sequence[dict[str, Any]], partition_by: list[str]
) -> int:
    """Commit the `add` actions `adds` (their files already in place) to the Delta table at
    `location` as one append; returns the new table version."""
    jvm = spark.sparkContext._jvm
    assert jvm is not None
    delta = jvm.org.apache.spark.sql.delta
    log = delta.DeltaLog.forTable(spark._jsparkSession, location)
    txn = log.startTransaction()
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


def delete_rows_of(
    spark: SparkSession, location: str, column: str, values: Iterable[str], s3: S3Config
) -> bool:
    """Delete the rows of the Delta table at `location` whose `column` is in `values`, if it
    has any (rows a killed earlier run committed before its ledger did); whether it had."""
    wanted = sorted(set(values))
    if not wanted or _never_written(location, s3):
        return False
    condition = F.col(column).isin(wanted)
    if not spark.read.format("delta").load(location).where(condition).limit(1).collect():
        return False
    DeltaTable.forPath(spark, location).delete(condition)
    return True
