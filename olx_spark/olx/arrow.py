"""Parsed archives -> Arrow record batches, one table's columns per batch.

`entity_batches` turns one parsed archive into narrow batches: each holds one course table's
columns (`file_schema`: the table's own, led by the `archive_uri` the rows came from), so the
course archive job's executors write each table's rows to a staging Parquet file of its own and
nothing crosses into the JVM that the table does not need.

The data package job reads course exports among other files and has one `mapInArrow` output
schema for all of them, so it takes the wide form (`parsed_to_batches`, `staging_schema`): a
`kind` column (which table a row belongs to), the `archive_uri`, and one struct column per table,
of which only the row's own is filled. Both forms are made from the same narrow batches.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

import pyarrow as pa

from olx_spark.olx.model import PARSER_VERSION, ParsedArchive
from olx_spark.olx.tables import ENTITIES, table_schema

KIND = "kind"
ARCHIVE_URI = "archive_uri"


@cache
def staging_schema() -> pa.Schema:
    """The wide staging layout: `kind`, `archive_uri`, then one struct per table."""
    fields = [pa.field(KIND, pa.string(), nullable=False), pa.field(ARCHIVE_URI, pa.string())]
    fields += [pa.field(e, pa.struct(list(table_schema(e)))) for e in ENTITIES]
    return pa.schema(fields)


@cache
def file_schema(entity: str) -> pa.Schema:
    """One table's staged rows: `archive_uri` (where the rows came from), then the table's own
    columns; the `archives` ledger has `archive_uri` among its columns already."""
    table = table_schema(entity)
    if ARCHIVE_URI in table.names:
        return table
    return pa.schema([pa.field(ARCHIVE_URI, pa.string(), nullable=False), *table])


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


def entity_batch(
    entity: str, rows: list[dict[str, Any]], common: dict[str, Any], uri: str
) -> pa.RecordBatch:
    """`rows` of one table as a batch of `file_schema(entity)`, with the `common` values (and
    `uri` as `archive_uri`) repeated on every row."""
    constant = {**common, ARCHIVE_URI: uri}
    n = len(rows)
    arrays: list[pa.Array] = []
    schema = file_schema(entity)
    for f in schema:
        if f.name in constant:
            arrays.append(pa.repeat(pa.scalar(constant[f.name], type=f.type), n))
        else:
            arrays.append(pa.array([r[f.name] for r in rows], type=f.type))
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def entity_batches(
    parsed: ParsedArchive,
    source: ArchiveSource,
    *,
    source_system: str,
    retrieved_at: datetime,
    status: str,
) -> Iterator[tuple[str, pa.RecordBatch]]:
    """(table, batch) pairs: the content tables' rows (only when loaded), then the one
    `archives` ledger row."""
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
                yield entity, entity_batch(entity, rows, common, source.uri)
    ledger = [archive_row(parsed, source, status)]
    yield "archives", entity_batch("archives", ledger, common, source.uri)


def widen(entity: str, batch: pa.RecordBatch) -> pa.RecordBatch:
    """A narrow batch of `entity` in the wide staging layout (`staging_schema`)."""
    schema = staging_schema()
    struct_type = schema.field(entity).type
    n = batch.num_rows
    struct = pa.StructArray.from_arrays(
        [batch.column(f.name) for f in struct_type], fields=list(struct_type)
    )
    arrays: list[pa.Array] = [pa.repeat(pa.scalar(entity), n), batch.column(ARCHIVE_URI)]
    for e in ENTITIES:
        arrays.append(struct if e == entity else pa.nulls(n, type=schema.field(e).type))
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def parsed_to_batches(
    parsed: ParsedArchive,
    source: ArchiveSource,
    *,
    source_system: str,
    retrieved_at: datetime,
    status: str,
) -> Iterator[pa.RecordBatch]:
    """`entity_batches` in the wide staging layout: content batches (only when loaded), then the
    one `archives` ledger row."""
    for entity, batch in entity_batches(
        parsed, source, source_system=source_system, retrieved_at=retrieved_at, status=status
    ):
        yield widen(entity, batch)
