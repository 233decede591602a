"""The course tables: names and columns, declared once.

Every course table's schema is an Arrow schema here; the Spark layer derives its `StructType`s
from these (`olx_spark.spark.schemas`), the parser fills dicts keyed by these column names, and
dbt's sources document the same columns. Change a column here and everything follows.
"""

from __future__ import annotations

import pyarrow as pa

PLATFORMS = ("edxorg", "openedx")

# Columns every row carries (see DESIGN.md "Layers"). `course_id` may be null only on the
# `archives` row of an archive rejected before its course was known.
COMMON_FIELDS: list[pa.Field] = [
    pa.field("source_system", pa.string(), nullable=False),
    pa.field("course_id", pa.string()),
    pa.field("archive_sha256", pa.string(), nullable=False),
    pa.field("retrieved_at", pa.timestamp("us", tz="UTC"), nullable=False),
    pa.field("retrieved_date", pa.date32(), nullable=False),
]

ERROR_TYPE = pa.struct(
    [
        pa.field("path", pa.string()),
        pa.field("kind", pa.string()),
        pa.field("message", pa.string()),
    ]
)

STRING_MAP = pa.map_(pa.string(), pa.string())

# Table-specific columns, in order, after the common ones.
ENTITY_FIELDS: dict[str, list[pa.Field]] = {
    "archives": [
        pa.field("archive_uri", pa.string()),
        pa.field("archive_size_bytes", pa.int64()),
        pa.field("archive_modified_at", pa.timestamp("us", tz="UTC")),
        pa.field("org", pa.string()),
        pa.field("course", pa.string()),
        pa.field("run", pa.string()),
        pa.field("course_version", pa.string()),
        pa.field("block_count", pa.int32()),
        pa.field("status", pa.string()),
        pa.field("errors", pa.list_(ERROR_TYPE)),
        pa.field("parser_version", pa.string()),
    ],
    "blocks": [
        pa.field("block_id", pa.string()),
        pa.field("block_type", pa.string()),
        pa.field("url_name", pa.string()),
        pa.field("block_title", pa.string()),
        pa.field("parent_block_id", pa.string()),
        pa.field("position", pa.int32()),
        pa.field("depth", pa.int32()),
        pa.field("is_draft", pa.bool_()),
        pa.field("is_orphan", pa.bool_()),
        pa.field("xml_path", pa.string()),
        pa.field("xml_attributes", STRING_MAP),
        pa.field("settings", STRING_MAP),
        pa.field("raw_xml", pa.string()),
        pa.field("content", pa.string()),
        pa.field("block_hash", pa.string()),
        pa.field("subtree_hash", pa.string()),
    ],
    "edges": [
        pa.field("parent_block_id", pa.string()),
        pa.field("child_block_id", pa.string()),
        pa.field("position", pa.int32()),
        pa.field("is_draft", pa.bool_()),
    ],
    "policies": [
        pa.field("policy_file", pa.string()),
        pa.field("policy_key", pa.string()),
        pa.field("block_id", pa.string()),
        pa.field("setting", pa.string()),
        pa.field("value_json", pa.string()),
    ],
    "pages": [
        pa.field("page_type", pa.string()),
        pa.field("name", pa.string()),
        pa.field("path", pa.string()),
        pa.field("content", pa.string()),
    ],
    "static_files": [
        pa.field("path", pa.string()),
        pa.field("size_bytes", pa.int64()),
        pa.field("sha256", pa.string()),
        pa.field("mime_type", pa.string()),
        pa.field("asset_metadata_json", pa.string()),
    ],
}

ENTITIES: tuple[str, ...] = tuple(ENTITY_FIELDS)
CONTENT_ENTITIES: tuple[str, ...] = tuple(e for e in ENTITIES if e != "archives")
PARTITION_COLUMN = "retrieved_date"

# Archive statuses in the `archives` ledger.
STATUS_LOADED = "loaded"  # rows written (errors may still list bad parts of the course)
STATUS_REJECTED = "rejected"  # nothing written; errors say why
STATUS_DUPLICATE = "duplicate"  # same bytes as an archive already loaded; nothing written
STATUSES = (STATUS_LOADED, STATUS_REJECTED, STATUS_DUPLICATE)


def table_schema(entity: str) -> pa.Schema:
    """Full Arrow schema of one course table: common columns, then the entity's own."""
    return pa.schema(COMMON_FIELDS + ENTITY_FIELDS[entity])


def entity_columns(entity: str) -> list[str]:
    """Names of the columns the parser fills for `entity` (everything but the common ones)."""
    return [f.name for f in ENTITY_FIELDS[entity]]


def course_table_name(platform: str, entity: str) -> str:
    """`raw__{platform}__s3__course_xml_{entity}`, the one place this name is spelled."""
    if platform not in PLATFORMS:
        raise ValueError(f"platform must be one of {', '.join(PLATFORMS)}, not {platform!r}")
    if entity not in ENTITY_FIELDS:
        raise ValueError(f"unknown course table {entity!r}")
    return f"raw__{platform}__s3__course_xml_{entity}"
