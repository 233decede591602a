"""The data package job: list packages, read each new file once on an executor, land every table
in Delta, and record every package and file in the ledger last.

Flow of one run (packages in date order, `packages.packages_per_batch` per pass):
0. Before Spark (`ingest_data_packages`): list the source and, for a local session, read the
   ledger straight from its Delta log with pyarrow. If every package is complete and every
   other listed file final (a run would read and write nothing), the run ends there without a
   Spark session; otherwise, or if the log cannot be read with confidence, Spark runs.
1. Driver: list the source (zips, and loose files of already unzipped packages), drop packages
   the ledger has completely with the same name, size and time, read the central directory of
   the others (only that: a few ranged reads) and drop members the ledger already has final.
   Pack the rest into tasks, largest first: one member is one unit of work, so a big package
   spreads over the whole cluster.
2. Executors (`mapInArrow`): stream each member's bytes, decrypt (gpg, no plaintext on disk),
   and emit raw dump lines in bulk, decoded JSON rows, course archive rows, and each file's
   ledger row last (`olx_spark.packages.member`). All of it is staged once as Parquet.
3. Driver, on Spark: resolve course ids (the older `org/course/run` form when the content says
   so), and mark `unchanged` every file whose content equals the last loaded copy for the same
   site, course and table. Then, per table: split and decode the loaded files' lines with Spark's
   built-in functions (columns named from each file's header, schema evolving), and replace the
   rows of those files in one Delta transaction (`replaceWhere file_uri IN ...`), so rows a killed
   run left behind are replaced, not duplicated. The ledger is appended last.
"""

from __future__ import annotations

import time
import uuid
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import partial, reduce
from typing import Any, NamedTuple
from urllib.parse import unquote

import pyarrow as pa
from pyspark.broadcast import Broadcast
from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from olx_spark.config import Config
from olx_spark.olx.tables import ENTITIES, course_table_name
from olx_spark.packages import names
from olx_spark.packages.gpg import GpgSettings, gpg_settings
from olx_spark.packages.member import (
    TASK_SCHEMA,
    MemberTask,
    ReadSettings,
    read_member,
    task_from_row,
)
from olx_spark.packages.staging import (
    KIND,
    KIND_BAD_LINE,
    KIND_CSV,
    KIND_FILE,
    KIND_FORUM,
    KIND_LINE,
    KIND_STRUCTURE,
    staging_schema,
)
from olx_spark.packages.tables import (
    BAD_LINES_TABLE,
    COURSE_STRUCTURE_TABLE,
    DUMP_FIELDS,
    FILE_FIELDS,
    FIXED_TABLES,
    FORUM_TABLE,
    LEDGER_FIELDS,
    LEDGER_TABLE,
    PARSER_VERSION,
    PARTITION_COLUMN,
    PLATFORM,
    STATUS_INCOMPLETE,
    STATUS_LOADED,
    STATUS_REJECTED,
    STATUS_UNCHANGED,
    TABLE_COMMENTS,
    reserved_dump_columns,
    table_schema,
)
from olx_spark.packages.tsv import landed_columns
from olx_spark.packages.zipmembers import list_members
from olx_spark.spark.course_archives import (
    CourseArchiveJob,
    _duplicates_in_run,
    write_course_rows,
)
from olx_spark.spark.course_archives import ensure_tables as ensure_course_tables
from olx_spark.spark.course_archives import read_ledger as read_course_ledger
from olx_spark.spark.delta import (
    append_ledger_rows,
    delete_path,
    ensure_table,
    last_written_rows,
    qualified,
    replace_rows,
    table_location,
)
from olx_spark.spark.precheck import IngestOutcome, read_ledger_columns, run_unless_nothing_new
from olx_spark.spark.run_lock import DATA_PACKAGES, course_archives
from olx_spark.spark.schemas import spark_schema_of
from olx_spark.spark.session import local_table_location
from olx_spark.spark.tasks import TaskSizing, pack_tasks, task_input_frame
from olx_spark.storage.listing import EPOCH, SourceFile, list_source, to_micros
from olx_spark.storage.ranges import open_seekable
from olx_spark.summary import FileWarning, IngestSummary

# Replaces `\\` while the other escapes are decoded; a Unicode noncharacter, never in text.
BACKSLASH_PLACEHOLDER = "\uffff"
FINAL_FILE = (STATUS_LOADED, STATUS_UNCHANGED)

Identity = tuple[str, int, int]  # (URI, size, modification time in microseconds)
JOB_NAME = "ingest data-packages"
# Where course exports found in packages land: the course archive job's edxorg tables (only its
# platform matters here; every row carries the package's own site as `source_system`).
COURSE_JOB = CourseArchiveJob("", PLATFORM, "prod")


@dataclass(frozen=True)
class DataPackageJob:
    """One run's arguments; `None` falls back to config (`packages.*`)."""

    source: str
    gnupg_home: str | None = None
    passphrase_env: str | None = None

    def gpg_settings(self, config: Config) -> GpgSettings:
        """The keyring and passphrase (`PassphraseError`, `KeyringError` if config points
        nowhere)."""
        return gpg_settings(
            config.packages, gnupg_home=self.gnupg_home, passphrase_env=self.passphrase_env
        )


def _table(config: Config, name: str) -> str:
    return qualified(config.warehouse.raw_schema, name)


# ---------------------------------------------------------------------------------------------
# Executor side
# ---------------------------------------------------------------------------------------------


def read_partition(
    batches: Iterable[pa.RecordBatch],
    *,
    settings: ReadSettings,
    known_course_shas: Broadcast[frozenset[str]],
) -> Iterator[pa.RecordBatch]:
    for batch in batches:
        for row in batch.select(TASK_SCHEMA.names).to_pylist():
            yield from read_member(task_from_row(row), settings, known_course_shas.value)


# ---------------------------------------------------------------------------------------------
# Driver side: what to read
# ---------------------------------------------------------------------------------------------


@dataclass
class PackageUnit:
    """A package: a zip, or a folder of its files already unzipped (`loose`)."""

    uri: str
    org: str
    package_date: date
    zip: SourceFile | None = None
    loose: list[SourceFile] = field(default_factory=list)


def ledger_row(**values: Any) -> dict[str, Any]:
    """A ledger row made on the driver (rejections found while listing, package rows)."""
    now = values.pop("retrieved_at", None) or datetime.now(UTC)
    row: dict[str, Any] = {f.name: None for f in LEDGER_FIELDS}
    row.update(
        retrieved_at=now,
        retrieved_date=now.date(),
        errors=[],
        retryable=False,
        parser_version=PARSER_VERSION,
    )
    row.update(values)
    return row


def _error(path: str | None, kind: str, message: str) -> dict[str, str | None]:
    return {"path": path, "kind": kind, "message": message}


def plan_units(
    files: list[SourceFile], package_suffix: str
) -> tuple[list[PackageUnit], list[dict[str, Any]]]:
    """Listed files -> packages in date order, and ledger rows for files that are no package."""
    units: dict[str, PackageUnit] = {}
    rejected: list[dict[str, Any]] = []
    for f in files:
        source = {
            "source_uri": f.uri,
            "source_size_bytes": f.size,
            "source_modified_at": f.modified_at,
            "file_uri": f.uri,
        }
        if f.uri.lower().endswith(package_suffix):
            parsed = names.parse_package_name(f.uri)
            if parsed is None:
                rejected.append(
                    ledger_row(
                        **source,
                        package_uri=f.uri,
                        file_kind=names.KIND_PACKAGE,
                        status=STATUS_REJECTED,
                        errors=[
                            _error(
                                None,
                                "not_a_package",
                                "a data package is named {org}-{YYYY-MM-DD}.zip",
                            )
                        ],
                    )
                )
                continue
            units[f.uri] = PackageUnit(f.uri, parsed.org, parsed.package_date, zip=f)
            continue
        found = names.package_of_path(f.uri)
        if found is None:
            rejected.append(
                ledger_row(
                    **source,
                    member_path=f.uri.rsplit("/", 1)[-1],
                    file_kind=names.KIND_UNKNOWN,
                    status=STATUS_REJECTED,
                    errors=[
                        _error(
                            None,
                            "no_package",
                            "a file of an unzipped package must be inside a folder named like "
                            "the package, {org}-{YYYY-MM-DD}",
                        )
                    ],
                )
            )
            continue
        folder, parsed = found
        unit = units.setdefault(folder, PackageUnit(folder, parsed.org, parsed.package_date))
        unit.loose.append(f)
    ordered = sorted(units.values(), key=lambda u: (u.package_date, u.uri))
    return ordered, rejected


@dataclass
class LedgerState:
    complete_packages: dict[Identity, int]  # package identity -> members it had
    final_files: set[Identity]  # (file_uri, source size, source time) already final


class LedgerRow(NamedTuple):
    """The ledger columns that decide what a run reads (`LEDGER_COLUMNS`), however read."""

    file_kind: str | None
    status: str | None
    retryable: bool | None
    file_uri: str | None
    source_uri: str | None
    source_size_bytes: int | None
    source_modified_micros: int | None  # `source_modified_at` in microseconds
    member_count: int | None


LEDGER_COLUMNS = [
    "file_kind",
    "status",
    "retryable",
    "file_uri",
    "source_uri",
    "source_size_bytes",
    "source_modified_at",
    "member_count",
]


def _is_final(row: LedgerRow) -> bool:
    """A file (or package) that needs no further reading: loaded, unchanged, or rejected for
    good (a `retryable` rejection is read again)."""
    return row.status in FINAL_FILE or (row.status == STATUS_REJECTED and not row.retryable)


def _final_file() -> Column:
    """`_is_final` as a Spark filter (it only narrows what is collected; `_is_final` decides)."""
    return F.col("status").isin(*FINAL_FILE) | (
        (F.col("status") == STATUS_REJECTED) & ~F.coalesce(F.col("retryable"), F.lit(False))
    )


# A package or file as listed (with the file inside it): a row final for it is never rewritten.
LEDGER_IDENTITY = ("file_kind", "file_uri", "source_uri", "source_size_bytes", "source_modified_at")


def _final_row(col: Callable[[str], Column]) -> Column:
    """`_is_final` as a condition on the row `col` gives the columns of (for the ledger MERGE)."""
    return col("status").isin(*FINAL_FILE) | (
        (col("status") == STATUS_REJECTED) & ~F.coalesce(col("retryable"), F.lit(False))
    )


def complete_packages(rows: Iterable[LedgerRow]) -> dict[Identity, int]:
    """Package identity (what was listed: URI, size, time) -> its member count, for every package
    the ledger has final (`loaded`, or `rejected` for good; not `incomplete`)."""
    return {
        (r.source_uri, r.source_size_bytes, r.source_modified_micros): int(r.member_count or 0)
        for r in rows
        if r.file_kind == names.KIND_PACKAGE
        and _is_final(r)
        and r.source_uri is not None
        and r.source_size_bytes is not None
        and r.source_modified_micros is not None
    }


def ledger_sources(
    units: list[PackageUnit], complete: dict[Identity, int], others: list[str]
) -> set[str]:
    """The listed objects whose files' ledger rows a run needs: zips not complete, loose files,
    and the files rejected while listing (`others`)."""
    sources = {u.zip.uri for u in units if u.zip and u.zip.identity not in complete}
    return sources | {f.uri for u in units for f in u.loose} | set(others)


def final_files(rows: Iterable[LedgerRow], sources: set[str]) -> set[Identity]:
    """(file_uri, listed size, listed time) of every file of `sources` the ledger has final."""
    return {
        (r.file_uri, r.source_size_bytes, r.source_modified_micros)
        for r in rows
        if r.file_kind is not None
        and r.file_kind != names.KIND_PACKAGE
        and r.source_uri in sources
        and _is_final(r)
        and r.file_uri is not None
        and r.source_size_bytes is not None
        and r.source_modified_micros is not None
    }


def ledger_state(
    rows: Iterable[LedgerRow], units: list[PackageUnit], others: list[str]
) -> LedgerState:
    """What the ledger says about these packages, from its rows however read (Spark or the Delta
    log directly): which are complete, which of their files are final."""
    rows = list(rows)
    complete = complete_packages(rows)
    return LedgerState(complete, final_files(rows, ledger_sources(units, complete, others)))


def _ledger_select() -> list[Column]:
    return [
        F.unix_micros(c).alias(c) if c == "source_modified_at" else F.col(c) for c in LEDGER_COLUMNS
    ]


def read_ledger_state(
    spark: SparkSession, ledger: DataFrame, units: list[PackageUnit], others: list[str]
) -> LedgerState:
    """`ledger_state` read with Spark. Only package rows and the rows of listed sources are read
    back (a semi-join), never content rows."""
    is_package = F.col("file_kind") == names.KIND_PACKAGE
    packages = [
        LedgerRow(*r)
        for r in ledger.where(is_package & _final_file()).select(*_ledger_select()).collect()
    ]
    sources = ledger_sources(units, complete_packages(packages), others)
    files: list[LedgerRow] = []
    if sources:
        wanted = spark.createDataFrame([(s,) for s in sorted(sources)], "source_uri string")
        files = [
            LedgerRow(*r)
            for r in ledger.where(~is_package & _final_file())
            .join(F.broadcast(wanted), "source_uri", "left_semi")
            .select(*_ledger_select())
            .collect()
        ]
    return ledger_state([*packages, *files], units, others)


def _job_tables(config: Config) -> list[tuple[str, str]]:
    """(name, local location) of the tables every run creates: the fixed package tables and the
    course tables (dump tables come and go with the dumps found, and are not needed to decide)."""
    tables = [*FIXED_TABLES, *(course_table_name(PLATFORM, e) for e in ENTITIES)]
    return [(name, local_table_location(config, name)) for name in tables]


def read_ledger_without_spark(
    config: Config, units: list[PackageUnit], others: list[str]
) -> LedgerState:
    """`ledger_state` of a local session's warehouse, read from the ledger's Delta log with
    pyarrow (raises whenever Spark must decide instead: `precheck.read_ledger_columns`)."""
    table = read_ledger_columns(
        config, _job_tables(config), local_table_location(config, LEDGER_TABLE), LEDGER_COLUMNS
    )
    columns = [
        table.column(c).cast(pa.int64()) if c == "source_modified_at" else table.column(c)
        for c in LEDGER_COLUMNS
    ]
    rows = zip(*(c.to_pylist() for c in columns), strict=True)
    return ledger_state((LedgerRow(*r) for r in rows), units, others)


@dataclass
class RunPlan:
    """What a run must read, from the listing and the ledger, before any package is opened."""

    todo: list[PackageUnit] = field(default_factory=list)  # zips not complete, unzipped folders
    listing_rows: list[dict[str, Any]] = field(default_factory=list)  # rejections, not yet final
    # Listed objects that need nothing: complete zips, final loose files and listing rejections
    # (`SourceFile.identity`s, as `precheck.run_unless_nothing_new` compares the listing with).
    unchanged: set[Identity] = field(default_factory=set)
    files_seen: int = 0  # package files counted so far (a complete zip counts its members)
    files_unchanged: int = 0

    @property
    def files_if_nothing_new(self) -> int:
        """The files a run that reads nothing counts (seen, and all unchanged)."""
        return self.files_seen + sum(len(u.loose) for u in self.todo)


def plan_run(
    units: list[PackageUnit], listing_rows: list[dict[str, Any]], state: LedgerState
) -> RunPlan:
    """Leave out what the ledger already has final: complete packages and listing rejections
    (loose files are left out per file, in `_run_pass`)."""
    plan = RunPlan()
    for unit in units:
        if unit.zip is not None and unit.zip.identity in state.complete_packages:
            members = state.complete_packages[unit.zip.identity]
            plan.files_seen += members
            plan.files_unchanged += members
            plan.unchanged.add(unit.zip.identity)
        else:
            plan.todo.append(unit)
            plan.unchanged.update(f.identity for f in unit.loose if f.identity in state.final_files)
    for row in listing_rows:
        plan.files_seen += 1
        identity = (row["file_uri"], row["source_size_bytes"], to_micros(row["source_modified_at"]))
        if identity in state.final_files or identity in state.complete_packages:
            plan.files_unchanged += 1
            plan.unchanged.add(identity)
        else:
            plan.listing_rows.append(row)
    return plan


def _zip_tasks(unit: PackageUnit, config: Config) -> tuple[list[MemberTask], dict[str, Any] | None]:
    """The members of a package zip (from its central directory), or its rejection row."""
    assert unit.zip is not None
    z = unit.zip
    try:
        with open_seekable(z.uri, z.size, config.s3) as handle:
            members = list_members(handle)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError) as exc:
        kind, message, retryable = "not_a_zip", f"the package is not a readable zip ({exc})", False
    except Exception as exc:  # storage clients raise many kinds
        kind, retryable = "unreadable", True
        message = f"the package could not be read ({type(exc).__name__}: {exc}); retried next run"
    else:
        return [
            MemberTask(
                file_uri=f"{z.uri}!/{m.path}",
                source_uri=z.uri,
                source_size_bytes=z.size,
                source_modified_at=z.modified_at,
                package_uri=z.uri,
                package_date=unit.package_date,
                org=unit.org,
                member_path=m.path,
                header_offset=m.header_offset,
                compress_size=m.compress_size,
                file_size=m.file_size,
                compress_type=m.compress_type,
                crc=m.crc,
                flag_bits=m.flag_bits,
            )
            for m in members
        ], None
    return [], ledger_row(
        file_uri=z.uri,
        package_uri=z.uri,
        source_uri=z.uri,
        source_size_bytes=z.size,
        source_modified_at=z.modified_at,
        package_date=unit.package_date,
        org=unit.org,
        file_kind=names.KIND_PACKAGE,
        status=STATUS_REJECTED,
        retryable=retryable,
        errors=[_error(None, kind, message)],
    )


def _loose_tasks(unit: PackageUnit) -> list[MemberTask]:
    return [
        MemberTask(
            file_uri=f.uri,
            source_uri=f.uri,
            source_size_bytes=f.size,
            source_modified_at=f.modified_at,
            package_uri=unit.uri,
            package_date=unit.package_date,
            org=unit.org,
            member_path=unquote(f.uri[len(unit.uri) + 1 :]),
        )
        for f in unit.loose
    ]


def _task_identity(task: MemberTask) -> Identity:
    modified = task.source_modified_at
    return (task.file_uri, task.source_size_bytes, to_micros(modified) if modified else -1)


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


@dataclass(frozen=True)
class FileOutcome:
    """One file's (or package's) fate in a pass, for the summary."""

    uri: str
    package_uri: str | None
    is_package: bool
    status: str
    retryable: bool
    errors: list[dict[str, str | None]]


def _outcome(row: Any) -> FileOutcome:
    get = row.__getitem__
    errors = [e if isinstance(e, dict) else e.asDict() for e in (get("errors") or [])]
    return FileOutcome(
        uri=get("file_uri"),
        package_uri=get("package_uri"),
        is_package=get("file_kind") == names.KIND_PACKAGE,
        status=get("status"),
        retryable=bool(get("retryable")),
        errors=errors,
    )


def _package_rows(
    units: list[PackageUnit], member_counts: dict[str, int], outcomes: list[FileOutcome]
) -> list[dict[str, Any]]:
    """One ledger row per package read in this pass: `incomplete` if a member must be retried."""
    retry = {o.package_uri for o in outcomes if o.status == STATUS_REJECTED and o.retryable}
    rows = []
    for unit in units:
        if unit.uri not in member_counts:
            continue
        z = unit.zip
        incomplete = unit.uri in retry
        rows.append(
            ledger_row(
                file_uri=unit.uri,
                package_uri=unit.uri,
                source_uri=z.uri if z else unit.uri,
                source_size_bytes=z.size if z else sum(f.size for f in unit.loose),
                source_modified_at=z.modified_at if z else max(f.modified_at for f in unit.loose),
                package_date=unit.package_date,
                org=unit.org,
                file_kind=names.KIND_PACKAGE,
                member_count=member_counts[unit.uri],
                status=STATUS_INCOMPLETE if incomplete else STATUS_LOADED,
                retryable=incomplete,
                errors=[_error(None, "incomplete", "some files will be read again next run")]
                if incomplete
                else [],
            )
        )
    return rows


def _driver_rows_frame(spark: SparkSession, rows: list[dict[str, Any]]) -> DataFrame:
    schema = pa.schema(LEDGER_FIELDS)
    return spark.createDataFrame(pa.Table.from_pylist(rows, schema=schema))


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


def _read_staged(
    spark: SparkSession,
    config: Config,
    tasks: list[MemberTask],
    settings: ReadSettings,
    staging: str,
) -> DataFrame:
    """Read every task's file on the executors, once, into the staging folder."""
    known = read_course_ledger(spark, COURSE_JOB.table(config, "archives")).known_shas
    read = partial(
        read_partition,
        settings=settings,
        known_course_shas=spark.sparkContext.broadcast(known),
    )
    as_files = [SourceFile(t.file_uri, t.stored_size, t.source_modified_at or EPOCH) for t in tasks]
    by_uri = {t.file_uri: t for t in tasks}
    packed = [
        [by_uri[f.uri] for f in task]
        for task in pack_tasks(as_files, config.packages.max_read_tasks, TaskSizing.of(spark))
    ]
    spark.sparkContext.setJobDescription(f"read {len(tasks)} data package files")
    (
        task_input_frame(spark, packed, TASK_SCHEMA)
        .mapInArrow(read, spark_schema_of(staging_schema()))
        .write.partitionBy(KIND, "table")
        .parquet(staging)
    )
    return spark.read.schema(spark_schema_of(staging_schema())).parquet(staging)


def _run_pass(
    spark: SparkSession,
    config: Config,
    units: list[PackageUnit],
    state: LedgerState,
    settings: ReadSettings,
    summary: IngestSummary,
    listing_rows: list[dict[str, Any]],
) -> PassResult:
    """Read, decide and write one pass of packages; the ledger commit is its last step."""
    result = PassResult()
    ledger_location = table_location(spark, _table(config, LEDGER_TABLE))
    driver_rows = list(listing_rows)
    tasks: list[MemberTask] = []
    member_counts: dict[str, int] = {}
    for unit in units:
        if unit.zip is not None:
            unit_tasks, rejected = _zip_tasks(unit, config)
            if rejected is not None:
                driver_rows.append(rejected)
                continue
        else:
            unit_tasks = _loose_tasks(unit)
        new = [t for t in unit_tasks if _task_identity(t) not in state.final_files]
        if unit.zip is not None or new:  # a folder gets a package row when files of it are read
            member_counts[unit.uri] = len(unit_tasks)
        summary.files_seen += len(unit_tasks)
        summary.unchanged += len(unit_tasks) - len(new)
        tasks += new

    staging = f"{spark.conf.get('spark.sql.warehouse.dir')}/_olx_spark_staging/{uuid.uuid4().hex}"
    # Read now, after the passes before this one committed: their rows count as "before".
    ledger = spark.read.format("delta").load(ledger_location)
    try:
        files_df: DataFrame | None = None
        outcomes: list[FileOutcome] = []
        if tasks:
            staged = _read_staged(spark, config, tasks, settings, staging)
            archive_rows = _course_archive_rows(staged)
            course_duplicates = _duplicates_in_run(archive_rows) if archive_rows else set()
            files = staged.where(F.col(KIND) == KIND_FILE).select(f"{KIND_FILE}.*")
            spark.sparkContext.setJobDescription("decide what is new")
            _decide(files, ledger, course_duplicates).write.parquet(f"{staging}/_files")
            files_df = spark.read.schema(spark_schema_of(pa.schema(LEDGER_FIELDS))).parquet(
                f"{staging}/_files"
            )
            file_rows = files_df.select(
                "file_uri",
                "package_uri",
                "file_kind",
                "table_name",
                "target_table",
                "header",
                "status",
                "retryable",
                "errors",
            ).collect()
            outcomes = [_outcome(r) for r in file_rows]
            loaded = [
                LoadedFile(
                    r["file_uri"],
                    r["file_kind"],
                    r["table_name"],
                    r["target_table"],
                    tuple(r["header"] or ()),
                )
                for r in file_rows
                if r["status"] == STATUS_LOADED and r["file_kind"] != names.KIND_COURSE_XML
            ]
            if loaded:
                _write_tables(spark, config, staged, files_df, loaded, result)
            if archive_rows:
                # Course exports go to the course archive job's tables, by its rules: the same
                # bytes already loaded (or earlier in this pass) are a `duplicate`, not written.
                result.rows_written.update(
                    write_course_rows(
                        spark, config, COURSE_JOB, staged, archive_rows, course_duplicates
                    )
                )

        driver_rows += _package_rows(units, member_counts, outcomes)
        frames = [files_df] if files_df is not None else []
        if driver_rows:
            frames.append(_driver_rows_frame(spark, driver_rows))
        if frames:
            spark.sparkContext.setJobDescription("write the data package ledger")
            append_ledger_rows(
                spark,
                reduce(DataFrame.unionByName, frames),
                ledger_location,
                LEDGER_IDENTITY,
                _final_row,
            )
            result.rows_written[LEDGER_TABLE] = last_written_rows(spark, ledger_location)
        result.files = outcomes + [
            _outcome(r)
            for r in driver_rows
            if r["file_kind"] != names.KIND_PACKAGE or r["status"] == STATUS_REJECTED
        ]
    finally:
        delete_path(spark, staging)
    return result


def _summarise(summary: IngestSummary, result: PassResult) -> None:
    for o in result.files:
        if o.status == STATUS_LOADED:
            summary.loaded += 1
            summary.loaded_with_errors += bool(o.errors)
        elif o.status == STATUS_UNCHANGED:
            summary.duplicates += 1
        elif o.status == STATUS_REJECTED:
            summary.rejected += 1
        if o.errors and o.status in (STATUS_LOADED, STATUS_REJECTED):
            status = "retry" if o.retryable else o.status
            summary.warnings.append(FileWarning(o.uri, status, o.errors))
    for table, n in result.rows_written.items():
        summary.rows_written[table] = summary.rows_written.get(table, 0) + n


def ensure_tables(spark: SparkSession, config: Config) -> None:
    """The fixed package tables, and the course tables course exports land in."""
    for name in FIXED_TABLES:
        _ensure(spark, config, name, TABLE_COMMENTS[name])
    ensure_course_tables(spark, config, COURSE_JOB)


def run_data_packages(
    spark: SparkSession,
    config: Config,
    job: DataPackageJob,
    files: list[SourceFile] | None = None,
) -> IngestSummary:
    """One run on Spark: every new package file under `job.source`, in package date order.
    `files` is the source's listing if the caller already made it."""
    started = time.monotonic()
    pc = config.packages
    summary = IngestSummary(job=JOB_NAME, source=job.source)
    settings = ReadSettings(
        gpg=job.gpg_settings(
            config
        ),  # a missing keyring or passphrase stops here, before Spark work
        limits=config.limits,
        s3=config.s3,
        chunk_bytes=pc.chunk_bytes,
        max_line_bytes=pc.max_line_bytes,
        max_errors_per_file=pc.max_errors_per_file,
    )
    ensure_tables(spark, config)
    if files is None:
        files = list_source(job.source, pc.suffixes, config.s3)
    units, listing_rows = plan_units(files, pc.package_suffix)
    ledger = spark.read.format("delta").load(table_location(spark, _table(config, LEDGER_TABLE)))
    state = read_ledger_state(spark, ledger, units, [r["source_uri"] for r in listing_rows])
    plan = plan_run(units, listing_rows, state)
    summary.files_seen += plan.files_seen
    summary.unchanged += plan.files_unchanged

    step = max(1, pc.packages_per_batch)
    for start in range(0, max(len(plan.todo), 1), step):
        chunk = plan.todo[start : start + step]
        extra = plan.listing_rows if start == 0 else []
        if not chunk and not extra:
            break
        result = _run_pass(spark, config, chunk, state, settings, summary, extra)
        _summarise(summary, result)
    summary.seconds = time.monotonic() - started
    return summary


def ingest_data_packages(
    config: Config, job: DataPackageJob, session: Callable[[Config], SparkSession]
) -> IngestOutcome:
    """The job as the CLI and spark-submit run it: the keyring and passphrase checked first (a
    missing one fails before anything is read), "nothing new" decided without Spark when the
    ledger can be read from its Delta log (every package complete, every loose file and every
    rejection final: a run would read and write nothing), else `session(config)` and Spark."""
    started = time.monotonic()
    job.gpg_settings(config)
    pc = config.packages
    files = list_source(job.source, pc.suffixes, config.s3)
    units, listing_rows = plan_units(files, pc.package_suffix)
    plans: list[RunPlan] = []

    def plan_without_spark() -> RunPlan:
        others = [r["source_uri"] for r in listing_rows]
        plans.append(
            plan_run(units, listing_rows, read_ledger_without_spark(config, units, others))
        )
        return plans[-1]

    outcome = run_unless_nothing_new(
        JOB_NAME,
        job.source,
        files,
        plan_without_spark,
        lambda: run_data_packages(session(config), config, job, files),
        started,
        config=config,
        # Course exports in packages land in the edxorg course tables: their lock too.
        locks=(DATA_PACKAGES, course_archives(PLATFORM)),
    )
    if not outcome.spark_used:
        # Count package files, not listed objects, as a run on Spark does (a zip: its members).
        outcome.summary.files_seen = outcome.summary.unchanged = plans[-1].files_if_nothing_new
    return outcome
