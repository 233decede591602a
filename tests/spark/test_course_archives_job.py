"""The course archive job for real: local Spark, Delta tables in the catalog, read back."""

from __future__ import annotations

import gzip
import shutil
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from olx_spark.config import Config
from olx_spark.olx.arrow import file_schema
from olx_spark.olx.tables import CONTENT_ENTITIES, ENTITIES, course_table_name, table_schema
from olx_spark.spark import course_archives as course_archives_job
from olx_spark.spark import course_writes
from olx_spark.spark.course_archives import (
    INPUT_SCHEMA,
    CourseArchiveJob,
    ingest_course_archives,
    read_ledger,
    read_ledger_by_spark,
    read_ledger_without_spark,
    run_course_archives,
    staged_file_rows,
)
from olx_spark.spark.schemas import spark_schema_of
from olx_spark.spark.tasks import ONE_FILE_PER_TASK, TaskSizing, pack_tasks, task_input_frame
from olx_spark.storage.delta_log import UnsupportedDeltaTable
from olx_spark.storage.listing import SourceFile
from tests.spark.courses import TINY_BLOCK_TYPES, tiny_course, write_tar_gz
from tests.spark.packing import record_task_counts

pytestmark = pytest.mark.spark


def _job(source: Path | str) -> CourseArchiveJob:
    return CourseArchiveJob(str(source), "edxorg", "prod")


def _table(config: Config, entity: str) -> str:
    return f"`{config.warehouse.raw_schema}`.{course_table_name('edxorg', entity)}"


def _rows(spark: Any, config: Config, entity: str, order: str = "") -> list[dict[str, Any]]:
    query = f"SELECT * FROM {_table(config, entity)}" + (f" ORDER BY {order}" if order else "")
    return [r.asDict(recursive=True) for r in spark.sql(query).collect()]


def _counts(spark: Any, config: Config) -> dict[str, int]:
    return {e: spark.table(_table(config, e)).count() for e in ENTITIES}


def test_loads_a_course_into_six_partitioned_catalog_tables(spark, config, tmp_path):
    write_tar_gz(tmp_path / "src" / "tiny.tar.gz", tiny_course())
    summary = run_course_archives(spark, config, _job(tmp_path / "src"))

    assert (summary.files_seen, summary.loaded, summary.rejected, summary.skipped) == (1, 1, 0, 0)
    for entity in ENTITIES:
        name = course_table_name("edxorg", entity)
        detail = spark.sql(f"DESCRIBE DETAIL {_table(config, entity)}").first()
        assert detail["format"] == "delta"
        assert detail["partitionColumns"] == ["retrieved_date"]
        assert spark.table(_table(config, entity)).columns == table_schema(entity).names, name

    (archive,) = _rows(spark, config, "archives")
    assert archive["status"] == "loaded"
    assert archive["course_id"] == "course-v1:MITx+T.01+2024_T1"
    assert (archive["org"], archive["course"], archive["run"]) == ("MITx", "T.01", "2024_T1")
    assert archive["block_count"] == sum(TINY_BLOCK_TYPES.values())
    assert archive["errors"] == []
    assert len(archive["archive_sha256"]) == 64 and len(archive["course_version"]) == 64
    assert archive["retrieved_date"] == archive["retrieved_at"].date()

    blocks = _rows(spark, config, "blocks", "depth, block_id")
    assert [b["block_id"] for b in blocks] == [
        "block-v1:MITx+T.01+2024_T1+type@course+block@course",
        "block-v1:MITx+T.01+2024_T1+type@chapter+block@ch1",
        "block-v1:MITx+T.01+2024_T1+type@sequential+block@seq1",
        "block-v1:MITx+T.01+2024_T1+type@vertical+block@v1",
        "block-v1:MITx+T.01+2024_T1+type@html+block@h1",
        "block-v1:MITx+T.01+2024_T1+type@problem+block@p1",
    ]
    course = blocks[0]
    assert course["block_title"] == "Tiny Course (policy)"
    assert course["xml_attributes"]["display_name"] == "Tiny Course"
    assert course["settings"]["self_paced"] == "true"
    html = next(b for b in blocks if b["block_type"] == "html")
    assert html["content"] == "<p>Hi</p>"
    assert {b["source_system"] for b in blocks} == {"prod"}
    assert {b["archive_sha256"] for b in blocks} == {archive["archive_sha256"]}
    assert {b["retrieved_at"] for b in blocks} == {archive["retrieved_at"]}

    assert len(_rows(spark, config, "edges")) == 5
    (static,) = _rows(spark, config, "static_files")
    assert (static["path"], static["size_bytes"], static["mime_type"]) == (
        "static/notes.pdf",
        len("%PDF-1.4 not really a pdf"),
        "application/pdf",
    )
    pages = _rows(spark, config, "pages")
    assert [(p["page_type"], p["name"]) for p in pages] == [("about", "overview")]
    grader = [p for p in _rows(spark, config, "policies") if p["policy_key"] == "GRADER"]
    assert len(grader) == 1
    assert summary.rows_written[course_table_name("edxorg", "blocks")] == 6


def test_rerun_with_nothing_new_loads_nothing(spark, config, tmp_path):
    write_tar_gz(tmp_path / "src" / "a.tar.gz", tiny_course("A"))
    write_tar_gz(tmp_path / "src" / "b.tar.gz", tiny_course("B"))
    run_course_archives(spark, config, _job(tmp_path / "src"))
    before = _counts(spark, config)

    again = run_course_archives(spark, config, _job(tmp_path / "src"))

    assert (again.files_seen, again.unchanged, again.loaded) == (2, 2, 0)
    assert again.rows_written == {}
    assert "nothing new to load" in again.render()
    assert _counts(spark, config) == before


def test_same_bytes_under_another_name_are_not_loaded_twice(spark, config, tmp_path):
    src = tmp_path / "src"
    write_tar_gz(src / "a.tar.gz", tiny_course())
    run_course_archives(spark, config, _job(src))
    before = _counts(spark, config)
    shutil.copy(src / "a.tar.gz", src / "renamed.tar.gz")
    shutil.copy(src / "a.tar.gz", src / "renamed-again.tgz")

    summary = run_course_archives(spark, config, _job(src))

    assert (summary.unchanged, summary.duplicates, summary.loaded) == (1, 2, 0)
    after = _counts(spark, config)
    assert after["archives"] == before["archives"] + 2
    assert {e: after[e] for e in CONTENT_ENTITIES} == {e: before[e] for e in CONTENT_ENTITIES}
    statuses = sorted(r["status"] for r in _rows(spark, config, "archives"))
    assert statuses == ["duplicate", "duplicate", "loaded"]


def test_identical_archives_in_one_run_load_once(spark, config, tmp_path):
    src = tmp_path / "src"
    write_tar_gz(src / "a.tar.gz", tiny_course())
    shutil.copy(src / "a.tar.gz", src / "b.tar.gz")

    summary = run_course_archives(spark, config, _job(src))

    assert (summary.loaded, summary.duplicates) == (1, 1)
    assert spark.table(_table(config, "blocks")).count() == 6
    loaded = [r for r in _rows(spark, config, "archives") if r["status"] == "loaded"]
    assert [r["archive_uri"].rsplit("/", 1)[-1] for r in loaded] == ["a.tar.gz"]


def test_a_new_version_of_a_course_is_a_new_version(spark, config, tmp_path):
    src = tmp_path / "src"
    write_tar_gz(src / "course.tar.gz", tiny_course(html="<p>v1</p>"))
    run_course_archives(spark, config, _job(src))
    write_tar_gz(src / "course.tar.gz", tiny_course(html="<p>v2</p>"), mtime=1_800_000_000)

    summary = run_course_archives(spark, config, _job(src))

    assert summary.loaded == 1
    archives = _rows(spark, config, "archives", "retrieved_at")
    assert len({a["archive_sha256"] for a in archives}) == 2
    assert archives[0]["course_version"] != archives[1]["course_version"]
    html = spark.sql(
        f"SELECT content FROM {_table(config, 'blocks')} WHERE block_type = 'html' ORDER BY retrieved_at"
    ).collect()
    assert [r[0] for r in html] == ["<p>v1</p>", "<p>v2</p>"]


def test_repacked_archive_with_same_content_has_same_course_version(spark, config, tmp_path):
    src = tmp_path / "src"
    write_tar_gz(src / "a.tar.gz", tiny_course(), mtime=1_600_000_000)
    write_tar_gz(src / "b.tar.gz", tiny_course(), mtime=1_650_000_000)

    run_course_archives(spark, config, _job(src))

    archives = _rows(spark, config, "archives")
    assert len({a["archive_sha256"] for a in archives}) == 2
    assert len({a["course_version"] for a in archives}) == 1


def test_bad_archives_are_rejected_and_the_good_ones_load(spark, config, tmp_path, monkeypatch):
    src = tmp_path / "src"
    write_tar_gz(src / "good.tar.gz", tiny_course())
    (src / "not-gzip.tar.gz").write_bytes(b"this is not an archive at all")
    whole = write_tar_gz(tmp_path / "whole.tar.gz", tiny_course("T")).read_bytes()
    (src / "truncated.tar.gz").write_bytes(whole[: len(whole) // 2])
    write_tar_gz(src / "no-course.tar.gz", {"readme.txt": "no course here"})
    broken = tiny_course("B")
    broken["course/problem/p1.xml"] = "<problem><unclosed></problem>"
    write_tar_gz(src / "partly-broken.tar.gz", broken)
    (src / "empty.tar.gz").write_bytes(gzip.compress(b""))

    task_counts = record_task_counts(monkeypatch, course_archives_job)
    summary = run_course_archives(spark, config, _job(src))

    # Parse tasks sized by Spark's split rule for the session, not one per archive: 6 small
    # archives on 2 cores are 2 tasks.
    sizing = TaskSizing.of(spark).task_count([f.stat().st_size for f in src.iterdir()])
    assert task_counts == [sizing] and sizing == 2
    archives = {r["archive_uri"].rsplit("/", 1)[-1]: r for r in _rows(spark, config, "archives")}
    assert {n: a["status"] for n, a in archives.items()} == {
        "good.tar.gz": "loaded",
        "partly-broken.tar.gz": "loaded",
        "not-gzip.tar.gz": "rejected",
        "truncated.tar.gz": "rejected",
        "no-course.tar.gz": "rejected",
        "empty.tar.gz": "rejected",
    }
    for name in ("not-gzip.tar.gz", "truncated.tar.gz", "no-course.tar.gz", "empty.tar.gz"):
        assert archives[name]["errors"], name
        assert archives[name]["errors"][0]["message"], name
    assert archives["no-course.tar.gz"]["errors"][0]["kind"] == "no_course"
    bad_xml = archives["partly-broken.tar.gz"]["errors"]
    assert [(e["path"], e["kind"]) for e in bad_xml] == [("problem/p1.xml", "bad_xml")]
    assert (summary.loaded, summary.rejected, summary.loaded_with_errors) == (2, 4, 1)
    assert len(summary.warnings) == 5
    rendered = summary.render()
    assert "truncated.tar.gz" in rendered and "bad_xml" in rendered
    broken_blocks = spark.sql(
        f"SELECT block_type FROM {_table(config, 'blocks')} b JOIN {_table(config, 'archives')} a"
        " USING (archive_sha256) WHERE a.archive_uri LIKE '%partly-broken%'"
    ).collect()
    assert sorted(r[0] for r in broken_blocks) == [
        "chapter",
        "course",
        "html",
        "sequential",
        "vertical",
    ]

    # A rejected archive is not retried while it is unchanged.
    again = run_course_archives(spark, config, _job(src))
    assert (again.unchanged, again.rejected) == (6, 0)


def test_missing_source_is_a_clear_error(spark, config, tmp_path):
    from olx_spark.storage.listing import SourceError

    with pytest.raises(SourceError, match="does not exist"):
        run_course_archives(spark, config, _job(tmp_path / "nope"))


def test_archives_packed_into_fewer_tasks_each_parsed_once(spark, config, tmp_path):
    src = tmp_path / "src"
    for i in range(4):
        write_tar_gz(src / f"c{i}.tar.gz", tiny_course(f"R{i}"))
    few_tasks = replace(config, ingest=replace(config.ingest, max_parse_tasks=2))

    summary = run_course_archives(spark, few_tasks, _job(src))

    assert summary.loaded == 4
    assert spark.table(_table(config, "blocks")).count() == 24
    # Each archive parsed exactly once: one ledger row and one course's blocks per archive.
    uris = [r["archive_uri"].rsplit("/", 1)[-1] for r in _rows(spark, config, "archives")]
    assert sorted(uris) == [f"c{i}.tar.gz" for i in range(4)]
    per_archive = spark.sql(
        f"SELECT archive_sha256, count(*) AS n FROM {_table(config, 'blocks')} GROUP BY 1"
    ).collect()
    assert sorted(r["n"] for r in per_archive) == [6, 6, 6, 6]


def test_task_sizing_reads_the_session(spark):
    """Packing follows the session's cores and its `spark.sql.files.*` split settings."""
    sizing = TaskSizing.of(spark)
    assert sizing.parallelism == spark.sparkContext.defaultParallelism
    assert sizing.max_task_bytes == 128 * 1024 * 1024  # Spark's default maxPartitionBytes
    spark.conf.set("spark.sql.files.maxPartitionBytes", "8m")
    spark.conf.set("spark.sql.files.openCostInBytes", "1m")
    try:
        sizing = TaskSizing.of(spark)
        assert (sizing.max_task_bytes, sizing.open_cost_bytes) == (8 << 20, 1 << 20)
    finally:
        spark.conf.unset("spark.sql.files.maxPartitionBytes")
        spark.conf.unset("spark.sql.files.openCostInBytes")


def test_input_frame_has_one_partition_per_task_built_on_the_jvm(spark):
    from pyspark.sql import functions as F

    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    sizes = [1000, 10, 10, 10, 10, 10, 10, 5, 3, 900, 1]
    files = [SourceFile(f"file:///a/{i}.tar.gz", s, t0) for i, s in enumerate(sizes)]
    tasks = pack_tasks(files, max_tasks=4, sizing=ONE_FILE_PER_TASK)
    assert sorted(len(t) for t in tasks) == [1, 1, 4, 5]  # uneven on purpose

    frame = task_input_frame(spark, tasks, INPUT_SCHEMA)

    assert frame.rdd.getNumPartitions() == len(tasks)
    rows = frame.select(F.spark_partition_id().alias("p"), "*").collect()
    assert sorted(r["uri"] for r in rows) == sorted(f.uri for f in files)  # each once
    by_partition: dict[int, set[str]] = {}
    for r in rows:
        by_partition.setdefault(r["p"], set()).add(r["uri"])
    assert by_partition == {i: {f.uri for f in task} for i, task in enumerate(tasks)}
    assert {(r["size"], r["modified_at"].year) for r in rows} == {(s, 2024) for s in sizes}
    # No Python stage just to emit rows: no Python RDD under the plan, no scan of one.
    execution = frame._jdf.queryExecution()
    assert "PythonRDD" not in execution.toRdd().toDebugString()
    plan = execution.executedPlan().toString()
    assert "Range" in plan and "LocalTableScan" in plan and "ExistingRDD" not in plan


def _daemon_probe(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    from olx_spark.spark.worker_daemon import zip_cache_invalidation_disabled

    for batch in batches:
        yield pa.RecordBatch.from_pylist(
            [
                {"id": i, "patched": zip_cache_invalidation_disabled()}
                for i in batch["id"].to_pylist()
            ],
            schema=pa.schema([("id", pa.int64()), ("patched", pa.bool_())]),
        )


def test_python_workers_come_from_our_daemon(spark):
    assert spark.conf.get("spark.python.daemon.module") == "olx_spark.spark.worker_daemon"

    rows = spark.range(0, 4, 1, 2).mapInArrow(_daemon_probe, "id long, patched boolean").collect()

    assert sorted(r["id"] for r in rows) == [0, 1, 2, 3]
    assert {r["patched"] for r in rows} == {sys.version_info < (3, 12)}


def test_local_locations_are_the_catalogs(spark, config, tmp_path):
    from olx_spark.spark.delta import table_location

    (tmp_path / "src").mkdir()
    run_course_archives(spark, config, _job(tmp_path / "src"))  # creates the tables
    job = _job(tmp_path / "src")
    for entity in ENTITIES:
        catalog = table_location(spark, job.table(config, entity))
        assert catalog.removeprefix("file:") == job.local_location(config, entity), entity


def test_ledger_read_without_spark_is_the_ledger_spark_reads(spark, config, tmp_path):
    src = tmp_path / "src"
    write_tar_gz(src / "a.tar.gz", tiny_course("A"))
    shutil.copy(src / "a.tar.gz", src / "copy.tar.gz")  # a duplicate
    (src / "bad.tar.gz").write_bytes(b"not an archive")  # rejected
    job = _job(src)
    run_course_archives(spark, config, job)
    ledger = job.table(config, "archives")

    direct = read_ledger_without_spark(config, job)
    assert direct == read_ledger_by_spark(spark, ledger)
    assert direct == read_ledger(spark, ledger, config.s3)  # pyarrow, at the catalog's location
    assert len(direct.unchanged) == 3 and len(direct.known_shas) == 1

    # Past a checkpoint (Delta writes one every N commits; N = 1 here).
    spark.sql(f"ALTER TABLE {ledger} SET TBLPROPERTIES ('delta.checkpointInterval' = '1')")
    write_tar_gz(src / "b.tar.gz", tiny_course("B"))
    run_course_archives(spark, config, job)
    log = Path(job.local_location(config, "archives")) / "_delta_log"
    assert list(log.glob("*.checkpoint*.parquet"))
    direct = read_ledger_without_spark(config, job)
    assert direct == read_ledger_by_spark(spark, ledger)
    assert direct == read_ledger(spark, ledger, config.s3)
    assert len(direct.unchanged) == 4 and len(direct.known_shas) == 2


def test_rerun_with_nothing_new_starts_no_spark(spark, config, tmp_path):
    src = tmp_path / "src"
    write_tar_gz(src / "a.tar.gz", tiny_course("A"))
    job = _job(src)
    run_course_archives(spark, config, job)

    def no_session(_: Config) -> Any:
        raise AssertionError("a run with nothing new built a Spark session")

    outcome = ingest_course_archives(config, job, no_session)

    assert (outcome.spark_used, outcome.precheck) == (False, "nothing new")
    summary = outcome.summary
    assert (summary.files_seen, summary.unchanged, summary.loaded) == (1, 1, 0)
    assert "nothing new to load" in summary.render()

    write_tar_gz(src / "b.tar.gz", tiny_course("B"))
    outcome = ingest_course_archives(config, job, lambda _: spark)

    assert (outcome.spark_used, outcome.precheck) == (True, "1 new or changed files")
    assert (outcome.summary.loaded, outcome.summary.unchanged) == (1, 1)
    assert spark.table(_table(config, "blocks")).count() == 12


def test_a_blocks_table_made_before_subtree_hash_gets_the_column(spark, config, tmp_path):
    # A warehouse of an older olx-spark: the blocks table without `subtree_hash`.
    old = table_schema("blocks").remove(table_schema("blocks").get_field_index("subtree_hash"))
    name = _table(config, "blocks")
    course_archives_job.ensure_table(
        spark, name, spark_schema_of(old), ["retrieved_date"], "blocks of an older version"
    )
    assert "subtree_hash" not in spark.table(name).columns
    # A transform's session prepares the tables (as `olx-spark transform` does before dbt):
    # the column is added, so dbt's staging finds it before the next ingest writes.
    course_archives_job.ensure_tables(spark, config, _job(tmp_path / "src"))
    assert spark.table(name).columns == table_schema("blocks").names
    # The job then fills it: a hash per block, all different.
    write_tar_gz(tmp_path / "src" / "tiny.tar.gz", tiny_course())
    assert run_course_archives(spark, config, _job(tmp_path / "src")).loaded == 1
    hashes = {b["block_type"]: b["subtree_hash"] for b in _rows(spark, config, "blocks")}
    assert all(h is not None and len(h) == 64 for h in hashes.values())
    assert len(set(hashes.values())) == len(hashes)


def test_only_the_staging_files_the_tasks_reported_are_read(spark, tmp_path):
    """A failed attempt leaves its files in the staging folder; they are never in a manifest,
    so no row of theirs is read (and a table no task wrote is empty, with its columns)."""
    schema = file_schema("edges")
    row = {f.name: None for f in schema} | {
        "archive_uri": "file:///a.tar.gz",
        "source_system": "prod",
        "archive_sha256": "ab" * 32,
        "retrieved_at": datetime(2025, 1, 2, tzinfo=UTC),
        "retrieved_date": datetime(2025, 1, 2).date(),
    }
    (tmp_path / "edges").mkdir()
    reported = tmp_path / "edges" / "part-0-1-x.parquet"
    failed = tmp_path / "edges" / "part-0-0-y.parquet"
    pq.write_table(pa.Table.from_pylist([row | {"position": 1}], schema), reported)
    pq.write_table(pa.Table.from_pylist([row | {"position": 9}], schema), failed)

    staged = staged_file_rows(spark, [{"table": "edges", "uri": reported.as_uri(), "rows": 1}])

    assert [r["position"] for r in staged("edges").collect()] == [1]
    pages = staged("pages")
    assert pages.count() == 0 and pages.columns == file_schema("pages").names


def test_staging_files_go_to_the_configured_folder_and_are_removed(spark, config, tmp_path):
    write_tar_gz(tmp_path / "src" / "tiny.tar.gz", tiny_course())
    folder = tmp_path / "staging dir é"  # a space and a non-ASCII letter: written as is
    staged_config = replace(config, ingest=replace(config.ingest, staging_dir=str(folder)))
    summary = run_course_archives(spark, staged_config, _job(tmp_path / "src"))

    assert summary.loaded == 1
    assert spark.table(_table(config, "blocks")).count() == sum(TINY_BLOCK_TYPES.values())
    assert folder.is_dir() and list(folder.iterdir()) == []  # the run's folder is gone


def test_ledger_read_by_pyarrow_at_the_catalogs_location_or_by_spark(
    spark, config, tmp_path, monkeypatch
):
    src = tmp_path / "src"
    write_tar_gz(src / "a.tar.gz", tiny_course("A"))
    job = _job(src)
    run_course_archives(spark, config, job)
    ledger = job.table(config, "archives")
    by_spark = read_ledger_by_spark(spark, ledger)
    assert len(by_spark.unchanged) == 1 and len(by_spark.known_shas) == 1

    def no_spark(*_: Any) -> Any:
        raise AssertionError("the ledger was read by Spark")

    with monkeypatch.context() as m:  # a local table: its Delta log is read with pyarrow
        m.setattr(course_archives_job, "read_ledger_by_spark", no_spark)
        assert read_ledger(spark, ledger, config.s3) == by_spark

    def unreadable(*_: Any) -> Any:
        raise UnsupportedDeltaTable("a log feature pyarrow lacks")

    with monkeypatch.context() as m:  # what pyarrow cannot vouch for, Spark reads
        m.setattr(course_archives_job, "read_columns", unreadable)
        assert read_ledger(spark, ledger, config.s3) == by_spark


def test_a_new_ledger_is_known_empty_only_where_the_run_makes_it(spark, config, tmp_path):
    """The parse starts beside the tables' creation only when the ledger is surely empty: a
    local session whose catalog has no ledger and whose ledger path holds no Delta log."""
    src = tmp_path / "src"
    write_tar_gz(src / "a.tar.gz", tiny_course("A"))
    job = _job(src)
    empty = course_archives_job.LedgerState(unchanged=set(), known_shas=frozenset())
    assert course_archives_job._new_ledger(spark, config, job) == empty
    on_a_cluster = replace(config, spark=replace(config.spark, mode="cluster"))
    assert course_archives_job._new_ledger(spark, on_a_cluster, job) is None

    summary = run_course_archives(spark, config, job)  # parses beside making the six tables
    assert (summary.loaded, summary.rows_written[course_table_name("edxorg", "archives")]) == (1, 1)
    assert course_archives_job._new_ledger(spark, config, job) is None  # now it has a log

    # A catalog that has the ledger though its usual path has no log (it lives elsewhere):
    # not known empty, whatever the path says.
    log = Path(job.local_location(config, "archives")) / "_delta_log"
    shutil.move(log, tmp_path / "moved_log")
    try:
        assert course_archives_job._new_ledger(spark, config, job) is None
    finally:
        shutil.move(tmp_path / "moved_log", log)


@pytest.mark.parametrize("direct_writes", [True, False], ids=["data-files", "staged-rows"])
def test_a_failed_table_write_leaves_no_ledger_row_and_the_rerun_loads_once(
    spark, config, tmp_path, monkeypatch, direct_writes: bool
):
    """The five content tables are written side by side: one failing fails the run after the
    others end, the ledger gets nothing, and the next run loads the archive exactly once. Both
    ways a table is written: the tasks' data files committed (the failure is the commit), or
    staged rows written by Spark."""
    src = tmp_path / "src"
    write_tar_gz(src / "a.tar.gz", tiny_course("A"))
    job = _job(src)
    config = replace(config, ingest=replace(config.ingest, direct_writes=direct_writes))
    name = "commit_files" if direct_writes else "replace_rows"
    real_write = getattr(course_writes, name)

    def edges_fail(spark_or_df: Any, location: str, *args: Any) -> Any:
        if location.rstrip("/").endswith(course_table_name("edxorg", "edges")):
            raise OSError("disk full while writing edges")
        return real_write(spark_or_df, location, *args)

    with monkeypatch.context() as m:
        m.setattr(course_writes, name, edges_fail)
        with pytest.raises(OSError, match="disk full while writing edges"):
            run_course_archives(spark, config, job)
    assert spark.table(_table(config, "archives")).count() == 0  # the ledger: nothing
    assert spark.table(_table(config, "edges")).count() == 0
    assert spark.table(_table(config, "blocks")).count() > 0  # committed beside the failure
    assert not list((Path(config.warehouse.dir) / "_olx_spark_staging").glob("*/*"))

    summary = run_course_archives(spark, config, job)

    assert (summary.loaded, summary.unchanged) == (1, 0)
    # Each table holds exactly what the rerun wrote: the failed run's committed rows were
    # replaced (deleted by the archive's sha256), not added to.
    once = _counts(spark, config)
    assert once == {e: summary.rows_written[course_table_name("edxorg", e)] for e in ENTITIES}
    assert once["archives"] == 1 and once["blocks"] > 0 and once["edges"] > 0


def test_a_failed_parse_is_the_error_raised_and_no_thread_outlives_the_run(
    spark, config, tmp_path, monkeypatch
):
    src = tmp_path / "src"
    write_tar_gz(src / "a.tar.gz", tiny_course("A"))
    tables_started = threading.Event()

    def tables_fail_later(*_: Any) -> dict[str, str]:
        tables_started.set()
        time.sleep(2.0)
        raise RuntimeError("no catalog")

    def parse_fails(*_: Any) -> Any:
        assert tables_started.wait(60)
        raise ValueError("the parse broke")

    monkeypatch.setattr(course_archives_job, "prepare_tables", tables_fail_later)
    monkeypatch.setattr(course_archives_job, "pack_tasks", parse_fails)
    # Staged rows: the tables are made beside the parse (data files wait for the tables).
    staged = replace(config, ingest=replace(config.ingest, direct_writes=False))
    with pytest.raises(ValueError, match="the parse broke"):
        run_course_archives(spark, staged, _job(src))
    assert not [t for t in threading.enumerate() if t.name.startswith("olx-spark-beside")]


def test_a_ledger_that_changed_since_it_was_read_is_not_used(spark, config, tmp_path):
    """A ledger handed in (read before Spark, perhaps before another run committed) is checked
    against the ledger table before anything is written; if they differ, the run is done again
    from the table's: here archive A, loaded meanwhile, stays unchanged, and its copy under
    another name is a duplicate, not loaded twice."""
    src = tmp_path / "src"
    write_tar_gz(src / "a.tar.gz", tiny_course("A"))
    job = _job(src)
    run_course_archives(spark, config, job)
    before = _counts(spark, config)
    shutil.copy(src / "a.tar.gz", src / "copy.tar.gz")
    stale = course_archives_job.LedgerState(unchanged=set(), known_shas=frozenset())

    summary = run_course_archives(spark, config, job, ledger=stale)

    assert (summary.files_seen, summary.unchanged, summary.loaded, summary.duplicates) == (
        2,
        1,
        0,
        1,
    )
    after = _counts(spark, config)
    assert after == {**before, "archives": before["archives"] + 1}
    statuses = {
        r["archive_uri"].rsplit("/", 1)[-1]: r["status"] for r in _rows(spark, config, "archives")
    }
    assert statuses == {"a.tar.gz": "loaded", "copy.tar.gz": "duplicate"}
