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
from olx_spark.spark import delta_commit
from olx_spark.spark.course_archives import CourseArchiveJob, run_course_archives
from olx_spark.spark.delta import catalog_location, table_location
from olx_spark.spark.delta_commit import DataFilesRefused, _scala_seq
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


def test_tables_in_a_folder_with_a_space_and_a_letter_outside_ascii(spark, config, tmp_path):
    """The catalog keeps a location as a URI (`%20` for a space); the data files go to the
    folder itself, and a second run finds and extends the same tables."""
    folder = tmp_path / "wh dir é"
    schema = config.warehouse.raw_schema + "_spaced"
    spark.sql(f"CREATE DATABASE `{schema}` LOCATION '{folder}/{schema}.db'")
    spaced = replace(_config(config, True), warehouse=replace(config.warehouse, raw_schema=schema))
    for name in ("A", "B"):
        src = tmp_path / f"src{name}"
        write_tar_gz(src / f"{name}.tar.gz", tiny_course(name))
        summary = run_course_archives(spark, spaced, CourseArchiveJob(str(src), "edxorg", "prod"))
        assert summary.loaded == 1

    location = table_location(spark, _table(spaced, "blocks"))
    assert catalog_location(spark, _table(spaced, "blocks")) == location
    assert " " in location and "%20" not in location
    files = list((folder / f"{schema}.db").glob("raw__edxorg__s3__course_xml_blocks/*/*.parquet"))
    assert len(files) == len(_adds(location)) == 2
    assert not list(tmp_path.glob("wh%20dir*"))
    courses = spark.table(_table(spaced, "blocks")).select("course_id").distinct().count()
    assert courses == 2


def _a_loaded_b_next(spark: Any, config: Config, tmp_path: Path) -> tuple[Config, CourseArchiveJob]:
    """Course A loaded with data files; the config, and the job of a source holding course B."""
    direct = _config(config, True)
    first, second = tmp_path / "first", tmp_path / "second"
    write_tar_gz(first / "A.tar.gz", tiny_course("A"))
    write_tar_gz(second / "B.tar.gz", tiny_course("B"))
    run_course_archives(spark, direct, CourseArchiveJob(str(first), "edxorg", "prod"))
    return direct, CourseArchiveJob(str(second), "edxorg", "prod")


def test_a_write_between_the_start_and_the_commit_fails_the_commit(
    spark, config, tmp_path, monkeypatch
):
    """Another writer appends to a table after this run's transaction read it: Delta fails
    the commit (the transaction read the whole table), nothing of the run reaches the
    ledger, and the next run loads the archive once."""
    direct, job = _a_loaded_b_next(spark, config, tmp_path)
    blocks = _table(direct, "blocks")
    before = spark.table(blocks).count()
    real_check = delta_commit._check_metadata
    appended: list[str] = []

    def append_meanwhile(txn: Any, columns: Any, partition_by: Any, where: str) -> None:
        real_check(txn, columns, partition_by, where)
        if where.endswith("course_xml_blocks") and not appended:
            appended.append(where)
            spark.table(blocks).limit(1).write.format("delta").mode("append").save(where)

    with monkeypatch.context() as m:
        m.setattr(delta_commit, "_check_metadata", append_meanwhile)
        with pytest.raises(Exception, match=r"ConcurrentAppend|concurrent"):
            run_course_archives(spark, direct, job)
    assert appended
    assert spark.table(blocks).count() == before + 1  # the other writer's row only
    assert spark.table(_table(direct, "archives")).count() == 1  # B is not in the ledger

    assert run_course_archives(spark, direct, job).loaded == 1
    b_rows = spark.table(blocks).where(F.col("course_id").contains("+B")).count()
    a_rows = spark.table(blocks).where(F.col("course_id").contains("+A")).count()
    assert (b_rows, a_rows) == (before, before + 1)  # B's blocks once; A's and the extra copy


def test_a_table_with_column_mapping_gets_no_data_files(spark, config, tmp_path):
    """Files written with the columns' names would read back as nulls under column mapping:
    the commit is refused with what to do, and with `direct_writes = false` the run works."""
    direct, job = _a_loaded_b_next(spark, config, tmp_path)
    blocks = _table(direct, "blocks")
    spark.sql(
        f"ALTER TABLE {blocks} SET TBLPROPERTIES ('delta.minReaderVersion' = '2',"
        " 'delta.minWriterVersion' = '5', 'delta.columnMapping.mode' = 'name')"
    )
    version = spark.sql(f"DESCRIBE HISTORY {blocks} LIMIT 1").first()["version"]

    with pytest.raises(DataFilesRefused, match="direct_writes = false"):
        run_course_archives(spark, direct, job)
    assert spark.sql(f"DESCRIBE HISTORY {blocks} LIMIT 1").first()["version"] == version

    staged = replace(direct, ingest=replace(direct.ingest, direct_writes=False))
    assert run_course_archives(spark, staged, job).loaded == 1
    assert spark.table(blocks).where(F.col("block_id").isNull()).count() == 0
    assert spark.table(blocks).select("course_id").distinct().count() == 2
