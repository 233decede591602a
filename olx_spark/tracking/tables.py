"""The tracking log tables: names and columns, declared once, and the JSON shape Spark reads.

Every table is an Arrow schema here; the Spark layer derives its `StructType`s from these (and
the `from_json` shapes `LINE_JSON_MAP` / `CONTEXT_JSON_FIELDS`), the executors fill
the staging layout, and dbt's sources will document the same columns. Change a column here and
everything follows.

- `raw__edxorg__s3__tracking_logs`: one row per event line, partitioned by `event_date`. The
  common fields are typed columns; the payload (`event`, or `data` for event-bus style lines) and
  `context` are kept as JSON text; the file and line it came from identify it.
- `raw__edxorg__s3__tracking_logs_bad_lines`: lines that are no JSON object even after removing
  a prefix (syslog), or could not be read as text: file, line number, reason, and the text.
- `raw__edxorg__s3__tracking_logs_files`: the ledger, one row per file read, written last.
"""

from __future__ import annotations

import pyarrow as pa

from olx_spark.olx.tables import ERROR_TYPE

PLATFORM = "edxorg"
EVENTS_TABLE = f"raw__{PLATFORM}__s3__tracking_logs"
BAD_LINES_TABLE = f"raw__{PLATFORM}__s3__tracking_logs_bad_lines"
LEDGER_TABLE = f"raw__{PLATFORM}__s3__tracking_logs_files"
EVENT_PARTITION = "event_date"
PARTITION = "retrieved_date"  # the bad-lines table and the ledger
# 2: blank lines are skipped, not counted in `line_count` nor recorded as bad lines.
PARSER_VERSION = "olx-spark-tracking/2"

# File statuses in the ledger.
STATUS_LOADED = "loaded"  # every line read; events (and bad lines) written
# The gzip stream is damaged (truncated, corrupt, trailing garbage): the lines before the damage
# are written, the rest of the file is missing; `errors` says where it stopped. Final: a later
# run does not read the same file again, but a redelivered (changed) file is read as a new one.
STATUS_PARTIAL = "partial"
STATUS_DUPLICATE = "duplicate"  # same content as a file already loaded: nothing written
# Nothing written; `errors` says why. `retryable` (wrong or missing key, storage failure): the
# next run reads the file again.
STATUS_REJECTED = "rejected"
STATUSES = (STATUS_LOADED, STATUS_PARTIAL, STATUS_DUPLICATE, STATUS_REJECTED)
WRITTEN_STATUSES = (STATUS_LOADED, STATUS_PARTIAL)

TIMESTAMP = pa.timestamp("us", tz="UTC")

# `raw__edxorg__s3__tracking_logs`. Where the event's own text is kept as it came
# (`event_time_raw`: the xAPI statement id is made from it), the typed column is next to it.
EVENT_FIELDS: list[pa.Field] = [
    pa.field("source_system", pa.string()),  # prod / edge from the file name, else config
    pa.field("file_uri", pa.string()),
    pa.field("file_sha256", pa.string()),  # of the file's plaintext (decrypted, gunzipped)
    pa.field("line_number", pa.int64()),  # 1-based, in the plaintext
    pa.field("retrieved_at", TIMESTAMP),
    pa.field("event_date", pa.date32()),  # date of event_time, else the file name's date
    pa.field("event_type", pa.string()),
    pa.field("event_name", pa.string()),  # `name` (event-bus style and newer events)
    pa.field("event_source", pa.string()),  # server / browser / mobile / task
    pa.field("event_time", TIMESTAMP),  # `time`, else `timestamp`; null if not a date-time
    pa.field("event_time_raw", pa.string()),  # that value as the line spells it
    pa.field("username", pa.string()),
    pa.field("user_id", pa.int64()),  # context.user_id (its text stays in context_json)
    pa.field("course_id", pa.string()),  # context.course_id
    pa.field("org_id", pa.string()),  # context.org_id
    pa.field("session", pa.string()),
    pa.field("page", pa.string()),
    pa.field("referer", pa.string()),
    pa.field("agent", pa.string()),
    pa.field("host", pa.string()),
    pa.field("ip", pa.string()),
    pa.field("accept_language", pa.string()),
    # `event` (or `data` when there is no `event`) as JSON text. An object payload is its JSON;
    # a string payload starting with `{` or `[` (browser events: JSON in a string) is that text;
    # any other string is a JSON string literal (`"input_x=2"`). Null when there is none.
    pa.field("event_json", pa.string()),
    pa.field("context_json", pa.string()),
    pa.field("line_prefix", pa.string()),  # text before the JSON (a syslog prefix), if any
    # Top-level keys of the line beyond the ones above (`LINE_JSON_FIELDS`), and then the whole
    # JSON object as the line spells it, so nothing a log says is lost; null for the (usual)
    # lines with only the listed keys.
    pa.field("extra_keys", pa.list_(pa.string())),
    pa.field("line_json", pa.string()),
]

BAD_LINE_FIELDS: list[pa.Field] = [
    pa.field("source_system", pa.string()),
    pa.field("file_uri", pa.string()),
    pa.field("file_sha256", pa.string()),
    pa.field("line_number", pa.int64()),
    pa.field("retrieved_at", TIMESTAMP),
    pa.field("retrieved_date", pa.date32()),
    pa.field("reason", pa.string()),
    pa.field("line", pa.string()),  # the text (invalid UTF-8 shown as U+FFFD), maybe shortened
]

LEDGER_FIELDS: list[pa.Field] = [
    pa.field("source_system", pa.string()),
    pa.field("file_uri", pa.string()),
    pa.field("file_sha256", pa.string()),  # "" when the file could not be read at all
    pa.field("retrieved_at", TIMESTAMP),
    pa.field("retrieved_date", pa.date32()),
    pa.field("file_size_bytes", pa.int64()),  # as listed (stored bytes)
    pa.field("file_modified_at", TIMESTAMP),  # as listed
    pa.field("org", pa.string()),  # from the file name
    pa.field("site", pa.string()),
    pa.field("log_date", pa.date32()),
    pa.field("encrypted", pa.bool_()),
    pa.field("compression", pa.string()),  # none / gzip (found from the bytes, not the name)
    pa.field("plaintext_bytes", pa.int64()),
    pa.field("line_count", pa.int64()),  # lines read (blank lines are not lines)
    pa.field("event_count", pa.int64()),  # of which events (rows in the events table)
    pa.field("bad_line_count", pa.int64()),  # of which bad lines
    pa.field("recovered_line_count", pa.int64()),  # events found behind a prefix
    pa.field("status", pa.string()),
    pa.field("retryable", pa.bool_()),
    pa.field("errors", pa.list_(ERROR_TYPE)),
    pa.field("parser_version", pa.string()),
]
# Filled on the driver once the lines have been parsed (null in the executors' file rows).
LINE_COUNT_COLUMNS = ("event_count", "bad_line_count", "recovered_line_count")

TABLES: dict[str, list[pa.Field]] = {
    EVENTS_TABLE: EVENT_FIELDS,
    BAD_LINES_TABLE: BAD_LINE_FIELDS,
    LEDGER_TABLE: LEDGER_FIELDS,
}
TABLE_PARTITIONS = {
    EVENTS_TABLE: EVENT_PARTITION,
    BAD_LINES_TABLE: PARTITION,
    LEDGER_TABLE: PARTITION,
}
# Columns Delta collects no min/max statistics for: long text that no query filters on by
# range (a 32-character prefix skips nothing), and collecting them made the events write ~15 %
# slower (benchmarks/whatif_tracking.py, RESULTS.md). The keys, times, names and ids keep theirs.
NO_STATS_COLUMNS = {
    EVENTS_TABLE: (
        "event_time_raw",
        "session",
        "page",
        "referer",
        "agent",
        "host",
        "ip",
        "accept_language",
        "event_json",
        "context_json",
        "line_prefix",
        "extra_keys",
        "line_json",
    ),
}
# Columns Parquet builds no dictionary for: mostly unique text (a dictionary overflows and is
# dropped per column chunk; building it made the events write ~7 % slower, RESULTS.md).
# Repeated values (names, ids, courses, agents, files) keep theirs.
NO_DICTIONARY_COLUMNS = {
    EVENTS_TABLE: (
        "event_time_raw",
        "session",
        "page",
        "referer",
        "ip",
        "event_json",
        "context_json",
        "line_prefix",
        "line_json",
    ),
}
TABLE_COMMENTS = {
    EVENTS_TABLE: "One row per tracking log event (line), common fields typed, payload as JSON.",
    BAD_LINES_TABLE: "Lines of tracking log files that are no JSON event, and why.",
    LEDGER_TABLE: "Ledger: one row per tracking log file read (loaded/partial/duplicate/rejected).",
}

# The staging layout the executors emit (`mapInArrow`): a row per line, then one per file.
KIND = "kind"
KIND_LINE = "line"
KIND_FILE = "file"
STAGING_FIELDS: list[pa.Field] = [
    pa.field(KIND, pa.string()),
    pa.field("file_uri", pa.string()),
    pa.field("line_number", pa.int64()),
    pa.field("line", pa.string()),
    # Why the line could not be read as text (invalid UTF-8, too long, cut off by damage).
    pa.field("read_error", pa.string()),
    pa.field(KIND_FILE, pa.struct(LEDGER_FIELDS)),
]

# The top-level keys of a line that have a column, and what Spark's `from_json` reads a line
# as: a map of every top-level key to its value as text (an object or array comes back as its
# JSON, a string as its content), so the keys without a column come from the same parse. The
# context is read with the `CONTEXT_JSON_FIELDS` struct. `event`/`data` and `context` keep
# everything below them.
LINE_JSON_MAP = "map<string,string>"
LINE_JSON_FIELDS: list[pa.Field] = [
    pa.field(name, pa.string())
    for name in (
        "event_type",
        "name",
        "event_source",
        "time",
        "timestamp",
        "username",
        "session",
        "page",
        "referer",
        "agent",
        "host",
        "ip",
        "accept_language",
        "event",
        "data",
        "context",
    )
]
CONTEXT_JSON_FIELDS: list[pa.Field] = [
    pa.field(name, pa.string()) for name in ("user_id", "course_id", "org_id")
]


def table_schema(name: str) -> pa.Schema:
    """Arrow schema of one of the three tracking log tables."""
    if name not in TABLES:
        raise ValueError(f"unknown tracking log table {name!r}")
    return pa.schema(TABLES[name])


def staging_schema() -> pa.Schema:
    return pa.schema(STAGING_FIELDS)
