"""Parsed archives -> Arrow record batches in the staging layout the Spark job reads in bulk.

One parse produces rows for six tables, but `mapInArrow` has one output schema. The staging
schema therefore has a `kind` column (which table a row belongs to), the `archive_uri` it came
from, and one struct column per table, of which only the row's own is filled. The job writes
this once to Parquet partitioned by `kind` and each table reads back only its own part.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pyarrow as pa

from olx_spark.olx.model import PARSER_VERSION, ParsedArchive
from olx_spark.olx.tables import ENTITIES, table_schema

KIND = "kind"
ARCHIVE_URI = "archive_uri"


def staging_schema() -> pa.Schema:
    fields = [pa.field(KIND, pa.string(), nullable=False), pa.field(ARCHIVE_URI, pa.string())]
    fields += [pa.field(e, pa.struct(list(table_schema(e)))) for e in ENTITIES]
    return pa.schema(fields)


@dataclass(frozen=True)
class ArchiveSource:
    """What the driver knows about one archive before it is read."""

    uri: str
    size: int
    modified_at: datetime | None


def archive_row(
    parsed: ParsedArchive,
    source: ArchiveSource,
    status: str,
) -> dict[str, Any]:
    return {
        "archive_uri": source.uri,
        "archive_size_bytes": parsed.archive_size_bytes,
        "archive_modified_at": source.modified_at,
        "org": parsed.org,
        "course": parsed.course,
        "run": parsed.run,
        "course_version": parsed.course_version,
        "block_count": parsed.block_count,
        "status": status,
        "errors": [e.as_row() for e in parsed.all_errors()],
        "parser_version": PARSER_VERSION,
    }


def _batch(
    entity: str, rows: list[dict[str, Any]], common: dict[str, Any], uri: str
) -> pa.RecordBatch:
    schema = staging_schema()
    struct_type = schema.field(entity).type
    n = len(rows)
    columns: dict[str, pa.Array] = {}
    for f in struct_type:
        if f.name in common:
            columns[f.name] = pa.array([common[f.name]] * n, type=f.type)
        else:
            columns[f.name] = pa.array([r[f.name] for r in rows], type=f.type)
    struct = pa.StructArray.from_arrays(list(columns.values()), fields=list(struct_type))
    arrays: list[pa.Array] = [pa.array([entity] * n, pa.string()), pa.array([uri] * n)]
    for e in ENTITIES:
        t = schema.field(e).type
        arrays.append(struct if e == entity else pa.nulls(n, type=t))
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def parsed_to_batches(
    parsed: ParsedArchive,
    source: ArchiveSource,
    *,
    source_system: str,
    retrieved_at: datetime,
    status: str,
) -> Iterator[pa.RecordBatch]:
    """Content batches (only when loaded), then the one `archives` ledger row."""
    common = {
        "source_system": source_system,
        "course_id": parsed.course_id,
        "archive_sha256": parsed.archive_sha256,
        "retrieved_at": retrieved_at,
        "retrieved_date": retrieved_at.date(),
    }
    if status == "loaded":
        for entity, rows in parsed.rows.items():
            if rows:
                yield _batch(entity, rows, common, source.uri)
    yield _batch("archives", [archive_row(parsed, source, status)], common, source.uri)
