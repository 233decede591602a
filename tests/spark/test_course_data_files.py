"""The course tables' data files written by the tasks and committed by the driver, against
what Spark and Delta write for the same archives: the same rows, the same statistics, files
Delta skips on them, and a history that counts what was added."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from pyspark.sql import functions as F

from olx_spark.config import Config
from olx_spark.olx.tables import CONTENT_ENTITIES, course_table_name
from olx_spark.spark.course_archives import CourseArchiveJob, run_course_archives
from olx_spark.spark.delta import table_location
from olx_spark.spark.delta_commit import _scala_seq
from tests.spark.courses import tiny_course, write_tar_gz

pytestmark = pytest.mark.spark

# Columns that say when a run happened (the two runs differ there).
RUN_COLUMNS = ("retrieved_at", "retrieved_date")


def _config(config: Config, direct: bool) -> Config:
    schema = config.warehouse.raw_schema + ("" if direct else "_staged")
    return replace(
        config,
        warehouse=replace(config.warehouse, raw_schema=schema),
        ingest=replace(config.ingest, direct_writes=direct),
    )


def _table(config: Config, entity: str) -> str:
    return f"`{config.warehouse.raw_schema}`.{course_table_name('edxorg', entity)}"


def _adds(location: str) -> list[dict[str, Any]]:
    """Every `add` action in the table's log (nothing is removed in these runs)."""
    log = Path(location.removeprefix("file:")) / "_delta_log"
    return [
        json.loads(line)["add"]
        for commit in sorted(log.glob("*.json"))
        for line in commit.read_text().splitlines()
        if '"add"' in line and "add" in json.loads(line)
    ]


def _merged_stats(adds: list[dict[str, Any]]) -> dict[str, Any]:
    """The files' statistics folded into one (total rows, lowest min, highest max, total
    nulls), less the run's own columns: comparable however the rows were cut into files."""
    merged: dict[str, Any] = {"numRecords": 0, "minValues": {}, "maxValues": {}, "nullCount": {}}
    for add in adds:
        stats = json.loads(add["stats"])
        merged["numRecords"] += stats["numRecords"]
        for key, pick in (("minValues", min), ("maxValues", max)):
            for column, value in stats[key].items():
                if column not in RUN_COLUMNS:
                    seen = merged[key].get(column)
                    merged[key][column] = value if seen is None else pick(seen, value)
        for column, nulls in stats["nullCount"].items():
            if column not in RUN_COLUMNS:
                merged["nullCount"][column] = merged["nullCount"].get(column, 0) + nulls
    return merged


def _rows(spark: Any, config: Config, entity: str) -> list[str]:
    frame = spark.table(_table(config, entity)).drop(*RUN_COLUMNS)
    return sorted(frame.select(F.to_json(F.struct("*"))).toPandas().iloc[:, 0])


def test_data_files_hold_the_rows_and_statistics_spark_writes(spark, config, tmp_path):
    src = tmp_path / "src"
    for name in ("A", "B", "C"):
        write_tar_gz(src / f"{name}.tar.gz", tiny_course(name))
    job = CourseArchiveJob(str(src), "edxorg", "prod")
    direct, staged = _config(config, True), _config(config, False)
    spark.sql(f"CREATE DATABASE IF NOT EXISTS `{staged.warehouse.raw_schema}`")
    run_course_archives(spark, direct, job)
    run_course_archives(spark, staged, job)

    for entity in CONTENT_ENTITIES:
        ours, spark_written = (table_location(spark, _table(c, entity)) for c in (direct, staged))
        assert _rows(spark, direct, entity) == _rows(spark, staged, entity), entity
        our_adds, spark_adds = _adds(ours), _adds(spark_written)
        assert our_adds and spark_adds
        assert _merged_stats(our_adds) == _merged_stats(spark_adds), entity
        for add in our_adds:  # where the file is and what it holds, as Delta reads them
            assert add["path"].startswith(
                f"retrieved_date={add['partitionValues']['retrieved_date']}/"
            )
            assert (Path(ours.removeprefix("file:")) / add["path"]).stat().st_size == add["size"]
        # The history counts the rows and files a commit added, as for Spark's own writes.
        last = spark.sql(f"DESCRIBE HISTORY {_table(direct, entity)} LIMIT 1").first()
        metrics = last["operationMetrics"]
        assert last["operation"] == "WRITE"
        assert int(metrics["numOutputRows"]) == spark.table(_table(direct, entity)).count()
        assert int(metrics["numFiles"]) == len(our_adds)


def test_delta_skips_data_files_on_their_statistics(spark, config, tmp_path):
    """Three archives loaded in three runs: three files in the blocks table, and a filter on a
    block id that only one of them holds reads only that one (Delta's data skipping on the
    statistics the task wrote)."""
    direct = _config(config, True)
    for name in ("A", "B", "C"):
        src = tmp_path / name
        write_tar_gz(src / f"{name}.tar.gz", tiny_course(name))
        run_course_archives(spark, direct, CourseArchiveJob(str(src), "edxorg", "prod"))
    table = _table(direct, "blocks")
    location = table_location(spark, table)
    assert len(_adds(location)) == 3
    course_b = spark.table(table).where(F.col("block_id").contains("+B+")).first()["block_id"]

    jvm = spark.sparkContext._jvm
    snapshot = jvm.org.apache.spark.sql.delta.DeltaLog.forTable(
        spark._jsparkSession, location
    ).update(False, jvm.scala.Option.apply(None), jvm.scala.Option.apply(None))
    wanted = spark.read.format("delta").load(location).where(F.col("block_id") == course_b)
    condition = wanted._jdf.queryExecution().analyzed().condition()  # resolved, as Delta needs
    scan = snapshot.filesForScan(_scala_seq(spark, [condition]), False)

    assert scan.files().size() == 1
    assert spark.table(table).where(F.col("block_id") == course_b).count() == 1
