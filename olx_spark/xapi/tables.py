"""The xAPI tables and the Arrow layouts between Spark and the transformers, declared once.

- `xapi__statements`: one row per statement, partitioned by `statement_date` (the date of the
  statement's timestamp, UTC): the statement id, emission time, actor, verb, object, course,
  org, the statement JSON, and the tracking-log file and line it came from.
- `xapi__skipped_events`: per source file, event name and reason, how many events gave no
  statement (no transformer, no identifiable user, a required field missing). Counted, not
  errors.
- `xapi__statements_files`: the ledger, one row per tracking-log file (plaintext sha256)
  transformed, written last: a file in it is not transformed again.

`INPUT_FIELDS` is what the executors receive per event (after Spark's joins for the actor
mapping and the course name); `OUTPUT_FIELDS` what they return: a statement row, or a skip row.
"""

from __future__ import annotations

import pyarrow as pa

STATEMENTS_TABLE = "xapi__statements"
SKIPPED_TABLE = "xapi__skipped_events"
LEDGER_TABLE = "xapi__statements_files"
STATEMENT_PARTITION = "statement_date"
LEDGER_PARTITION = "transformed_date"
TIMESTAMP = pa.timestamp("us", tz="UTC")

STATEMENT_FIELDS: list[pa.Field] = [
    pa.field("statement_id", pa.string()),
    pa.field("emission_time", TIMESTAMP),  # the statement's timestamp
    pa.field("statement_date", pa.date32()),
    pa.field("actor_id", pa.string()),
    pa.field("verb_id", pa.string()),
    pa.field("object_id", pa.string()),
    pa.field("course_id", pa.string()),
    pa.field("org", pa.string()),
    pa.field("event_name", pa.string()),
    pa.field("statement", pa.string()),  # the statement as JSON text
    pa.field("source_file_sha256", pa.string()),  # the tracking log (plaintext sha256)
    pa.field("source_line_number", pa.int64()),
    pa.field("transformed_at", TIMESTAMP),
]

SKIPPED_FIELDS: list[pa.Field] = [
    pa.field("source_file_sha256", pa.string()),
    pa.field("event_name", pa.string()),
    pa.field("reason", pa.string()),
    pa.field("event_count", pa.int64()),
    pa.field("transformed_at", TIMESTAMP),
    pa.field("transformed_date", pa.date32()),
]

LEDGER_FIELDS: list[pa.Field] = [
    pa.field("source_file_sha256", pa.string()),
    pa.field("source_file_uri", pa.string()),
    pa.field("log_date", pa.date32()),
    pa.field("event_count", pa.int64()),
    pa.field("statement_count", pa.int64()),
    pa.field("skipped_count", pa.int64()),
    pa.field("lms_root_url", pa.string()),
    pa.field("transformer_version", pa.string()),
    pa.field("actor_source", pa.string()),  # "mapping: NAME" or "pseudonymous"
    pa.field("transformed_at", TIMESTAMP),
    pa.field("transformed_date", pa.date32()),
]

TABLES: dict[str, list[pa.Field]] = {
    STATEMENTS_TABLE: STATEMENT_FIELDS,
    SKIPPED_TABLE: SKIPPED_FIELDS,
    LEDGER_TABLE: LEDGER_FIELDS,
}
TABLE_PARTITIONS = {
    STATEMENTS_TABLE: STATEMENT_PARTITION,
    SKIPPED_TABLE: LEDGER_PARTITION,
    LEDGER_TABLE: LEDGER_PARTITION,
}
# Columns Delta collects no min/max statistics for (see `olx_spark.tracking.tables`).
NO_STATS_COLUMNS = {STATEMENTS_TABLE: ("statement",)}
NO_DICTIONARY_COLUMNS = {STATEMENTS_TABLE: ("statement_id", "statement")}
TABLE_COMMENTS = {
    STATEMENTS_TABLE: "xAPI 1.0.3 statements made from tracking log events (Aspects-compatible).",
    SKIPPED_TABLE: "Tracking log events that gave no xAPI statement, counted by name and reason.",
    LEDGER_TABLE: "Ledger: one row per tracking log file transformed to xAPI.",
}

# Per event, into the executors.
INPUT_FIELDS: list[pa.Field] = [
    pa.field("file_sha256", pa.string()),
    pa.field("line_number", pa.int64()),
    pa.field("name", pa.string()),  # `name`, else `event_type`
    pa.field("event_source", pa.string()),
    pa.field("event_time_raw", pa.string()),
    pa.field("session", pa.string()),
    pa.field("page", pa.string()),
    pa.field("referer", pa.string()),
    pa.field("course_id", pa.string()),
    pa.field("org_id", pa.string()),
    pa.field("event_json", pa.string()),
    pa.field("context_json", pa.string()),
    pa.field("actor_user_id", pa.int64()),  # context.user_id, else data.user_id
    pa.field("actor_username", pa.string()),  # username, else data.username
    pa.field("external_user_id", pa.string()),  # from the actor mapping, if any
    pa.field("course_name", pa.string()),  # from the course tables, if known
]

# Out of the executors: a statement (`reason` null) or a skipped event (`reason` set).
OUTPUT_FIELDS: list[pa.Field] = [
    pa.field("source_file_sha256", pa.string()),
    pa.field("source_line_number", pa.int64()),
    pa.field("event_name", pa.string()),
    pa.field("reason", pa.string()),
    pa.field("statement_id", pa.string()),
    pa.field("timestamp", pa.string()),  # the statement's timestamp (ISO 8601 with offset)
    pa.field("actor_id", pa.string()),
    pa.field("verb_id", pa.string()),
    pa.field("object_id", pa.string()),
    pa.field("course_id", pa.string()),
    pa.field("org", pa.string()),
    pa.field("statement", pa.string()),
]


def table_schema(name: str) -> pa.Schema:
    if name not in TABLES:
        raise ValueError(f"unknown xAPI table {name!r}")
    return pa.schema(TABLES[name])


def input_schema() -> pa.Schema:
    return pa.schema(INPUT_FIELDS)


def output_schema() -> pa.Schema:
    return pa.schema(OUTPUT_FIELDS)
