"""Step 3 of the data package job, on the driver: what the staged rows of a pass come to.

First the decisions over the pass's file rows (course ids resolved from content, files whose
content equals the last loaded copy marked `unchanged`), then the writing: every loaded file's
rows decoded with Spark's built-in functions and put in its table in one Delta transaction per
table (`replaceWhere file_uri IN ...`). The job (`olx_spark.spark.data_packages`) runs these per
pass and appends the ledger after them.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from functools import reduce
from typing import Any

import pyarrow as pa
from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from olx_spark.config import Config
from olx_spark.packages import names
from olx_spark.packages.staging import (
    KIND,
    KIND_BAD_LINE,
    KIND_CSV,
    KIND_FORUM,
    KIND_LINE,
    KIND_STRUCTURE,
)
from olx_spark.packages.tables import (
    BAD_LINES_TABLE,
    COURSE_STRUCTURE_TABLE,
    DUMP_FIELDS,
    FILE_FIELDS,
    FIXED_TABLES,
    FORUM_TABLE,
    PARTITION_COLUMN,
    STATUS_LOADED,
    STATUS_UNCHANGED,
    TABLE_COMMENTS,
    reserved_dump_columns,
    table_schema,
)
from olx_spark.packages.tsv import landed_columns
from olx_spark.spark.data_packages_ledger import FINAL_FILE
from olx_spark.spark.delta import (
    ensure_table,
    last_written_rows,
    qualified,
    replace_rows,
    table_location,
)
from olx_spark.spark.schemas import spark_schema_of

# Replaces `\\` while the other escapes are decoded; a Unicode noncharacter, never in text.
BACKSLASH_PLACEHOLDER = "\uffff"


def _table(config: Config, name: str) -> str:
    return qualified(config.warehouse.raw_schema, name)


# ---------------------------------------------------------------------------------------------
# Driver side: decisions over the staged file rows
# ---------------------------------------------------------------------------------------------


def resolve_course_ids(files: DataFrame, ledger: DataFrame) -> DataFrame:
    """Give every file of a course the course id its content spells, when any file of the course
    (in this pass, or before it in the ledger) says it: the `org/course/run` form of old courses
    is only known from content (a course_structure key, a `course_id` value, a forum document)."""
    key = [
        F.lower("org").alias("_org"),
        F.col("course").alias("_course"),
        F.col("run").alias("_run"),
    ]
    hinted = F.col("course_id_hint").isNotNull() & (F.col("file_kind") != names.KIND_COURSE_XML)
    in_pass = files.where(hinted).groupBy(*key).agg(F.max("course_id_hint").alias("_pass_hint"))
    before = (
        ledger.where(hinted)
        .groupBy(*key)
        .agg(F.max_by("course_id_hint", "retrieved_at").alias("_ledger_hint"))
    )
    joined = (
        files.select("*", *key)
        .join(in_pass, ["_org", "_course", "_run"], "left")
        .join(before, ["_org", "_course", "_run"], "left")
    )
    course_id = (
        F.when(F.col("file_kind") == names.KIND_COURSE_XML, F.col("course_id"))
        .when(F.col("course_id").isNull(), F.lit(None))
        .otherwise(F.coalesce("_pass_hint", "_ledger_hint", "course_id"))
    )
    return joined.select(
        *[course_id.alias(c) if c == "course_id" else F.col(c) for c in files.columns]
    )


def unchanged_files(files: DataFrame, ledger: DataFrame) -> DataFrame:
    """`file_uri`s of this pass's loaded files whose content (sha256) equals the copy before them
    for the same site, org, course and table: in package date order, over the ledger and this
    pass together (so a backfill of many packages keeps one copy per change)."""
    key = [
        F.col("source_system"),
        F.lower("org").alias("_org"),
        F.col("course_id"),
        F.col("target_table"),
    ]
    content = F.col("file_kind").isin(
        names.KIND_TABLE, names.KIND_EMAIL_OPT_IN, names.KIND_COURSE_STRUCTURE, names.KIND_FORUM
    )
    columns = [*key, "package_date", "file_uri", "file_sha256"]
    before = (
        ledger.where(content & F.col("status").isin(*FINAL_FILE))
        .select(*columns)
        .withColumn("_now", F.lit(False))
    )
    now = (
        files.where(content & (F.col("status") == STATUS_LOADED))
        .select(*columns)
        .withColumn("_now", F.lit(True))
    )
    order = Window.partitionBy("source_system", "_org", "course_id", "target_table").orderBy(
        "package_date", "_now", "file_uri"
    )
    return (
        before.unionByName(now)
        .withColumn("_previous", F.lag("file_sha256").over(order))
        .where(F.col("_now") & (F.col("_previous") == F.col("file_sha256")))
        .select("file_uri")
    )


def _decide(files: DataFrame, ledger: DataFrame, course_duplicates: set[str]) -> DataFrame:
    """This pass's file rows with course ids resolved and `unchanged` content marked."""
    files = resolve_course_ids(files, ledger)
    same = unchanged_files(files, ledger).withColumn("_same", F.lit(True))
    is_same = F.coalesce(F.col("_same"), F.lit(False))
    if course_duplicates:
        is_same = is_same | F.col("file_uri").isin(sorted(course_duplicates))
    status = (
        F.when((F.col("status") == STATUS_LOADED) & is_same, F.lit(STATUS_UNCHANGED))
        .otherwise(F.col("status"))
        .alias("status")
    )
    return files.join(same, "file_uri", "left").select(
        *[status if c == "status" else F.col(c) for c in files.columns]
    )


# ---------------------------------------------------------------------------------------------
# Driver side: writing
# ---------------------------------------------------------------------------------------------


def decode_field(value: Column) -> Column:
    """One dump field -> its value, with built-in functions only: `NULL` is null; `\\\\`, `\\t`,
    `\\n`, `\\r` are decoded in one left-to-right sense (escaped backslashes are set aside first,
    so `\\\\t` stays a backslash and a `t`); values without a backslash are left alone."""
    decoded = F.replace(value, F.lit("\\\\"), F.lit(BACKSLASH_PLACEHOLDER))
    for escape, char in (("\\t", "\t"), ("\\n", "\n"), ("\\r", "\r")):
        decoded = F.replace(decoded, F.lit(escape), F.lit(char))
    decoded = F.replace(decoded, F.lit(BACKSLASH_PLACEHOLDER), F.lit("\\"))
    return (
        F.when(value == F.lit("NULL"), F.lit(None).cast("string"))
        .when(~value.contains("\\"), value)
        .otherwise(decoded)
    )


@dataclass(frozen=True)
class LoadedFile:
    file_uri: str
    file_kind: str
    table_name: str | None
    target_table: str
    header: tuple[str, ...]


def dump_rows(staged: DataFrame, table: str, files: list[LoadedFile]) -> DataFrame:
    """The decoded rows of one dump table's loaded files: `file_uri`, `line_number`, then the
    columns of every header among them (a file lacking a column has nulls there)."""
    frames = []
    by_header: dict[tuple[str, ...], list[LoadedFile]] = defaultdict(list)
    for f in files:
        by_header[(f.file_kind, *f.header)].append(f)
    for (kind, *header), group in sorted(by_header.items()):
        columns = landed_columns(header, reserved_dump_columns())
        uris = sorted(f.file_uri for f in group)
        if kind == names.KIND_EMAIL_OPT_IN:
            part = staged.where((F.col(KIND) == KIND_CSV) & (F.col("table") == table))
            values = [F.col("_fields")[i].alias(c) for i, c in enumerate(columns)]
            fields = F.col("fields")
        else:
            part = staged.where((F.col(KIND) == KIND_LINE) & (F.col("table") == table))
            values = [decode_field(F.col("_fields")[i]).alias(c) for i, c in enumerate(columns)]
            fields = F.split(F.col("line"), "\t", -1)
        frames.append(
            part.where(F.col("file_uri").isin(uris))
            .select("file_uri", "line_number", fields.alias("_fields"))
            .select("file_uri", "line_number", *values)
        )
    return reduce(lambda a, b: a.unionByName(b, allowMissingColumns=True), frames)


def _with_file_columns(rows: DataFrame, meta: DataFrame, fields: list[pa.Field]) -> DataFrame:
    """`rows` (keyed by `file_uri`) with the file-level columns joined on, in table order."""
    declared = [f.name for f in fields]
    own = [c for c in rows.columns if c not in declared]
    joined = rows.join(F.broadcast(meta), "file_uri")
    return joined.select(*declared, *own)


def _ensure(spark: SparkSession, config: Config, name: str, comment: str) -> str:
    qualified_name = _table(config, name)
    if not spark.catalog.tableExists(qualified_name):
        ensure_table(
            spark,
            qualified_name,
            spark_schema_of(table_schema(name)),
            [PARTITION_COLUMN],
            comment,
        )
    return table_location(spark, qualified_name)


@dataclass
class PassResult:
    """What one pass read: one small row per file (statuses, errors) for the summary."""

    files: list[Any] = field(default_factory=list)
    rows_written: dict[str, int] = field(default_factory=dict)


def _write_tables(
    spark: SparkSession,
    config: Config,
    staged: DataFrame,
    files_df: DataFrame,
    loaded: list[LoadedFile],
    result: PassResult,
) -> None:
    meta = files_df.where(F.col("status") == STATUS_LOADED).select(
        *[f.name for f in FILE_FIELDS], "target_table"
    )
    file_meta = meta.drop("target_table")
    by_target: dict[str, list[LoadedFile]] = defaultdict(list)
    for f in loaded:
        by_target[f.target_table].append(f)

    def write(name: str, rows: DataFrame, uris: list[str], comment: str) -> None:
        spark.sparkContext.setJobDescription(f"write {name}")
        location = _ensure(spark, config, name, comment)
        replace_rows(rows, location, "file_uri", uris)
        result.rows_written[name] = last_written_rows(spark, location)

    for target, group in sorted(by_target.items()):
        uris = [f.file_uri for f in group]
        kind = group[0].file_kind
        if kind in (names.KIND_TABLE, names.KIND_EMAIL_OPT_IN):
            table = group[0].table_name or ""
            rows = _with_file_columns(dump_rows(staged, table, group), file_meta, DUMP_FIELDS)
            comment = f"Rows of the `{table}` files of edX research data packages (values as text)."
            write(target, rows, uris, comment)
        elif kind == names.KIND_COURSE_STRUCTURE:
            part = staged.where(F.col(KIND) == KIND_STRUCTURE).select("file_uri", "structure.*")
            rows = _with_file_columns(part, file_meta, FIXED_TABLES[COURSE_STRUCTURE_TABLE])
            write(target, rows, uris, TABLE_COMMENTS[COURSE_STRUCTURE_TABLE])
        elif kind == names.KIND_FORUM:
            part = staged.where(F.col(KIND) == KIND_FORUM).select(
                "file_uri", "forum.*", "line_number"
            )
            rows = _with_file_columns(part, file_meta, FIXED_TABLES[FORUM_TABLE])
            write(target, rows, uris, TABLE_COMMENTS[FORUM_TABLE])

    bad_uris = [f.file_uri for f in loaded if f.file_kind != names.KIND_COURSE_XML]
    if bad_uris:
        bad = staged.where(F.col(KIND) == KIND_BAD_LINE).select(
            "file_uri", "line_number", "reason", "line"
        )
        rows = bad.join(F.broadcast(meta), "file_uri").select(
            *[f.name for f in FIXED_TABLES[BAD_LINES_TABLE]]
        )
        write(BAD_LINES_TABLE, rows, bad_uris, TABLE_COMMENTS[BAD_LINES_TABLE])


def _course_archive_rows(staged: DataFrame) -> list[Any]:
    """The course archive ledger rows of course exports read in this pass (one per export)."""
    return (
        staged.where(F.col(KIND) == "archives")
        .select(
            "archives.archive_uri", "archives.archive_sha256", "archives.status", "archives.errors"
        )
        .collect()
    )
