"""The course archive job: list a source, parse each new archive once on an executor, land the
six course tables in Delta, and record every archive in the `archives` ledger last.

Flow of one run:
1. Driver: list the source (metadata only) and drop files the ledger already has with the same
   name, size and time. Pack the rest into tasks, largest first, so a huge archive gets a task
   of its own and never serialises the run.
2. Executors (`mapInArrow`): stream each archive once, parse it, and emit Arrow batches in the
   staging layout (`olx_spark.olx.arrow`). An archive whose bytes the ledger already holds is
   marked `duplicate` and contributes no rows. Everything is written once to a staging Parquet
   folder, so nothing is parsed twice even though six tables are written from it.
3. Driver: for each content table, replace the rows of the archives loaded in this run
   (`replaceWhere archive_sha256 IN ...`: rows a killed earlier run left behind are replaced, not
   duplicated), then append the ledger rows last. A run killed anywhere before that last commit
   is simply done again by the next run.
"""

from __future__ import annotations

import heapq
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

import pyarrow as pa
from pyspark.broadcast import Broadcast
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import LongType, StringType, StructField, StructType, TimestampType

from olx_spark.config import Config, S3Config
from olx_spark.olx.arrow import ARCHIVE_URI, KIND, ArchiveSource, parsed_to_batches
from olx_spark.olx.model import ArchiveError, Limits, ParsedArchive
from olx_spark.olx.tables import (
    CONTENT_ENTITIES,
    ENTITIES,
    PARTITION_COLUMN,
    STATUS_DUPLICATE,
    STATUS_LOADED,
    course_table_name,
)
from olx_spark.spark.delta import (
    append_rows,
    delete_path,
    ensure_table,
    last_written_rows,
    qualified,
    replace_rows,
    table_location,
)
from olx_spark.spark.schemas import spark_schema, staging_spark_schema
from olx_spark.storage.listing import SourceFile, list_source
from olx_spark.storage.reading import open_uri
from olx_spark.summary import FileWarning, IngestSummary

INPUT_SCHEMA = StructType(
    [
        StructField("uri", StringType(), False),
        StructField("size", LongType(), False),
        StructField("modified_at", TimestampType(), True),
    ]
)

TABLE_COMMENTS = {
    "archives": "Ledger: one row per course archive read (loaded, duplicate or rejected).",
    "blocks": "One row per block definition in a course archive (published, draft or orphan).",
    "edges": "One row per parent -> child link between blocks.",
    "policies": "One row per setting in a policy JSON file of a course archive.",
    "pages": "One row per about/info/tabs/custom page of a course archive.",
    "static_files": "One row per static file of a course archive (hashed, bytes not kept).",
}


@dataclass(frozen=True)
class CourseArchiveJob:
    """What one run of the course archive job needs (all picklable, shipped to executors)."""

    source: str
    platform: str
    source_system: str

    def table(self, config: Config, entity: str) -> str:
        return qualified(config.warehouse.raw_schema, course_table_name(self.platform, entity))


# ---------------------------------------------------------------------------------------------
# Executor side
# ---------------------------------------------------------------------------------------------


def read_archive(source: ArchiveSource, limits: Limits, s3: S3Config) -> ParsedArchive:
    """Parse one archive. The parser turns everything wrong with the archive into a rejection;
    what is left to catch here is failing to open or read the file at all (retried next run)."""
    from olx_spark.olx.parse import parse_course_archive

    try:
        with open_uri(source.uri, s3) as stream:
            return parse_course_archive(stream, source.uri.rsplit("/", 1)[-1], limits)
    except Exception as exc:  # storage and network errors come in many classes
        return ParsedArchive(
            archive_sha256="",
            archive_size_bytes=source.size,
            rejection=ArchiveError(
                None,
                "unreadable",
                f"cannot read the file ({type(exc).__name__}: {exc}); it will be retried next run",
            ),
        )


def parse_partition(
    batches: Iterable[pa.RecordBatch],
    *,
    job: CourseArchiveJob,
    limits: Limits,
    s3: S3Config,
    known_shas: Broadcast[frozenset[str]],
) -> Iterator[pa.RecordBatch]:
    for batch in batches:
        for row in batch.to_pylist():
            source = ArchiveSource(row["uri"], row["size"], row["modified_at"])
            retrieved_at = datetime.now(UTC)
            parsed = read_archive(source, limits, s3)
            status = parsed.status
            if status == STATUS_LOADED and parsed.archive_sha256 in known_shas.value:
                status = STATUS_DUPLICATE
            yield from parsed_to_batches(
                parsed,
                source,
                source_system=job.source_system,
                retrieved_at=retrieved_at,
                status=status,
            )


# ---------------------------------------------------------------------------------------------
# Driver side
# ---------------------------------------------------------------------------------------------


def pack_tasks(files: list[SourceFile], max_tasks: int) -> list[list[SourceFile]]:
    """Longest-processing-time packing: largest archives first, each into the lightest task."""
    if not files:
        return []
    n_tasks = max(1, min(len(files), max_tasks))
    heap = [(0, i) for i in range(n_tasks)]
    tasks: list[list[SourceFile]] = [[] for _ in range(n_tasks)]
    for f in sorted(files, key=lambda f: (-f.size, f.uri)):
        load, i = heapq.heappop(heap)
        tasks[i].append(f)
        heapq.heappush(heap, (load + max(f.size, 1), i))
    return tasks


@dataclass(frozen=True)
class LedgerState:
    unchanged: set[tuple[str, int, int]]  # SourceFile.identity of every file already read
    known_shas: frozenset[str]  # bytes already loaded (under any name)


def read_ledger(spark: SparkSession, ledger_table: str) -> LedgerState:
    """The ledger's file identities (one small row per archive ever seen, never content rows)."""
    rows = (
        spark.table(ledger_table)
        .where(F.col("archive_sha256") != "")
        .select(
            "archive_uri",
            "archive_size_bytes",
            F.unix_micros("archive_modified_at").alias("modified_micros"),
            "archive_sha256",
            "status",
        )
        .distinct()
        .collect()
    )
    unchanged = {(r[0], r[1], r[2]) for r in rows if r[2] is not None}
    known = frozenset(r[3] for r in rows if r[4] in (STATUS_LOADED, STATUS_DUPLICATE))
    return LedgerState(unchanged=unchanged, known_shas=known)


def ensure_tables(spark: SparkSession, config: Config, job: CourseArchiveJob) -> None:
    for entity in ENTITIES:
        ensure_table(
            spark,
            job.table(config, entity),
            spark_schema(entity),
            [PARTITION_COLUMN],
            TABLE_COMMENTS[entity],
        )


def _input_frame(spark: SparkSession, tasks: list[list[SourceFile]]) -> DataFrame:
    # One slice per task: parallelize splits a list of N elements into N slices of one each.
    rdd = (
        spark.sparkContext.parallelize(tasks, len(tasks))
        .flatMap(lambda task: task)
        .map(lambda f: (f.uri, f.size, f.modified_at))
    )
    return spark.createDataFrame(rdd, INPUT_SCHEMA)


def _duplicates_in_run(rows: list[Any]) -> set[str]:
    """URIs of loaded archives whose bytes another archive of this run (first by URI) has."""
    first: dict[str, str] = {}
    dupes = set()
    for r in sorted(rows, key=lambda r: r["archive_uri"]):
        if r["status"] != STATUS_LOADED:
            continue
        if r["archive_sha256"] in first:
            dupes.add(r["archive_uri"])
        else:
            first[r["archive_sha256"]] = r["archive_uri"]
    return dupes


def _ledger_frame(staged: DataFrame, duplicates: set[str]) -> DataFrame:
    """This run's ledger rows, with in-run duplicates marked (no shuffle: a literal set)."""
    archives = staged.where(F.col(KIND) == "archives").select("archives.*")
    if not duplicates:
        return archives
    status = (
        F.when(F.col("archive_uri").isin(sorted(duplicates)), F.lit(STATUS_DUPLICATE))
        .otherwise(F.col("status"))
        .alias("status")
    )
    return archives.select(*[status if c == "status" else F.col(c) for c in archives.columns])


def _summarise(summary: IngestSummary, ledger_rows: list[Any], duplicates: set[str]) -> None:
    for r in ledger_rows:
        if r["archive_uri"] in duplicates:
            summary.duplicates += 1
        elif r["status"] == STATUS_LOADED:
            summary.loaded += 1
            summary.loaded_with_errors += bool(r["errors"])
        elif r["status"] == STATUS_DUPLICATE:
            summary.duplicates += 1
        else:
            summary.rejected += 1
        if r["errors"] and r["status"] != STATUS_DUPLICATE:
            errors = [e.asDict() for e in r["errors"]]
            summary.warnings.append(FileWarning(r["archive_uri"], r["status"], errors))


def run_course_archives(
    spark: SparkSession, config: Config, job: CourseArchiveJob
) -> IngestSummary:
    started = time.monotonic()
    summary = IngestSummary(job="ingest course-archives", source=job.source)
    ensure_tables(spark, config, job)
    ledger_table = job.table(config, "archives")

    files = list_source(job.source, config.ingest.archive_suffixes, config.s3)
    summary.files_seen = len(files)
    ledger = read_ledger(spark, ledger_table)
    new = [f for f in files if f.identity not in ledger.unchanged]
    summary.unchanged = len(files) - len(new)
    if not new:
        summary.seconds = time.monotonic() - started
        return summary

    staging = f"{spark.conf.get('spark.sql.warehouse.dir')}/_olx_spark_staging/{uuid.uuid4().hex}"
    try:
        known = spark.sparkContext.broadcast(ledger.known_shas)
        parse = partial(
            parse_partition, job=job, limits=config.limits, s3=config.s3, known_shas=known
        )
        tasks = pack_tasks(new, config.ingest.max_parse_tasks)
        spark.sparkContext.setJobDescription(f"parse {len(new)} course archives")
        (
            _input_frame(spark, tasks)
            .mapInArrow(parse, staging_spark_schema())
            .write.partitionBy(KIND)
            .parquet(staging)
        )
        staged = spark.read.schema(staging_spark_schema()).parquet(staging)
        # One small row per archive: statuses, hashes and errors, for the summary and the writes.
        ledger_rows = (
            staged.where(F.col(KIND) == "archives")
            .select(
                "archives.archive_uri",
                "archives.archive_sha256",
                "archives.status",
                "archives.errors",
            )
            .collect()
        )
        duplicates = _duplicates_in_run(ledger_rows)
        _summarise(summary, ledger_rows, duplicates)
        loaded = {
            r["archive_uri"]: r["archive_sha256"]
            for r in ledger_rows
            if r["status"] == STATUS_LOADED and r["archive_uri"] not in duplicates
        }

        if loaded:
            for entity in CONTENT_ENTITIES:
                spark.sparkContext.setJobDescription(f"write {entity}")
                rows = staged.where(
                    (F.col(KIND) == entity) & F.col(ARCHIVE_URI).isin(list(loaded))
                ).select(f"{entity}.*")
                location = table_location(spark, job.table(config, entity))
                replace_rows(rows, location, "archive_sha256", loaded.values())
                summary.rows_written[course_table_name(job.platform, entity)] = last_written_rows(
                    spark, location
                )
        spark.sparkContext.setJobDescription("write the archives ledger")
        append_rows(_ledger_frame(staged, duplicates), table_location(spark, ledger_table))
        summary.rows_written[course_table_name(job.platform, "archives")] = len(ledger_rows)
    finally:
        delete_path(spark, staging)
    summary.seconds = time.monotonic() - started
    return summary
