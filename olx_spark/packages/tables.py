"""The data package tables: names and columns, declared once.

Fixed tables (`course_structure`, `forum_documents`, the bad-lines table and the ledger) are Arrow
schemas here; the Spark layer derives its `StructType`s from them. The `.sql` dumps land in one
table per dump table name, `raw__edxorg__s3__tables__{table}`: their own columns come from each
file's header (strings, schema evolving as packages add or drop columns), after the columns
declared in `DUMP_FIELDS`. Change a column here and everything follows.
"""

from __future__ import annotations

import pyarrow as pa

from olx_spark.olx.tables import ERROR_TYPE

PLATFORM = "edxorg"
TABLES_PREFIX = f"raw__{PLATFORM}__s3__tables__"
COURSE_STRUCTURE_TABLE = f"raw__{PLATFORM}__s3__course_structure"
FORUM_TABLE = f"raw__{PLATFORM}__s3__forum_documents"
BAD_LINES_TABLE = f"raw__{PLATFORM}__s3__data_package_bad_lines"
LEDGER_TABLE = f"raw__{PLATFORM}__s3__data_package_files"
PARTITION_COLUMN = "retrieved_date"
PARSER_VERSION = "olx-spark-packages/1"

# File statuses in the ledger.
STATUS_LOADED = "loaded"  # rows written
STATUS_UNCHANGED = "unchanged"  # same content as the last loaded copy (course, table): not written
STATUS_REJECTED = "rejected"  # nothing written; errors say why (retryable: tried again next run)
# Package rows: `loaded` when every member has a final status, `incomplete` when some member
# must be tried again (a missing key, an unreadable file), `rejected` when the package itself
# cannot be read.
STATUS_INCOMPLETE = "incomplete"

# Columns every package content row carries, first (see DESIGN.md "Layers"): where the row came
# from (file URI and the sha256 of its decrypted content), when it was read, and the package date.
FILE_FIELDS: list[pa.Field] = [
    pa.field("source_system", pa.string()),
    pa.field("course_id", pa.string()),
    pa.field("file_uri", pa.string()),
    pa.field("file_sha256", pa.string()),
    pa.field("retrieved_at", pa.timestamp("us", tz="UTC")),
    pa.field("retrieved_date", pa.date32()),
    pa.field("package_date", pa.date32()),
]

# `raw__edxorg__s3__tables__{table}`: these, then the dump's own columns (all strings).
DUMP_FIELDS: list[pa.Field] = [*FILE_FIELDS, pa.field("line_number", pa.int64())]

COURSE_STRUCTURE_FIELDS: list[pa.Field] = [
    pa.field("block_id", pa.string()),  # usage key: block-v1:... or i4x://...
    pa.field("category", pa.string()),
    pa.field("children", pa.list_(pa.string())),
    pa.field("metadata_json", pa.string()),
    pa.field("parent_block_id", pa.string()),
    pa.field("position", pa.int32()),  # index in the parent's children
    pa.field("block_json", pa.string()),  # the block's whole value, as the file gives it
]

FORUM_FIELDS: list[pa.Field] = [
    pa.field("document_id", pa.string()),
    pa.field("document_type", pa.string()),  # CommentThread or Comment
    pa.field("document_course_id", pa.string()),
    pa.field("comment_thread_id", pa.string()),
    pa.field("parent_id", pa.string()),
    pa.field("commentable_id", pa.string()),
    pa.field("author_id", pa.string()),
    pa.field("author_username", pa.string()),
    pa.field("thread_type", pa.string()),
    pa.field("title", pa.string()),
    pa.field("body", pa.string()),
    pa.field("created_at", pa.timestamp("us", tz="UTC")),
    pa.field("updated_at", pa.timestamp("us", tz="UTC")),
    pa.field("document_json", pa.string()),  # the whole document, extended JSON decoded
    pa.field("line_number", pa.int64()),
]

BAD_LINE_FIELDS: list[pa.Field] = [
    pa.field("target_table", pa.string()),  # the table the line was meant for
    pa.field("line_number", pa.int64()),
    pa.field("reason", pa.string()),
    pa.field("line", pa.string()),
]

# The ledger: one row per file read (or found unreadable) and one per package per run.
LEDGER_FIELDS: list[pa.Field] = [
    pa.field("source_system", pa.string()),
    pa.field("course_id", pa.string()),
    pa.field("file_uri", pa.string()),
    pa.field("file_sha256", pa.string()),
    pa.field("retrieved_at", pa.timestamp("us", tz="UTC")),
    pa.field("retrieved_date", pa.date32()),
    pa.field("package_date", pa.date32()),
    pa.field("package_uri", pa.string()),
    pa.field("org", pa.string()),
    # The object the job listed and read (the zip, or a loose file) and its listing identity.
    pa.field("source_uri", pa.string()),
    pa.field("source_size_bytes", pa.int64()),
    pa.field("source_modified_at", pa.timestamp("us", tz="UTC")),
    pa.field("member_path", pa.string()),
    pa.field("file_kind", pa.string()),
    pa.field("table_name", pa.string()),
    pa.field("target_table", pa.string()),
    pa.field("course", pa.string()),
    pa.field("run", pa.string()),
    pa.field("course_id_hint", pa.string()),  # the course id as the content spells it
    pa.field("encrypted", pa.bool_()),
    pa.field("file_size_bytes", pa.int64()),  # decrypted
    pa.field("header", pa.list_(pa.string())),
    pa.field("row_count", pa.int64()),
    pa.field("bad_line_count", pa.int64()),
    pa.field("member_count", pa.int64()),  # package rows
    pa.field("status", pa.string()),
    pa.field("retryable", pa.bool_()),
    pa.field("errors", pa.list_(ERROR_TYPE)),
    pa.field("parser_version", pa.string()),
]

FIXED_TABLES: dict[str, list[pa.Field]] = {
    COURSE_STRUCTURE_TABLE: [*FILE_FIELDS, *COURSE_STRUCTURE_FIELDS],
    FORUM_TABLE: [*FILE_FIELDS, *FORUM_FIELDS],
    BAD_LINES_TABLE: [*FILE_FIELDS, *BAD_LINE_FIELDS],
    LEDGER_TABLE: LEDGER_FIELDS,
}

TABLE_COMMENTS = {
    COURSE_STRUCTURE_TABLE: "One row per block of a course_structure JSON file in a data package.",
    FORUM_TABLE: "One row per discussion forum document (.mongo) in a data package.",
    BAD_LINES_TABLE: "Lines of data package files that could not be decoded, and why.",
    LEDGER_TABLE: "Ledger: one row per data package file read, and one per package per run.",
}


def dump_table_name(table: str) -> str:
    """`raw__edxorg__s3__tables__{table}`, the one place this name is spelled."""
    return f"{TABLES_PREFIX}{table}"


def table_schema(name: str) -> pa.Schema:
    """Arrow schema of a fixed table, or the declared part of a dump table."""
    if name in FIXED_TABLES:
        return pa.schema(FIXED_TABLES[name])
    if name.startswith(TABLES_PREFIX):
        return pa.schema(DUMP_FIELDS)
    raise ValueError(f"unknown data package table {name!r}")


def reserved_dump_columns() -> list[str]:
    """Columns a dump's own columns must not be named (they are renamed `source_...`)."""
    return [f.name for f in DUMP_FIELDS]


def target_table(kind: str, table: str | None) -> str | None:
    """The raw table a member of this kind lands in (course exports: the course tables, named by
    their `archives` ledger)."""
    from olx_spark.olx.tables import course_table_name
    from olx_spark.packages import names

    if kind in (names.KIND_TABLE, names.KIND_EMAIL_OPT_IN) and table:
        return dump_table_name(table)
    return {
        names.KIND_COURSE_STRUCTURE: COURSE_STRUCTURE_TABLE,
        names.KIND_FORUM: FORUM_TABLE,
        names.KIND_COURSE_XML: course_table_name(PLATFORM, "archives"),
    }.get(kind)
