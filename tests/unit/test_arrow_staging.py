"""Parsed rows -> Arrow staging batches: one struct per table, common columns filled."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pyarrow as pa

from olx_spark.olx.arrow import ArchiveSource, parsed_to_batches, staging_schema
from olx_spark.olx.model import ArchiveError, ParsedArchive
from olx_spark.olx.tables import ENTITIES, entity_columns

AT = datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)
SOURCE = ArchiveSource("file:///x/a.tar.gz", 123, AT)


def _edge(i: int) -> dict:
    return {"parent_block_id": "p", "child_block_id": f"c{i}", "position": i, "is_draft": False}


def _parsed(**kw) -> ParsedArchive:
    return ParsedArchive(
        archive_sha256="ab" * 32, archive_size_bytes=123, course_id="course-v1:O+C+R", **kw
    )


def _table(batches: list[pa.RecordBatch]) -> pa.Table:
    return pa.Table.from_batches(batches, schema=staging_schema())


def test_loaded_archive_gives_content_then_ledger_row():
    parsed = _parsed(rows={"edges": [_edge(0), _edge(1)], "pages": []})
    table = _table(
        list(
            parsed_to_batches(
                parsed, SOURCE, source_system="prod", retrieved_at=AT, status="loaded"
            )
        )
    )

    assert table.column("kind").to_pylist() == ["edges", "edges", "archives"]
    edges = table.column("edges").to_pylist()[:2]
    assert [e["child_block_id"] for e in edges] == ["c0", "c1"]
    assert {e["source_system"] for e in edges} == {"prod"}
    assert {e["retrieved_date"] for e in edges} == {date(2025, 3, 4)}
    assert {e["course_id"] for e in edges} == {"course-v1:O+C+R"}
    # Only a row's own struct is filled.
    assert table.column("blocks").null_count == 3
    assert table.column("edges").to_pylist()[2] is None
    ledger = table.column("archives").to_pylist()[2]
    assert ledger["status"] == "loaded" and ledger["archive_uri"] == SOURCE.uri
    assert ledger["errors"] == [] and ledger["block_count"] == 0


def test_rejected_archive_gives_only_its_ledger_row_with_the_reason():
    parsed = _parsed(rows={"edges": [_edge(0)]}, rejection=ArchiveError(None, "bomb", "too big"))
    batches = list(
        parsed_to_batches(parsed, SOURCE, source_system="prod", retrieved_at=AT, status="rejected")
    )
    (row,) = _table(batches).column("archives").to_pylist()
    assert row["status"] == "rejected"
    assert row["errors"] == [{"path": None, "kind": "bomb", "message": "too big"}]


def test_staging_schema_has_a_struct_per_table_with_all_columns():
    schema = staging_schema()
    for entity in ENTITIES:
        names = [f.name for f in schema.field(entity).type]
        assert names[5:] == entity_columns(entity)
