"""Hand-written Delta tables (JSON commits, Parquet data files and checkpoints written with
pyarrow) for testing the pyarrow-only log reader without a JVM. They follow Delta's protocol
the way Spark writes it: INT96 timestamps, URI-encoded relative paths, partition folders."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pyarrow as pa
import pyarrow.parquet as pq

PROTOCOL = {"minReaderVersion": 1, "minWriterVersion": 2}


def delta_schema_string(fields: dict[str, str], partition: str | None = None) -> str:
    cols = [*fields.items(), *([(partition, "date")] if partition else [])]
    return json.dumps(
        {
            "type": "struct",
            "fields": [{"name": n, "type": t, "nullable": True, "metadata": {}} for n, t in cols],
        }
    )


def metadata_action(
    fields: dict[str, str],
    partition: str | None = None,
    configuration: dict[str, str] | None = None,
) -> dict[str, Any]:
    return {
        "metaData": {
            "id": "test-table",
            "format": {"provider": "parquet", "options": {}},
            "schemaString": delta_schema_string(fields, partition),
            "partitionColumns": [partition] if partition else [],
            "configuration": configuration or {},
            "createdTime": 0,
        }
    }


class DeltaTableWriter:
    """Writes a Delta table folder step by step: data files, commits, checkpoints."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.log = root / "_delta_log"
        self.log.mkdir(parents=True, exist_ok=True)
        self.version = -1
        self._files = 0

    def data_file(self, table: pa.Table, partition: str | None = None) -> dict[str, Any]:
        """Write `table` as a Parquet data file (INT96 timestamps, like Spark); its add action."""
        self._files += 1
        folder = f"{partition}/" if partition else ""
        relative = f"{folder}part-{self._files:05d} x.snappy.parquet"  # a space: URI-encoded
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, path, use_deprecated_int96_timestamps=True)
        values = dict([partition.split("=", 1)]) if partition else {}
        return {
            "add": {
                "path": quote(relative),
                "partitionValues": values,
                "size": path.stat().st_size,
                "modificationTime": 0,
                "dataChange": True,
            }
        }

    def commit(self, *actions: dict[str, Any]) -> int:
        self.version += 1
        lines = [json.dumps({"commitInfo": {"operation": "WRITE"}})]
        lines += [json.dumps(a) for a in actions]
        (self.log / f"{self.version:020d}.json").write_text("\n".join(lines) + "\n")
        return self.version

    def checkpoint(self, actions: list[dict[str, Any]], parts: int = 1) -> None:
        """A classic checkpoint of the current version holding `actions` (one per row)."""
        rows = [{k: a.get(k) for k in ("protocol", "metaData", "add", "remove")} for a in actions]
        for i in range(parts):
            chunk = rows[i::parts]
            name = (
                f"{self.version:020d}.checkpoint.parquet"
                if parts == 1
                else f"{self.version:020d}.checkpoint.{i + 1:010d}.{parts:010d}.parquet"
            )
            pq.write_table(pa.Table.from_pylist(chunk, schema=CHECKPOINT_SCHEMA), self.log / name)


_ADD = pa.struct(
    [
        ("path", pa.string()),
        ("partitionValues", pa.map_(pa.string(), pa.string())),
        ("size", pa.int64()),
        ("modificationTime", pa.int64()),
        ("dataChange", pa.bool_()),
        ("stats", pa.string()),
        (
            "deletionVector",
            pa.struct([("storageType", pa.string()), ("pathOrInlineDv", pa.string())]),
        ),
    ]
)
CHECKPOINT_SCHEMA = pa.schema(
    [
        (
            "protocol",
            pa.struct([("minReaderVersion", pa.int32()), ("minWriterVersion", pa.int32())]),
        ),
        (
            "metaData",
            pa.struct(
                [
                    ("id", pa.string()),
                    ("format", pa.struct([("provider", pa.string())])),
                    ("schemaString", pa.string()),
                    ("partitionColumns", pa.list_(pa.string())),
                    ("configuration", pa.map_(pa.string(), pa.string())),
                    ("createdTime", pa.int64()),
                ]
            ),
        ),
        ("add", _ADD),
        ("remove", pa.struct([("path", pa.string()), ("dataChange", pa.bool_())])),
    ]
)


def remove_action(add: dict[str, Any]) -> dict[str, Any]:
    return {"remove": {"path": add["add"]["path"], "dataChange": True}}
