"""Landing parsed course archives in the six course tables, once they are parsed: the content
tables first (side by side), the `archives` ledger last. Shared by the course archive job and
the data package job (course exports inside packages).

A content table gets its rows one of two ways:
- `CourseDataFiles`: the tasks wrote the table's data files themselves, in the table's folder
  (`olx_spark.storage.delta_files`), and the driver only commits them (`commit_files`). The
  course archive job does this wherever the tables are local or on S3 and the session has
  open-source Delta's API (`olx_spark.spark.delta_commit`).
- `StagedRows`: the rows are staged (files the tasks wrote, or the data package job's wide
  staging), and Spark reads and writes them (`replaceWhere archive_sha256 IN ...`).

Either way the rows of the archives loaded in a run replace any rows of the same bytes a killed
earlier run committed (that run never wrote its ledger rows, so the archives are read again),
and the ledger goes in last, with an insert-only MERGE (`append_ledger_rows`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from olx_spark.config import Config, S3Config
from olx_spark.olx.arrow import ARCHIVE_URI, KIND, file_schema
from olx_spark.olx.tables import (
    CONTENT_ENTITIES,
    PARTITION_COLUMN,
    STATUS_DUPLICATE,
    STATUS_LOADED,
    course_table_name,
    table_schema,
)
from olx_spark.spark.delta import (
    append_ledger_rows,
    delete_path,
    last_written_rows,
    qualified,
    replace_rows,
    table_location,
)
from olx_spark.spark.delta_commit import commit_files
from olx_spark.spark.schemas import spark_schema_of
from olx_spark.spark.session import local_table_location
from olx_spark.spark.side_by_side import run_side_by_side
from olx_spark.storage.delta_files import TableTarget, add_action, rewrite_without


@dataclass(frozen=True)
class CourseArchiveJob:
    """What one run of the course archive job needs (all picklable, shipped to executors)."""

    source: str
    platform: str
    source_system: str

    def table(self, config: Config, entity: str) -> str:
        return qualified(config.warehouse.raw_schema, course_table_name(self.platform, entity))

    def local_location(self, config: Config, entity: str) -> str:
        """Where a local session keeps the table (the catalog is asked when Spark runs)."""
        return local_table_location(config, course_table_name(self.platform, entity))


# A file as listed; a row for it with a hash is final (`ledger_state`; without one it is retried).
LEDGER_IDENTITY = ("archive_uri", "archive_size_bytes", "archive_modified_at")


def _read_for_good(col: Callable[[str], Column]) -> Column:
    """`ledger_state`'s rule as a Spark condition: a row with a hash needs no further reading."""
    return F.coalesce(col("archive_sha256"), F.lit("")) != ""


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


StagedRows = Callable[[str], DataFrame]
"""A course table's staged rows: `archive_uri` (the archive they came from) and the table's
columns (`olx_spark.olx.arrow.file_schema`)."""


def wide_staged_rows(staged: DataFrame) -> StagedRows:
    """The rows of each table in the wide staging layout (`olx_spark.olx.arrow.staging_schema`,
    as the data package job stages course exports)."""

    def rows(entity: str) -> DataFrame:
        columns = [f"{entity}.*"] if entity == "archives" else [ARCHIVE_URI, f"{entity}.*"]
        return staged.where(F.col(KIND) == entity).select(*columns)

    return rows


def _ledger_frame(archives: DataFrame, duplicates: set[str]) -> DataFrame:
    """This run's ledger rows, with in-run duplicates marked (no shuffle: a literal set)."""
    if not duplicates:
        return archives
    status = (
        F.when(F.col("archive_uri").isin(sorted(duplicates)), F.lit(STATUS_DUPLICATE))
        .otherwise(F.col("status"))
        .alias("status")
    )
    return archives.select(*[status if c == "status" else F.col(c) for c in archives.columns])


def write_course_rows(
    spark: SparkSession,
    config: Config,
    job: CourseArchiveJob,
    staged: StagedRows,
    ledger_rows: list[Any],
    duplicates: set[str],
    locations: Mapping[str, str] | None = None,
    data_files: CourseDataFiles | None = None,
) -> dict[str, int]:
    """Land parsed archives in the job's tables; returns the rows written per table.

    `staged(entity)` gives a table's rows as parsed (`StagedRows`; only the `archives` ledger's
    when `data_files` holds the content tables' files), `ledger_rows` one small row per archive
    parsed (`archive_uri`, `archive_sha256`, `status`) and `duplicates` the URIs of archives
    whose bytes another archive of the same run has. For each content table, the rows of the
    archives loaded here replace any rows of the same bytes (what a killed earlier run left
    behind is replaced, not duplicated); the ledger rows are appended last. `locations` are the
    tables' (by entity) if the caller has them already."""
    loaded = {
        r["archive_uri"]: r["archive_sha256"]
        for r in ledger_rows
        if r["status"] == STATUS_LOADED and r["archive_uri"] not in duplicates
    }

    def where(entity: str) -> str:
        return locations[entity] if locations else table_location(spark, job.table(config, entity))

    def write(entity: str) -> int:
        location = where(entity)
        if data_files is not None:
            return data_files.commit(spark, entity, location, loaded)
        rows = staged(entity).where(F.col(ARCHIVE_URI).isin(sorted(loaded))).drop(ARCHIVE_URI)
        replace_rows(rows, location, "archive_sha256", loaded.values())
        return last_written_rows(spark, location)

    # The content tables side by side (one's commit overlaps another's tasks); the ledger last.
    entities = CONTENT_ENTITIES if loaded else ()
    written = run_side_by_side(spark, {f"write {e}": partial(write, e) for e in entities})
    rows_written = {course_table_name(job.platform, e): written[f"write {e}"] for e in entities}
    spark.sparkContext.setJobDescription("write the archives ledger")
    append_ledger_rows(
        spark,
        _ledger_frame(staged("archives"), duplicates),
        where("archives"),
        LEDGER_IDENTITY,
        _read_for_good,
    )
    rows_written[course_table_name(job.platform, "archives")] = len(ledger_rows)
    return rows_written


def staged_file_rows(spark: SparkSession, manifest: list[Any]) -> StagedRows:
    """Each table's rows from exactly the staging files the tasks' manifests name (an empty
    frame for a table no task wrote)."""
    files: dict[str, list[str]] = {}
    for row in manifest:
        files.setdefault(row["table"], []).append(row["uri"])

    def rows(entity: str) -> DataFrame:
        schema = spark_schema_of(file_schema(entity))
        if entity not in files:
            return spark.createDataFrame([], schema)
        return spark.read.schema(schema).parquet(*sorted(files[entity]))

    return rows


def table_target(location: str, entity: str) -> TableTarget:
    """Where and how a course table's data files go (`olx_spark.storage.delta_files`)."""
    return TableTarget(location, table_schema(entity), PARTITION_COLUMN)


@dataclass
class CourseDataFiles:
    """The data files the tasks wrote into the content tables' folders (manifest rows by table),
    with the targets they were written for. `commit` lands one table's; `obsolete` lists files
    never committed that nothing will commit (a rewritten file's original)."""

    targets: Mapping[str, TableTarget]
    files: Mapping[str, list[dict[str, Any]]]
    s3: S3Config
    obsolete: list[str]

    @classmethod
    def of(
        cls, targets: Mapping[str, TableTarget], manifest: list[dict[str, Any]], s3: S3Config
    ) -> CourseDataFiles:
        files: dict[str, list[dict[str, Any]]] = {}
        for row in manifest:
            if row.get("location") is not None:
                files.setdefault(row["table"], []).append(row)
        return cls(targets, files, s3, [])

    def uris(self) -> list[str]:
        return [row["uri"] for rows in self.files.values() for row in rows]

    def commit(
        self,
        spark: SparkSession,
        entity: str,
        location: str,
        loaded: Mapping[str, str],
    ) -> int:
        """Commit `entity`'s files to the table at `location`, with the rows of the `loaded`
        archives (URI -> bytes' hash) only: a file holding rows of any other (an archive
        whose bytes another of this run has) is rewritten without them first. Any rows of the
        loaded archives' bytes the table holds already (a killed run's) are replaced
        (`commit_files`; with no file to add, they are only deleted); returns the rows
        added."""
        kept: list[dict[str, Any]] = []
        for row in self.files.get(entity, []):
            excluded = {a["uri"] for a in row["archives"]} - loaded.keys()
            if not excluded:
                kept.append(row)
                continue
            tag = f"driver-{uuid.uuid4().hex[:8]}"
            kept += rewrite_without(row, excluded, self.targets[entity], tag, self.s3)
            self.obsolete.append(row["uri"])
        commit_files(
            spark,
            location,
            [add_action(r, PARTITION_COLUMN) for r in kept],
            [PARTITION_COLUMN],
            self.targets[entity].data_schema.names,
            ("archive_sha256", list(loaded.values())),
            self.s3,
        )
        return sum(r["rows"] for r in kept)

    def delete(self, spark: SparkSession, uris: list[str]) -> None:
        """Delete files never committed (the run is parsed again, or they were rewritten)."""
        for uri in uris:
            delete_path(spark, uri)
