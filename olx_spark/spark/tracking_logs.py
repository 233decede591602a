"""The tracking log job: list a source, read each new log once on an executor, parse its lines
with Spark's built-in JSON functions, land events and bad lines in Delta, the ledger last.

Flow of one run:
1. Driver: list the source (metadata only) and drop files the ledger already has, final, with
   the same name, size and time. Pack the rest into tasks, largest first.
2. Executors (`mapInArrow`): stream each file once (decrypt, gunzip) and ship its lines in bulk
   as Arrow `(file_uri, line_number, line)`, then the file's ledger row
   (`olx_spark.tracking.files`). In the same stage, in the JVM: a prefix before the JSON is cut
   off (`regexp_extract`, only for lines not starting with `{`), the line is parsed once with
   `from_json` as a map of its top-level keys (the declared ones, `olx_spark.tracking.tables`,
   become columns; the others are listed), the payload and context are kept as JSON text, the
   time is parsed with `try_to_timestamp`, and lines that are no JSON object get a reason. All
   of it is staged once as Parquet.
3. Driver: a file whose content (plaintext sha256) is already loaded, or loaded earlier in this
   run under another name, is a `duplicate`. For the other files that loaded (fully, or up to a
   damaged gzip), replace their rows (`replaceWhere file_sha256 IN ...`: rows a killed run left
   behind are replaced, not duplicated) in the events table, then the bad-lines table, applying
   `tracking.pii`; append the ledger rows last. A run killed before that last commit is simply
   done again by the next run.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

import pyarrow as pa
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from olx_spark.config import Config
from olx_spark.packages.gpg import GpgSettings, Secret, gpg_settings
from olx_spark.spark import delta
from olx_spark.spark.delta import (
    append_ledger_rows,
    delete_path,
    last_written_rows,
    qualified,
    replace_rows,
    table_location,
)
from olx_spark.spark.precheck import IngestOutcome, read_ledger_columns, run_unless_nothing_new
from olx_spark.spark.run_lock import TRACKING_LOGS
from olx_spark.spark.schemas import spark_schema_of
from olx_spark.spark.session import local_table_location
from olx_spark.spark.tasks import TaskSizing, pack_tasks, task_input_frame
from olx_spark.storage.listing import SourceFile, list_source
from olx_spark.summary import FileWarning, IngestSummary
from olx_spark.tracking.events import (
    BODY_GROUP,
    LINE_PATTERN,
    PII_MODES,
    PREFIX_GROUP,
    pii_value_pattern,
)
from olx_spark.tracking.files import TASK_SCHEMA, ReadSettings, read_tasks
from olx_spark.tracking.gaps import missing_days
from olx_spark.tracking.names import parse_log_name
from olx_spark.tracking.tables import (
    BAD_LINE_FIELDS,
    BAD_LINES_TABLE,
    CONTEXT_JSON_FIELDS,
    EVENT_FIELDS,
    EVENTS_TABLE,
    KIND,
    KIND_FILE,
    KIND_LINE,
    LEDGER_FIELDS,
    LEDGER_TABLE,
    LINE_JSON_FIELDS,
    LINE_JSON_MAP,
    NO_DICTIONARY_COLUMNS,
    NO_STATS_COLUMNS,
    STATUS_DUPLICATE,
    STATUS_REJECTED,
    TABLE_COMMENTS,
    TABLE_PARTITIONS,
    TABLES,
    WRITTEN_STATUSES,
    staging_schema,
)

JOB_NAME = "ingest tracking-logs"
SALT_COLUMN = "_pii_salt"

# Reasons a line is bad (besides the reader's own: not UTF-8, too long, cut off). Blank lines
# never get here: the reader skips them (`olx_spark.tracking.lines`).
REASON_NO_OBJECT = "the line holds no JSON object"
REASON_NOT_JSON = "the line is not a valid JSON object"
REASON_NOT_JSON_AFTER_PREFIX = "the text after the prefix is not a valid JSON object"


# The staged lines are read back once or twice and deleted: the fastest codec, and no Parquet
# dictionaries (the columns are mostly unique text, so building one per column chunk is wasted).
STAGING_WRITE_OPTIONS = {"compression": "lz4_raw", "parquet.enable.dictionary": "false"}


class TrackingSetupError(ValueError):
    """The run cannot start as configured (PII mode, salt, keyring); the message says why."""


@dataclass(frozen=True)
class TrackingLogJob:
    """One run's arguments; `None` falls back to config (`packages.*` for GPG)."""

    source: str
    gnupg_home: str | None = None
    passphrase_env: str | None = None

    def table(self, config: Config, name: str) -> str:
        return qualified(config.warehouse.raw_schema, name)

    def gpg_settings(self, config: Config) -> GpgSettings:
        """The keyring and passphrase for `.gpg` logs (the data packages' settings)."""
        try:
            return gpg_settings(
                config.packages, gnupg_home=self.gnupg_home, passphrase_env=self.passphrase_env
            )
        except ValueError as exc:
            raise TrackingSetupError(str(exc)) from exc


# ---------------------------------------------------------------------------------------------
# Executor side
# ---------------------------------------------------------------------------------------------


def read_partition(
    batches: Iterable[pa.RecordBatch], *, settings: ReadSettings
) -> Iterator[pa.RecordBatch]:
    for batch in batches:
        yield from read_tasks(batch.select(TASK_SCHEMA.names).to_pylist(), settings)


# ---------------------------------------------------------------------------------------------
# In the JVM: lines -> event columns (built-in functions only)
# ---------------------------------------------------------------------------------------------


def json_text(text: Column) -> Column:
    """A value `from_json` read as text -> JSON text: an object or array as it is (Spark gives
    its JSON); a string starting with `{` or `[` (browser events: JSON in a string) as that
    text; any other string as a JSON string literal. Only the first character is looked at (no
    second parse): a string that looks like JSON but is not (a truncated browser payload) is
    kept as written."""
    quoted = F.to_json(F.array(text))  # ["..."]
    return (
        F.when(text.startswith("{") | text.startswith("["), text)
        .when(text.rlike(r"^\s*[\[{]"), text)
        .when(text.isNotNull(), quoted.substr(F.lit(2), F.length(quoted) - 2))
    )


def parse_lines(lines: DataFrame, max_bad_line_chars: int) -> DataFrame:
    """The staging rows, line rows parsed: event columns, `bad_reason`, `bad_line` (the text,
    shortened, of bad lines only) and `recovered` (an event found behind a prefix).

    Built as a chain of projections in which every costly expression (`from_json` of the line,
    of its context, the reason) is computed once and then referred to by name: Spark keeps a
    projection apart, instead of inlining it, when inlining would repeat a costly expression,
    and does not share an expression used only inside `CASE` branches. Written inline, the
    context was parsed three times and the keys listed twice per line (measured: 32.8 -> 21.8
    us of JVM time per 1 KB line, text read included, benchmarks/RESULTS.md)."""
    line = F.col("line")
    starts = line.startswith("{")
    with_body = lines.select(
        "*",
        F.when(starts, F.lit(None))
        .otherwise(F.nullif(F.regexp_extract(line, LINE_PATTERN, PREFIX_GROUP), F.lit("")))
        .alias("_prefix"),
        F.when(starts, line)
        .otherwise(F.nullif(F.regexp_extract(line, LINE_PATTERN, BODY_GROUP), F.lit("")))
        .alias("_body"),
    )
    # The line as a map of its top-level keys to their values as text (an object or array as
    # its JSON, a string as its content): one parse gives the declared fields and the keys with
    # no column (a struct parse needs `json_object_keys`, a second pass over the line, for
    # those: 18.0 against 15.5 us per 1 KB line with the context and the text read, one core,
    # RESULTS.md). Not a JSON object, or malformed: null. A key given twice: the last value.
    parsed = with_body.select("*", F.from_json("_body", LINE_JSON_MAP).alias("_j"))
    j = F.col("_j")
    parsed_ok = F.col("read_error").isNull() & F.col("_body").isNotNull() & j.isNotNull()
    known = F.array(*[F.lit(f.name) for f in LINE_JSON_FIELDS])
    checked = parsed.select(
        "*",
        F.when(parsed_ok, F.lit(None).cast("string"))
        .when(F.col("read_error").isNotNull(), F.col("read_error"))
        .when(F.col("_body").isNull(), F.lit(REASON_NO_OBJECT))
        .when(F.col("_prefix").isNotNull(), F.lit(REASON_NOT_JSON_AFTER_PREFIX))
        .otherwise(F.lit(REASON_NOT_JSON))
        .alias("bad_reason"),
        F.from_json(j["context"], spark_schema_of(CONTEXT_JSON_FIELDS)).alias("_context"),
        F.when(parsed_ok, F.array_except(F.map_keys(j), known)).alias("_extra"),
    )
    bad = F.col("bad_reason").isNotNull()
    context = F.col("_context")
    extra = F.col("_extra")
    has_extra = F.size(extra) > 0  # null (so false) when `_extra` is null
    time_raw = F.coalesce(j["time"], j["timestamp"])
    return checked.select(
        KIND,
        "file_uri",
        "line_number",
        KIND_FILE,
        "bad_reason",
        j["event_type"].alias("event_type"),
        j["name"].alias("event_name"),
        j["event_source"].alias("event_source"),
        # A date-time starts `YYYY-`: a bare number would be read as a year.
        F.when(
            (F.length(time_raw) >= 10) & (F.substring(time_raw, 5, 1) == "-"),
            F.try_to_timestamp(time_raw),
        ).alias("event_time"),
        time_raw.alias("event_time_raw"),
        j["username"].alias("username"),
        context["user_id"].try_cast("bigint").alias("user_id"),
        context["course_id"].alias("course_id"),
        context["org_id"].alias("org_id"),
        *[j[c].alias(c) for c in ("session", "page", "referer", "agent", "host", "ip")],
        j["accept_language"].alias("accept_language"),
        json_text(F.coalesce(j["event"], j["data"])).alias("event_json"),
        json_text(j["context"]).alias("context_json"),
        F.col("_prefix").alias("line_prefix"),
        F.when(has_extra, extra).alias("extra_keys"),
        F.when(has_extra, F.col("_body")).alias("line_json"),
        F.when(bad, F.substring(line, 1, max_bad_line_chars)).alias("bad_line"),
        (~bad & F.col("_prefix").isNotNull()).alias("recovered"),
    )


# ---------------------------------------------------------------------------------------------
# PII (at write time, built-in functions only)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pii:
    mode: str
    keys: tuple[str, ...]
    salt: Secret | None  # for "hash": masked in reprs, never a literal in a query plan

    def hash(self, value: Column) -> Column:
        return F.sha2(F.concat(F.col(SALT_COLUMN), value), 256)

    def value(self, value: Column) -> Column:
        """A personal column (username, ip)."""
        if self.mode == "hash":
            return F.when(value.isNotNull(), self.hash(value))
        if self.mode == "drop":
            return F.lit(None).cast("string")
        return value

    def scrub(self, text: Column) -> Column:
        """JSON text with the string values under `keys` hashed or dropped (see
        `olx_spark.tracking.events.scrub`, the same rule in Python)."""
        if self.mode == "keep" or not self.keys:
            return text
        pattern = pii_value_pattern(self.keys)
        if self.mode == "drop":
            return F.regexp_replace(text, pattern, "$1null")
        pieces = F.split(text, pattern, -1)
        keys = F.regexp_extract_all(text, F.lit(pattern), F.lit(1))
        values = F.regexp_extract_all(text, F.lit(pattern), F.lit(2))
        rebuilt = F.aggregate(
            F.sequence(F.lit(1), F.size(values)),
            F.element_at(pieces, 1),
            lambda acc, i: F.concat(
                acc,
                F.element_at(keys, i),
                F.lit('"'),
                self.hash(F.element_at(values, i)),
                F.lit('"'),
                F.element_at(pieces, i + 1),
            ),
        )
        return F.when(F.size(values) > 0, rebuilt).otherwise(text)

    def with_salt(self, spark: SparkSession, df: DataFrame) -> DataFrame:
        """`df` with the salt as a column, from a one-row relation (so the value is data, not a
        literal that query plans, the UI or error messages would print)."""
        if self.mode != "hash":
            return df
        assert self.salt is not None
        salt = spark.createDataFrame([(self.salt.reveal(),)], f"{SALT_COLUMN} string")
        return df.crossJoin(F.broadcast(salt))


def pii_settings(config: Config) -> Pii:
    tc = config.tracking
    if tc.pii not in PII_MODES:
        raise TrackingSetupError(
            f"tracking.pii must be one of {', '.join(PII_MODES)}, not {tc.pii!r}"
        )
    keys = tuple(tc.pii_json_keys)
    if keys:
        try:
            pii_value_pattern(keys)
        except ValueError as exc:
            raise TrackingSetupError(str(exc)) from exc
    salt = None
    if tc.pii == "hash":
        value = os.environ.get(tc.pii_salt_env, "")
        if not value:
            raise TrackingSetupError(
                f'tracking.pii = "hash" needs a salt in the environment variable '
                f"{tc.pii_salt_env} (tracking.pii_salt_env), which is not set"
            )
        salt = Secret(value)
    return Pii(tc.pii, keys, salt)


# ---------------------------------------------------------------------------------------------
# Driver side
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LedgerState:
    unchanged: set[tuple[str, int, int]]  # identities of files with a final status
    known_shas: frozenset[str]  # content loaded (under any name)


LEDGER_COLUMNS = [
    "file_uri",
    "file_size_bytes",
    "file_modified_at",
    "file_sha256",
    "status",
    "retryable",
]
LedgerRow = tuple[str, int, int | None, str | None, str | None, bool | None]
LEDGER_IDENTITY = ("file_uri", "file_size_bytes", "file_modified_at")  # a file as listed


def _read_for_good(col: Callable[[str], Column]) -> Column:
    """`ledger_state`'s rule as a Spark condition: any row but a `retryable` rejection."""
    return ~((col("status") == STATUS_REJECTED) & F.coalesce(col("retryable"), F.lit(False)))


def ledger_state(rows: Iterable[LedgerRow]) -> LedgerState:
    """What the ledger knows, from its rows however read. A file rejected as `retryable` (a key
    or passphrase missing, storage failing) is read again; any other status is final."""
    unchanged: set[tuple[str, int, int]] = set()
    known: set[str] = set()
    for uri, size, modified_micros, sha, status, retryable in rows:
        if status == STATUS_REJECTED and retryable:
            continue
        if modified_micros is not None:
            unchanged.add((uri, size, modified_micros))
        if sha and status in (*WRITTEN_STATUSES, STATUS_DUPLICATE):
            known.add(sha)
    return LedgerState(unchanged=unchanged, known_shas=frozenset(known))


def read_ledger(spark: SparkSession, ledger_table: str) -> LedgerState:
    rows = (
        spark.table(ledger_table)
        .select(
            "file_uri",
            "file_size_bytes",
            F.unix_micros("file_modified_at").alias("micros"),
            "file_sha256",
            "status",
            "retryable",
        )
        .collect()
    )
    return ledger_state((r[0], r[1], r[2], r[3], r[4], r[5]) for r in rows)


def read_ledger_without_spark(config: Config) -> LedgerState:
    """The ledger of a local session's warehouse, read from its Delta log with pyarrow (raises
    whenever Spark must decide instead: `precheck.read_ledger_columns`)."""
    table = read_ledger_columns(
        config,
        [(name, local_table_location(config, name)) for name in TABLES],
        local_table_location(config, LEDGER_TABLE),
        LEDGER_COLUMNS,
    )
    micros = table.column("file_modified_at").cast(pa.int64())
    return ledger_state(
        zip(
            table.column("file_uri").to_pylist(),
            table.column("file_size_bytes").to_pylist(),
            micros.to_pylist(),
            table.column("file_sha256").to_pylist(),
            table.column("status").to_pylist(),
            table.column("retryable").to_pylist(),
            strict=True,
        )
    )


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


def decide(files: list[dict[str, Any]], known_shas: frozenset[str]) -> set[str]:
    """URIs of the files to mark `duplicate`: their content is already loaded, or loaded in this
    run by a file earlier by URI."""
    first: set[str] = set()
    duplicates: set[str] = set()
    for row in sorted(files, key=lambda r: r["file_uri"]):
        if row["status"] not in WRITTEN_STATUSES:
            continue
        sha = row["file_sha256"]
        if sha in known_shas or sha in first:
            duplicates.add(row["file_uri"])
        else:
            first.add(sha)
    return duplicates


COUNTS_SCHEMA = "file_uri string, bad bigint, recovered bigint"


def line_counts(parsed: DataFrame, uris: list[str]) -> list[tuple[str, int, int]]:
    """(file_uri, bad lines, events found behind a prefix) of the files `uris` that have any:
    one small aggregate over two staged columns."""
    rows = (
        parsed.where((F.col(KIND) == KIND_LINE) & F.col("file_uri").isin(uris))
        .where(F.col("bad_reason").isNotNull() | F.col("recovered"))
        .groupBy("file_uri")
        .agg(
            F.count_if(F.col("bad_reason").isNotNull()).alias("bad"),
            F.count_if(F.col("recovered")).alias("recovered"),
        )
        .collect()
    )
    return [(r["file_uri"], int(r["bad"]), int(r["recovered"])) for r in rows]


def ledger_rows(files: DataFrame, duplicates: set[str], counts: DataFrame) -> DataFrame:
    """The staged file rows with the driver's decisions: duplicates marked, line counts set.
    (Kept in Spark: timestamps never round-trip through Python on the driver.)"""
    status = F.col("status")
    if duplicates:
        status = F.when(
            F.col("file_uri").isin(sorted(duplicates)), F.lit(STATUS_DUPLICATE)
        ).otherwise(status)
    written = status.isin(*WRITTEN_STATUSES)
    bad = F.coalesce(F.col("bad"), F.lit(0))
    computed = {
        "status": status,
        "bad_line_count": F.when(written, bad),
        "recovered_line_count": F.when(written, F.coalesce(F.col("recovered"), F.lit(0))),
        "event_count": F.when(written, F.col("line_count") - bad),
    }
    types = {f.name: f.dataType for f in spark_schema_of(LEDGER_FIELDS)}
    return files.join(F.broadcast(counts), "file_uri", "left").select(
        *[computed.get(name, F.col(name)).cast(types[name]).alias(name) for name in types]
    )


def event_rows(spark: SparkSession, parsed: DataFrame, meta: DataFrame, pii: Pii) -> DataFrame:
    """Staged good lines of the files in `meta` -> rows of the events table, in its order."""
    lines = parsed.where((F.col(KIND) == KIND_LINE) & F.col("bad_reason").isNull())
    rows = pii.with_salt(spark, lines.join(F.broadcast(meta), "file_uri"))
    computed: dict[str, Column] = {
        "event_date": F.coalesce(
            F.to_date("event_time"), F.col("log_date"), F.to_date(F.col("retrieved_at"))
        ),
        "username": pii.value(F.col("username")),
        "ip": pii.value(F.col("ip")),
        "event_json": pii.scrub(F.col("event_json")),
        "context_json": pii.scrub(F.col("context_json")),
        "line_json": pii.scrub(F.col("line_json")),
    }
    types = {f.name: f.dataType for f in spark_schema_of(EVENT_FIELDS)}
    return rows.select(
        *[computed.get(name, F.col(name)).cast(types[name]).alias(name) for name in types]
    )


def bad_line_rows(spark: SparkSession, parsed: DataFrame, meta: DataFrame, pii: Pii) -> DataFrame:
    lines = parsed.where((F.col(KIND) == KIND_LINE) & F.col("bad_reason").isNotNull())
    rows = pii.with_salt(spark, lines.join(F.broadcast(meta), "file_uri"))
    computed = {"reason": F.col("bad_reason"), "line": pii.scrub(F.col("bad_line"))}
    return rows.select(
        *[computed.get(f.name, F.col(f.name)).alias(f.name) for f in BAD_LINE_FIELDS]
    )


def _summarise(summary: IngestSummary, rows: list[Any]) -> None:
    """From the ledger rows as written (statuses, counts, errors)."""
    for row in rows:
        status = row["status"]
        if status == STATUS_DUPLICATE:
            summary.duplicates += 1
            continue
        errors = [e.asDict() for e in row["errors"] or []]
        if status in WRITTEN_STATUSES:
            summary.loaded += 1
            if row["bad_line_count"]:
                errors.append(
                    {
                        "path": None,
                        "kind": "bad_lines",
                        "message": f"{row['bad_line_count']} of {row['line_count']} lines are "
                        f"no JSON event (see {BAD_LINES_TABLE})",
                    }
                )
            summary.loaded_with_errors += bool(errors)
        else:
            summary.rejected += 1
        if errors:
            summary.warnings.append(FileWarning(row["file_uri"], status, errors))


def run_tracking_logs(
    spark: SparkSession,
    config: Config,
    job: TrackingLogJob,
    files: list[SourceFile] | None = None,
) -> IngestSummary:
    """One run on Spark. `files` is the source's listing if the caller already made it."""
    started = time.monotonic()
    tc = config.tracking
    pii = pii_settings(config)
    summary = IngestSummary(job=JOB_NAME, source=job.source)
    ensure_tables(spark, config)

    if files is None:
        files = list_source(job.source, tc.suffixes, config.s3)
    summary.files_seen = len(files)
    ledger = read_ledger(spark, job.table(config, LEDGER_TABLE))
    new = [f for f in files if f.identity not in ledger.unchanged]
    summary.unchanged = len(files) - len(new)
    if not new:
        summary.seconds = time.monotonic() - started
        return summary

    encrypted = any(parse_log_name(f.uri).encrypted for f in new)
    settings = ReadSettings(
        gpg=job.gpg_settings(config) if encrypted else GpgSettings(None, None, "not needed"),
        s3=config.s3,
        chunk_bytes=tc.chunk_bytes,
        max_line_bytes=tc.max_line_bytes,
        keep_bytes=tc.max_bad_line_chars * 4,
        default_source_system=tc.default_source_system,
    )
    staging = f"{spark.conf.get('spark.sql.warehouse.dir')}/_olx_spark_staging/{uuid.uuid4().hex}"
    try:
        spark.sparkContext.setJobDescription(f"read and parse {len(new)} tracking logs")
        raw = task_input_frame(
            spark, pack_tasks(new, tc.max_read_tasks, TaskSizing.of(spark)), TASK_SCHEMA
        ).mapInArrow(partial(read_partition, settings=settings), spark_schema_of(staging_schema()))
        # Not partitioned by kind: a partitioned write sorts every task's rows first.
        parse_lines(raw, tc.max_bad_line_chars).write.options(**STAGING_WRITE_OPTIONS).parquet(
            staging
        )
        parsed = spark.read.parquet(staging)
        files_df = parsed.where(F.col(KIND) == KIND_FILE).select(f"{KIND_FILE}.*")

        # One small row per file: what the driver decides on.
        read = [r.asDict() for r in files_df.select("file_uri", "file_sha256", "status").collect()]
        duplicates = decide(read, ledger.known_shas)
        written = {
            r["file_uri"]: r["file_sha256"]
            for r in read
            if r["status"] in WRITTEN_STATUSES and r["file_uri"] not in duplicates
        }
        counts = spark.createDataFrame(
            line_counts(parsed, sorted(written)) if written else [], COUNTS_SCHEMA
        )
        ledger_df = ledger_rows(files_df, duplicates, counts)
        if written:
            meta = files_df.where(F.col("file_uri").isin(sorted(written))).select(
                "file_uri",
                "source_system",
                "file_sha256",
                "retrieved_at",
                "retrieved_date",
                "log_date",
            )
            for name, frame in (
                (EVENTS_TABLE, event_rows(spark, parsed, meta, pii)),
                (BAD_LINES_TABLE, bad_line_rows(spark, parsed, meta, pii)),
            ):
                spark.sparkContext.setJobDescription(f"write {name}")
                location = table_location(spark, job.table(config, name))
                replace_rows(frame, location, "file_sha256", written.values())
                summary.rows_written[name] = last_written_rows(spark, location)
        spark.sparkContext.setJobDescription("write the tracking log ledger")
        append_ledger_rows(
            spark,
            ledger_df,
            table_location(spark, job.table(config, LEDGER_TABLE)),
            LEDGER_IDENTITY,
            _read_for_good,
        )
        summary.rows_written[LEDGER_TABLE] = len(read)
        _summarise(
            summary,
            ledger_df.select(
                "file_uri", "status", "errors", "line_count", "bad_line_count"
            ).collect(),
        )
    finally:
        delete_path(spark, staging)
    summary.seconds = time.monotonic() - started
    return summary


def ingest_tracking_logs(
    config: Config, job: TrackingLogJob, session: Callable[[Config], SparkSession]
) -> IngestOutcome:
    """The job as the CLI and spark-submit run it: settings checked first (a bad PII setting or
    a missing salt fails before anything is read), "nothing new" decided without Spark when the
    ledger can be read from its Delta log, else Spark runs."""
    started = time.monotonic()
    pii_settings(config)
    files = list_source(job.source, config.tracking.suffixes, config.s3)
    outcome = run_unless_nothing_new(
        JOB_NAME,
        job.source,
        files,
        lambda: read_ledger_without_spark(config),
        lambda: run_tracking_logs(session(config), config, job, files),
        started,
        config=config,
        locks=(TRACKING_LOGS,),
    )
    outcome.summary.missing = missing_days(f.uri for f in files)
    return outcome
