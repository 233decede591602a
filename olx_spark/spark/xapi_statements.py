"""The xAPI job: tracking log events already landed -> xAPI statements, once per log file.

Flow of one run:
1. Driver: the tracking log ledger's written files (loaded/partial) minus the files the xAPI
   ledger already has (and, with `--since`, minus logs dated before it): one small row per file.
2. Spark (JVM, built-in functions): the events of those files, with the user named by
   `context.user_id`, else `data.user_id`, and `username`, else `data.username`
   (`get_json_object` only where the typed column is empty); the actor mapping joined in (by
   user id, else by username) when one is configured; the course's display name joined in from
   the course tables (latest published `course` block per course id, both platforms).
3. Executors (`mapInArrow`, `olx_spark.xapi.batch`): one transformer per event (the registry),
   statement ids from the spec's formula, statements as JSON, written straight to
   `xapi__statements` (`replaceWhere source_file_sha256 IN ...`: a killed run's leftovers are
   replaced, not duplicated). Only statements cross back to the JVM.
4. Spark: the files' events with no statement written (an anti-join on file and line, columns
   only) are counted by name and reason into `xapi__skipped_events`; the reason is told from the
   event as the executors tell it (`skip_reason`). Optionally the statements go out as JSON lines
   under `--out` (one folder per statement date). The ledger rows are appended last.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import date
from functools import partial

import pyarrow as pa
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.pandas.types import from_arrow_schema

from olx_spark.config import Config, S3Config
from olx_spark.olx.tables import PLATFORMS, course_table_name
from olx_spark.spark import delta
from olx_spark.spark.delta import (
    append_ledger_rows,
    qualified,
    replace_rows,
    table_location,
)
from olx_spark.spark.precheck import read_ledger_columns
from olx_spark.spark.run_lock import XAPI, commit_conflicts_explained, run_turn
from olx_spark.spark.schemas import spark_schema_of
from olx_spark.spark.session import local_table_location
from olx_spark.storage.listing import is_s3
from olx_spark.storage.upload import UPLOADED_SCHEMA, JsonLinesTarget, upload_json_lines
from olx_spark.tracking.tables import EVENTS_TABLE, WRITTEN_STATUSES
from olx_spark.tracking.tables import LEDGER_TABLE as TRACKING_LEDGER
from olx_spark.tracking.tables import TABLES as TRACKING_TABLES
from olx_spark.xapi.batch import SKIP_NOT_IN_MAPPING, BatchSettings, transform_batches
from olx_spark.xapi.registry import (
    SKIP_INCOMPLETE,
    SKIP_NO_TRANSFORMER,
    SKIP_NO_USER,
    event_names,
)
from olx_spark.xapi.tables import (
    INPUT_FIELDS,
    LEDGER_FIELDS,
    LEDGER_TABLE,
    NO_DICTIONARY_COLUMNS,
    NO_STATS_COLUMNS,
    OUTPUT_FIELDS,
    SKIPPED_TABLE,
    STATEMENT_FIELDS,
    STATEMENTS_TABLE,
    TABLE_COMMENTS,
    TABLE_PARTITIONS,
    TABLES,
)

JOB_NAME = "xapi"
MAPPING_COLUMNS = ("user_id", "username", "external_user_id")


class XapiSetupError(ValueError):
    """The run cannot start as configured (LMS URL, salt, actor mapping); the message says why."""


@dataclass(frozen=True)
class XapiJob:
    """One run's arguments; `None` falls back to config (`xapi.*`)."""

    since: date | None = None
    lms_root_url: str | None = None
    actor_map: str | None = None
    out: str | None = None

    def table(self, config: Config, name: str) -> str:
        return qualified(config.warehouse.raw_schema, name)

    def actor_map_of(self, config: Config) -> str:
        return self.actor_map if self.actor_map is not None else config.xapi.actor_map

    def settings(self, config: Config) -> BatchSettings:
        """The executors' settings, checked: a bad URL or a missing salt fails before Spark."""
        url = self.lms_root_url if self.lms_root_url is not None else config.xapi.lms_root_url
        if not url:
            raise XapiSetupError(
                "no LMS root URL: pass --lms-root-url https://lms.example.org or set "
                "xapi.lms_root_url in the config (it is the actors' homePage and the base of "
                "every object IRI)"
            )
        if not (url.startswith("https://") or url.startswith("http://")) or " " in url:
            raise XapiSetupError(f"--lms-root-url {url!r} is not an http(s) URL")
        mapping = bool(self.actor_map_of(config))
        salt = ""
        if not mapping:
            env = config.xapi.actor_salt_env
            salt = os.environ.get(env, "")
            if not salt:
                raise XapiSetupError(
                    f"no actor mapping and no pseudonym salt: set the environment variable {env} "
                    "to a long random secret (keep it: a new salt gives every learner a new "
                    "actor id), or pass --actor-map TABLE_OR_CSV (user_id, username, "
                    "external_user_id)"
                )
        return BatchSettings(
            lms_root_url=url.rstrip("/"),
            transformer_version=config.xapi.transformer_version,
            salt=salt,
            mapping=mapping,
        )


@dataclass
class XapiSummary:
    """What a run did: files, events, statements, and the events that gave none, by reason."""

    files_pending: int = 0  # tracking log files not transformed yet (after --since)
    files_transformed: int = 0
    events_read: int = 0
    statements_written: int = 0
    skipped: dict[str, int] = field(default_factory=dict)  # "reason: event name" -> count
    out: str | None = None
    seconds: float = 0.0

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, default=str)

    def render(self, max_skipped: int = 15) -> str:
        lines = [
            "olx-spark xapi",
            f"  log files transformed  {self.files_transformed:>12,}",
            f"  events read            {self.events_read:>12,}",
            f"  statements written     {self.statements_written:>12,}",
            f"  events skipped         {sum(self.skipped.values()):>12,}",
        ]
        if not self.files_transformed:
            lines.append("  nothing new to transform")
        top = sorted(self.skipped.items(), key=lambda kv: (-kv[1], kv[0]))
        for key, count in top[:max_skipped]:
            lines.append(f"    {count:>12,}  {key}")
        if len(top) > max_skipped:
            lines.append(f"    ... and {len(top) - max_skipped} more (see {SKIPPED_TABLE})")
        if self.out:
            lines.append(f"  JSON lines written to {self.out}")
        lines.append(f"  time                   {self.seconds:>11.1f}s")
        return "\n".join(lines)


def ensure_tables(spark: SparkSession, config: Config) -> None:
    delta.ensure_tables(
        spark,
        config.warehouse.raw_schema,
        TABLES,
        TABLE_PARTITIONS,
        TABLE_COMMENTS,
        NO_STATS_COLUMNS,
        NO_DICTIONARY_COLUMNS,
    )


def pending_files(spark: SparkSession, config: Config, job: XapiJob) -> DataFrame:
    """(file_sha256, file_uri, log_date) of landed logs not transformed yet."""
    tracking_ledger = job.table(config, TRACKING_LEDGER)
    if not spark.catalog.tableExists(tracking_ledger):
        raise XapiSetupError(
            "no tracking logs in this warehouse yet: run `olx-spark ingest tracking-logs "
            "SOURCE` first"
        )
    landed = (
        spark.table(tracking_ledger)
        .where(F.col("status").isin(*WRITTEN_STATUSES))
        .groupBy("file_sha256")
        .agg(F.max("file_uri").alias("file_uri"), F.max("log_date").alias("log_date"))
    )
    if job.since is not None:
        landed = landed.where(F.col("log_date").isNull() | (F.col("log_date") >= F.lit(job.since)))
    done = spark.table(job.table(config, LEDGER_TABLE)).select(
        F.col("source_file_sha256").alias("file_sha256")
    )
    return landed.join(done, "file_sha256", "left_anti")


def course_names(spark: SparkSession, config: Config) -> DataFrame | None:
    """(course_id, course_name): the latest published course title per course, or None."""
    frames = []
    for platform in PLATFORMS:
        name = qualified(config.warehouse.raw_schema, course_table_name(platform, "blocks"))
        if spark.catalog.tableExists(name):
            frames.append(
                spark.table(name)
                .where((F.col("block_type") == "course") & ~F.col("is_draft"))
                .select("course_id", "block_title", "retrieved_at")
            )
    if not frames:
        return None
    blocks = frames[0]
    for frame in frames[1:]:
        blocks = blocks.unionByName(frame)
    return (
        blocks.where(F.col("block_title").isNotNull())
        .groupBy("course_id")
        .agg(F.max_by("block_title", "retrieved_at").alias("course_name"))
    )


def actor_mapping(spark: SparkSession, config: Config, source: str) -> DataFrame:
    """The mapping table or CSV as (user_id bigint, username, external_user_id)."""
    if source.lower().endswith(".csv"):
        frame = spark.read.option("header", "true").csv(source)
    else:
        name = source if "." in source else qualified(config.warehouse.raw_schema, source)
        if not spark.catalog.tableExists(name.replace("`", "")):
            raise XapiSetupError(f"actor map {source!r}: no such table (or name a .csv file)")
        frame = spark.table(name)
    missing = [c for c in MAPPING_COLUMNS if c not in frame.columns]
    if missing:
        raise XapiSetupError(
            f"actor map {source!r} lacks the columns {', '.join(missing)} "
            f"(needs {', '.join(MAPPING_COLUMNS)})"
        )
    return frame.select(
        F.expr("try_cast(user_id AS BIGINT)").alias("user_id"),
        F.nullif(F.trim("username"), F.lit("")).alias("username"),
        F.nullif(F.trim("external_user_id"), F.lit("")).alias("external_user_id"),
    ).where(F.col("external_user_id").isNotNull())


def event_inputs(spark: SparkSession, config: Config, job: XapiJob, shas: list[str]) -> DataFrame:
    """The events of the files `shas`, shaped like `olx_spark.xapi.tables.INPUT_FIELDS`."""
    events = spark.table(job.table(config, EVENTS_TABLE)).where(F.col("file_sha256").isin(shas))
    frame = events.select(
        "file_sha256",
        "line_number",
        F.coalesce(F.nullif("event_name", F.lit("")), F.col("event_type")).alias("name"),
        "event_source",
        "event_time_raw",
        "session",
        "page",
        "referer",
        "course_id",
        "org_id",
        "event_json",
        "context_json",
        F.coalesce(
            F.col("user_id"),
            F.expr("try_cast(get_json_object(event_json, '$.user_id') AS BIGINT)"),
        ).alias("actor_user_id"),
        F.coalesce(
            F.nullif("username", F.lit("")),
            F.get_json_object("event_json", "$.username"),
        ).alias("actor_username"),
    )
    source = job.actor_map_of(config)
    if source:
        mapping = actor_mapping(spark, config, source)
        by_id = (
            mapping.where(F.col("user_id").isNotNull())
            .dropDuplicates(["user_id"])
            .select(F.col("user_id").alias("_map_uid"), F.col("external_user_id").alias("_by_id"))
        )
        by_name = (
            mapping.where(F.col("username").isNotNull())
            .dropDuplicates(["username"])
            .select(
                F.col("username").alias("_map_uname"), F.col("external_user_id").alias("_by_name")
            )
        )
        frame = (
            frame.join(by_id, frame.actor_user_id == by_id._map_uid, "left")
            .join(by_name, frame.actor_username == by_name._map_uname, "left")
            .withColumn("external_user_id", F.coalesce("_by_id", "_by_name"))
        )
    else:
        frame = frame.withColumn("external_user_id", F.lit(None).cast("string"))
    names = course_names(spark, config)
    if names is not None:
        frame = frame.join(F.broadcast(names), "course_id", "left")
    else:
        frame = frame.withColumn("course_name", F.lit(None).cast("string"))
    return frame.select(*[f.name for f in INPUT_FIELDS])


def transform_partition(
    batches: Iterable[pa.RecordBatch], *, settings: BatchSettings
) -> Iterator[pa.RecordBatch]:
    return transform_batches(batches, settings, emit_skips=False)


def skip_reason(mapping: bool) -> Column:
    """Why an event gave no statement, told by Spark from the event alone, in the order
    `olx_spark.xapi.batch` checks: no transformer for its name, no user (or none in the
    mapping), else `incomplete` (its transformer found a required field missing)."""
    name = F.col("name")
    no_transformer = name.isNull() | (name == "") | ~name.isin(event_names())
    if mapping:
        no_user, user_reason = F.col("external_user_id").isNull(), SKIP_NOT_IN_MAPPING
    else:
        username = F.col("actor_username")
        no_user = F.col("actor_user_id").isNull() & (username.isNull() | (username == ""))
        user_reason = SKIP_NO_USER
    return (
        F.when(no_transformer, F.lit(SKIP_NO_TRANSFORMER))
        .when(no_user, F.lit(user_reason))
        .otherwise(F.lit(SKIP_INCOMPLETE))
    )


def pending_without_spark(config: Config, job: XapiJob) -> int:
    """How many landed logs wait for xAPI, from the two ledgers' Delta logs read with pyarrow
    (raises whenever Spark must decide instead: `precheck.read_ledger_columns`)."""
    tracking = read_ledger_columns(
        config,
        [(name, local_table_location(config, name)) for name in TRACKING_TABLES],
        local_table_location(config, TRACKING_LEDGER),
        ["file_sha256", "status", "log_date"],
    )
    done = read_ledger_columns(
        config,
        [(name, local_table_location(config, name)) for name in TABLES],
        local_table_location(config, LEDGER_TABLE),
        ["source_file_sha256"],
    )
    transformed = set(done.column("source_file_sha256").to_pylist())
    pending = {
        sha
        for sha, status, day in zip(
            tracking.column("file_sha256").to_pylist(),
            tracking.column("status").to_pylist(),
            tracking.column("log_date").to_pylist(),
            strict=True,
        )
        if status in WRITTEN_STATUSES
        and sha not in transformed
        and (job.since is None or day is None or day >= job.since)
    }
    return len(pending)


def transform_to_xapi(
    config: Config, job: XapiJob, session: Callable[[Config], SparkSession]
) -> tuple[XapiSummary, bool]:
    """The job as the CLI and spark-submit run it: settings checked first, "nothing new"
    decided from the ledgers without Spark when they can be read so, else Spark runs, holding
    the job's run lock (`olx_spark.spark.run_lock`; after waiting for another run, "nothing
    new" is decided again). Returns the summary and whether Spark was used."""
    started = time.monotonic()
    job.settings(config)

    def nothing_new() -> bool:
        try:
            return pending_without_spark(config, job) == 0
        except Exception:  # anything at all: Spark reads the ledgers itself
            return False

    if nothing_new():
        return XapiSummary(seconds=time.monotonic() - started), False
    with run_turn(config, XAPI) as turn:
        if turn.waited_for_another_run and nothing_new():
            return XapiSummary(seconds=time.monotonic() - started), False
        with commit_conflicts_explained("xapi"):
            return run_xapi(session(config), config, job), True


def _upload_partition(
    batches: Iterable[pa.RecordBatch], target: JsonLinesTarget, s3: S3Config
) -> Iterator[pa.RecordBatch]:
    from pyspark import TaskContext

    context = TaskContext.get()
    task = context.partitionId() if context is not None else 0
    yield from upload_json_lines(batches, target, task, s3, "statement")


def write_json_lines(statements: DataFrame, out: str, config: Config) -> None:
    """This run's statements as gzip JSON lines under `out`, one folder per statement date: to
    S3 from the executors with boto3 (a local session has no S3 file system in the JVM), to any
    other path with Spark's text writer (a folder, HDFS, DBFS...)."""
    if not is_s3(out):
        statements.write.mode("append").partitionBy("statement_date").option(
            "compression", "gzip"
        ).text(out)
        return
    target = JsonLinesTarget(out, "statement_date", uuid.uuid4().hex)
    statements.select(
        "statement", F.col("statement_date").cast("string").alias("statement_date")
    ).mapInArrow(
        partial(_upload_partition, target=target, s3=config.s3),
        from_arrow_schema(UPLOADED_SCHEMA),
    ).collect()


def run_xapi(spark: SparkSession, config: Config, job: XapiJob) -> XapiSummary:
    started = time.monotonic()
    settings = job.settings(config)
    summary = XapiSummary(out=job.out)
    ensure_tables(spark, config)
    pending = pending_files(spark, config, job).collect()
    summary.files_pending = len(pending)
    if not pending:
        summary.out = None
        summary.seconds = time.monotonic() - started
        return summary
    shas = sorted(r["file_sha256"] for r in pending)
    now = F.current_timestamp()

    # 1. Statements: events -> Python transformers -> Delta, in one pass (no staging copy).
    spark.sparkContext.setJobDescription(f"transform the events of {len(shas)} logs to xAPI")
    inputs = event_inputs(spark, config, job, shas)
    out = inputs.mapInArrow(
        partial(transform_partition, settings=settings), spark_schema_of(OUTPUT_FIELDS)
    )
    emission = F.to_timestamp("timestamp")
    statements = out.select(
        "statement_id",
        emission.alias("emission_time"),
        F.to_date(emission).alias("statement_date"),
        "actor_id",
        "verb_id",
        "object_id",
        "course_id",
        "org",
        "event_name",
        "statement",
        "source_file_sha256",
        "source_line_number",
        now.alias("transformed_at"),
    )
    assert statements.columns == [f.name for f in STATEMENT_FIELDS]
    location = table_location(spark, job.table(config, STATEMENTS_TABLE))
    replace_rows(statements, location, "source_file_sha256", shas)
    written = (
        spark.read.format("delta")
        .load(location)
        .where(F.col("source_file_sha256").isin(shas))
        .select(
            F.col("source_file_sha256").alias("file_sha256"),
            F.col("source_line_number").alias("line_number"),
        )
    )

    # 2. Skipped events: the events with no statement, and why (Spark alone, columns only).
    spark.sparkContext.setJobDescription(
        f"count the events that gave no statement -> {SKIPPED_TABLE}"
    )
    light = inputs.select(
        "file_sha256", "line_number", "name", "actor_user_id", "actor_username", "external_user_id"
    )
    skipped = (
        light.join(written.distinct(), ["file_sha256", "line_number"], "left_anti")
        .groupBy(
            F.col("file_sha256").alias("source_file_sha256"),
            F.col("name").alias("event_name"),
            skip_reason(settings.mapping).alias("reason"),
        )
        .agg(F.count(F.lit(1)).alias("event_count"))
        .withColumn("transformed_at", now)
        .withColumn("transformed_date", F.to_date(now))
    )
    replace_rows(
        skipped, table_location(spark, job.table(config, SKIPPED_TABLE)), "source_file_sha256", shas
    )

    # 3. The ledger, from what was written.
    spark.sparkContext.setJobDescription("write the xAPI ledger")
    events = {r[0]: r[1] for r in light.groupBy("file_sha256").count().collect()}
    made = {r[0]: r[1] for r in written.groupBy("file_sha256").count().collect()}
    skipped_rows = (
        spark.table(job.table(config, SKIPPED_TABLE))
        .where(F.col("source_file_sha256").isin(shas))
        .select("source_file_sha256", "event_name", "reason", "event_count")
        .collect()
    )
    skipped_per_file: dict[str, int] = {}
    for r in skipped_rows:
        skipped_per_file[r[0]] = skipped_per_file.get(r[0], 0) + r[3]
        key = f"{r[2]}: {r[1]}"
        summary.skipped[key] = summary.skipped.get(key, 0) + r[3]
    actor_source = f"mapping: {job.actor_map_of(config)}" if settings.mapping else "pseudonymous"
    ledger_rows = [
        (
            r["file_sha256"],
            r["file_uri"],
            r["log_date"],
            events.get(r["file_sha256"], 0),
            made.get(r["file_sha256"], 0),
            skipped_per_file.get(r["file_sha256"], 0),
            settings.lms_root_url,
            settings.transformer_version,
            actor_source,
        )
        for r in pending
    ]
    ledger = (
        spark.createDataFrame(ledger_rows, spark_schema_of(LEDGER_FIELDS[:-2]))
        .withColumn("transformed_at", now)
        .withColumn("transformed_date", F.to_date(now))
    )
    assert ledger.columns == [f.name for f in LEDGER_FIELDS]

    if job.out:
        spark.sparkContext.setJobDescription(f"write JSON lines to {job.out}")
        written = (
            spark.read.format("delta")
            .load(location)
            .where(F.col("source_file_sha256").isin(shas))
            .select("statement", "statement_date")
        )
        write_json_lines(written, job.out, config)
    # One row per log file ever transformed (`pending_files` leaves those out).
    append_ledger_rows(
        spark,
        ledger,
        table_location(spark, job.table(config, LEDGER_TABLE)),
        ("source_file_sha256",),
    )

    summary.files_transformed = len(pending)
    summary.events_read = sum(r[3] for r in ledger_rows)
    summary.statements_written = sum(r[4] for r in ledger_rows)
    summary.seconds = time.monotonic() - started
    return summary
