"""What executors emit for one data package file: Arrow record batches in one staging layout.

`mapInArrow` has one output schema, but one file yields rows for very different tables. So the
staging schema has a `kind` (what a row is), the dump `table` (lines only), the `file_uri`, and
one column group per kind, of which a row fills only its own:

- `line` (a raw `.sql` line: `line_number`, `line`), `csv` (an email opt-in record already split:
  `fields`) and `bad_line` (`line`, `reason`): these stay undecoded; Spark splits and decodes them
  with built-in functions, naming columns from each file's header.
- `structure` and `forum`: struct rows, decoded in Python (JSON).
- `file`: the file's ledger row, last, once the file has been read to the end.
- the course archive kinds (`archives`, `blocks`, ...) and their struct columns, exactly the
  course archive job's staging layout (`olx_spark.olx.arrow`), for course exports in a package.

Content rows carry only the file URI: the file-level columns (course, sha256, retrieval time,
...) are joined from the file's ledger row when the tables are written, because a file's sha256
is only known once all of its lines have been emitted.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import pyarrow as pa

from olx_spark.olx.arrow import staging_schema as course_staging_schema
from olx_spark.packages.tables import (
    COURSE_STRUCTURE_FIELDS,
    FORUM_FIELDS,
    LEDGER_FIELDS,
)

KIND = "kind"
KIND_LINE = "line"
KIND_CSV = "csv"
KIND_BAD_LINE = "bad_line"
KIND_STRUCTURE = "structure"
KIND_FORUM = "forum"
KIND_FILE = "file"
PACKAGE_KINDS = (KIND_LINE, KIND_CSV, KIND_BAD_LINE, KIND_STRUCTURE, KIND_FORUM, KIND_FILE)


@cache
def staging_schema() -> pa.Schema:
    fields = [
        pa.field(KIND, pa.string(), nullable=False),
        pa.field("table", pa.string()),
        pa.field("file_uri", pa.string()),
        pa.field("line_number", pa.int64()),
        pa.field("line", pa.string()),
        pa.field("fields", pa.list_(pa.string())),
        pa.field("reason", pa.string()),
        pa.field(KIND_STRUCTURE, pa.struct(COURSE_STRUCTURE_FIELDS)),
        pa.field(KIND_FORUM, pa.struct([f for f in FORUM_FIELDS if f.name != "line_number"])),
        pa.field(KIND_FILE, pa.struct(LEDGER_FIELDS)),
    ]
    # The course archive staging columns, as they are (their `kind` is ours).
    fields += [f for f in course_staging_schema() if f.name != KIND]
    return pa.schema(fields)


def _batch(kind: str, n: int, columns: dict[str, pa.Array]) -> pa.RecordBatch:
    schema = staging_schema()
    arrays = []
    for f in schema:
        if f.name == KIND:
            arrays.append(pa.repeat(pa.scalar(kind, pa.string()), n))
        elif f.name in columns:
            arrays.append(columns[f.name])
        else:
            arrays.append(pa.nulls(n, type=f.type))
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def _repeat(value: str | None, n: int) -> pa.Array:
    return pa.repeat(pa.scalar(value, pa.string()), n)


def lines_batch(table: str, file_uri: str, numbers: pa.Array, lines: pa.Array) -> pa.RecordBatch:
    n = len(lines)
    return _batch(
        KIND_LINE,
        n,
        {
            "table": _repeat(table, n),
            "file_uri": _repeat(file_uri, n),
            "line_number": numbers,
            "line": lines,
        },
    )


def csv_batch(
    table: str, file_uri: str, numbers: list[int], records: list[list[str]]
) -> pa.RecordBatch:
    n = len(records)
    return _batch(
        KIND_CSV,
        n,
        {
            "table": _repeat(table, n),
            "file_uri": _repeat(file_uri, n),
            "line_number": pa.array(numbers, pa.int64()),
            "fields": pa.array(records, pa.list_(pa.string())),
        },
    )


def bad_lines_batch(
    table: str | None,
    file_uri: str,
    numbers: pa.Array,
    lines: pa.Array,
    reasons: pa.Array,
) -> pa.RecordBatch:
    n = len(lines)
    return _batch(
        KIND_BAD_LINE,
        n,
        {
            "table": _repeat(table, n),
            "file_uri": _repeat(file_uri, n),
            "line_number": numbers,
            "line": lines,
            "reason": reasons,
        },
    )


def struct_rows_batch(
    kind: str, file_uri: str, rows: list[dict[str, Any]], numbers: list[int] | None = None
) -> pa.RecordBatch:
    """`structure` or `forum` rows (dicts keyed by that struct's field names)."""
    n = len(rows)
    struct_type = staging_schema().field(kind).type
    columns = {
        "file_uri": _repeat(file_uri, n),
        kind: pa.array(rows, type=struct_type),
    }
    if numbers is not None:
        columns["line_number"] = pa.array(numbers, pa.int64())
    return _batch(kind, n, columns)


def file_batch(row: dict[str, Any]) -> pa.RecordBatch:
    """The one ledger row of a file (keys: `LEDGER_FIELDS` names; missing ones are null)."""
    struct_type = staging_schema().field(KIND_FILE).type
    full = {f.name: row.get(f.name) for f in LEDGER_FIELDS}
    return _batch(
        KIND_FILE,
        1,
        {"file_uri": _repeat(row.get("file_uri"), 1), KIND_FILE: pa.array([full], struct_type)},
    )


def course_batch(batch: pa.RecordBatch) -> pa.RecordBatch:
    """A course archive staging batch, widened to this layout (same columns, more nulls)."""
    n = batch.num_rows
    kinds = batch.column(KIND)
    kind = kinds[0].as_py() if n else "archives"
    columns = {name: batch.column(name) for name in batch.schema.names if name != KIND}
    return _batch(kind, n, columns)
