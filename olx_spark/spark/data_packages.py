"""The data package job: list packages, read each new file once on an executor, land every table
in Delta, and record every package and file in the ledger last.

Flow of one run (packages in date order, `packages.packages_per_batch` per pass):
0. Before Spark (`ingest_data_packages`): list the source and, for a local session, read the
   ledger straight from its Delta log with pyarrow. If every package is complete and every
   other listed file final (a run would read and write nothing), the run ends there without a
   Spark session; otherwise, or if the log cannot be read with confidence, Spark runs. What the
   ledger says, however read: `olx_spark.spark.data_packages_ledger`.
1. Driver (`olx_spark.spark.data_packages_plan`): list the source (zips, and loose files of
   already unzipped packages), drop packages the ledger has completely with the same name, size
   and time, read the central directory of the others (only that: a few ranged reads) and drop
   members the ledger already has final. Pack the rest into tasks, largest first: one member is
   one unit of work, so a big package spreads over the whole cluster.
2. Executors (`mapInArrow`): stream each member's bytes, decrypt (gpg, no plaintext on disk),
   and emit raw dump lines in bulk, decoded JSON rows, course archive rows, and each file's
   ledger row last (`olx_spark.packages.member`). All of it is staged once as Parquet.
3. Driver, on Spark (`olx_spark.spark.data_packages_land`): resolve course ids (the older
   `org/course/run` form when the content says so), and mark `unchanged` every file whose
   content equals the last loaded copy for the same site, course and table. Then, per table:
   split and decode the loaded files' lines with Spark's built-in functions (columns named from
   each file's header, schema evolving), and replace the rows of those files in one Delta
   transaction (`replaceWhere file_uri IN ...`), so rows a killed run left behind are replaced,
   not duplicated. The ledger is appended last (this module: `_run_pass`).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import partial, reduce
from typing import Any

import pyarrow as pa
from pyspark.broadcast import Broadcast
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from olx_spark.config import Config
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
    KIND_FILE,
    staging_schema,
)
from olx_spark.packages.tables import (
    FIXED_TABLES,
    LEDGER_FIELDS,
    LEDGER_TABLE,
    PLATFORM,
    STATUS_INCOMPLETE,
    STATUS_LOADED,
    STATUS_REJECTED,
    STATUS_UNCHANGED,
    TABLE_COMMENTS,
)
from olx_spark.spark.course_archives import ensure_tables as ensure_course_tables
from olx_spark.spark.course_archives import read_ledger as read_course_ledger
from olx_spark.spark.course_writes import (
    CourseArchiveJob,
    _duplicates_in_run,
    wide_staged_rows,
    write_course_rows,
)
from olx_spark.spark.data_packages_land import (
    LoadedFile,
    PassResult,
    _course_archive_rows,
    _decide,
    _ensure,
    _table,
    _write_tables,
)
from olx_spark.spark.data_packages_ledger import (
    LEDGER_IDENTITY,
    LedgerState,
    _final_row,
    read_ledger_state,
    read_ledger_without_spark,
)
from olx_spark.spark.data_packages_plan import (
    PackageUnit,
    RunPlan,
    _error,
    _loose_tasks,
    _task_identity,
    _zip_tasks,
    ledger_row,
    plan_run,
    plan_units,
)
from olx_spark.spark.delta import (
    append_ledger_rows,
    delete_path,
    last_written_rows,
    table_location,
)
from olx_spark.spark.precheck import IngestOutcome, run_unless_nothing_new
from olx_spark.spark.run_lock import DATA_PACKAGES, course_archives
from olx_spark.spark.schemas import spark_schema_of
from olx_spark.spark.tasks import TaskSizing, pack_tasks, task_input_frame
from olx_spark.storage.listing import EPOCH, SourceFile, list_source
from olx_spark.summary import FileWarning, IngestSummary

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
# Driver side: a pass (read, decide, write, the ledger last), and the run
# ---------------------------------------------------------------------------------------------


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


def _read_staged(
    spark: SparkSession,
    config: Config,
    tasks: list[MemberTask],
    settings: ReadSettings,
    staging: str,
) -> DataFrame:
    """Read every task's file on the executors, once, into the staging folder."""
    known = read_course_ledger(spark, COURSE_JOB.table(config, "archives"), config.s3).known_shas
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
                        spark,
                        config,
                        COURSE_JOB,
                        wide_staged_rows(staged),
                        archive_rows,
                        course_duplicates,
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
