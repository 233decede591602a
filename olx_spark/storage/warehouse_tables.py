"""The Delta tables of a warehouse, found from its folders without Spark.

Managed tables live where the catalog puts them, `{warehouse}/{schema}.db/{table}/`, with their
log in `_delta_log/`: listing those folders (pyarrow, on a local folder or on S3) finds every
table without a metastore or a JVM. `olx-spark compact` plans from it, and `olx-spark transform`
and `olx-spark report` use it to see that nothing changed since their last run
(`olx_spark.storage.warehouse_state`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pyarrow.fs as pafs

from olx_spark.config import S3Config
from olx_spark.storage.delta_log import (
    LOG_DIR,
    TableLocation,
    UnsupportedDeltaTable,
    table_location,
)

SCHEMA_SUFFIX = ".db"


@dataclass(frozen=True)
class WarehouseTable:
    """A Delta table found in the warehouse folder."""

    schema: str
    name: str
    uri: str  # the table folder, as Spark reads it (absolute path or s3a:// URI)

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"


def list_tables(
    warehouse: str, s3: S3Config, schemas: Iterable[str] | None = None
) -> list[WarehouseTable]:
    """Every Delta table under `{warehouse}/{schema}.db/` (only `schemas`, if given; names
    compared lower-case, as the catalog stores them), sorted by schema and name."""
    root = table_location(warehouse, s3)
    if root.filesystem.get_file_info(root.path).type == pafs.FileType.NotFound:
        raise UnsupportedDeltaTable(f"no warehouse at {warehouse}")
    wanted = {s.lower() for s in schemas} if schemas is not None else None
    found = []
    for schema_dir in _subfolders(root.filesystem, root.path):
        name = schema_dir.rsplit("/", 1)[-1]
        if not name.endswith(SCHEMA_SUFFIX):
            continue
        schema = name.removesuffix(SCHEMA_SUFFIX)
        if wanted is not None and schema.lower() not in wanted:
            continue
        for table_dir in _subfolders(root.filesystem, schema_dir):
            log = root.filesystem.get_file_info(f"{table_dir}/{LOG_DIR}")
            if log.type == pafs.FileType.Directory:
                table = table_dir.rsplit("/", 1)[-1]
                found.append(WarehouseTable(schema, table, _uri(warehouse, root, table_dir)))
    return sorted(found, key=lambda t: (t.schema, t.name))


def _subfolders(filesystem: pafs.FileSystem, path: str) -> list[str]:
    try:
        infos = filesystem.get_file_info(pafs.FileSelector(path, allow_not_found=True))
    except OSError as exc:
        raise UnsupportedDeltaTable(f"cannot list {path}: {exc}") from exc
    return sorted(i.path for i in infos if i.type == pafs.FileType.Directory)


def _uri(warehouse: str, root: TableLocation, table_dir: str) -> str:
    """The table folder in the warehouse's own terms (`s3a://bucket/...` stays a URI)."""
    if "://" in warehouse and not warehouse.startswith("file://"):
        scheme = warehouse.split("://", 1)[0]
        return f"{scheme}://{table_dir}"
    return table_dir
