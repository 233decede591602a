"""Staging Parquet files that an executor's Python worker writes itself, one table per file.

The course archive job parses each archive into rows for six tables. Handing those rows to the
JVM through one wide `mapInArrow` schema made the JVM convert every row (with five empty
structs beside it), write it to a staging folder, and read it back six times. Instead, a task
writes each table's batches straight to Parquet files of that table's own columns, and returns
only a manifest: one small row per file (table, URI, rows). The driver then reads exactly the
files the manifest names, so a failed or retried attempt's files (named by attempt, never
listed) are never read, and the whole staging folder is deleted at the end of the run.

Files go to a local folder (a plain path or `file:`), or to S3 (`s3://` or `s3a://`, with the
job's boto3 settings): Spark reads them back from the same URIs.
"""

from __future__ import annotations

import os
import time
import uuid
from typing import Any
from urllib.parse import urlparse

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from olx_spark.config import S3Config
from olx_spark.storage.listing import is_s3
from olx_spark.storage.s3 import s3_client, split_s3_uri

# The manifest a task returns: one row per file it wrote. A staging file has only `table`, `uri`
# and `rows`; a data file written straight into a Delta table (`olx_spark.storage.delta_files`)
# also names the table's `location`, its `path` there and what its Delta `add` action needs.
ARCHIVE_RANGE = pa.struct(
    [
        pa.field("uri", pa.string(), nullable=False),
        pa.field("first_row", pa.int64(), nullable=False),
        pa.field("rows", pa.int64(), nullable=False),
    ]
)
MANIFEST_SCHEMA = pa.schema(
    [
        pa.field("table", pa.string(), nullable=False),
        pa.field("uri", pa.string(), nullable=False),
        pa.field("rows", pa.int64(), nullable=False),
        pa.field("location", pa.string()),
        pa.field("path", pa.string()),
        pa.field("partition_value", pa.string()),
        pa.field("size_bytes", pa.int64()),
        pa.field("modified_ms", pa.int64()),
        pa.field("stats", pa.string()),
        pa.field("archives", pa.list_(ARCHIVE_RANGE)),
    ]
)

# A file is closed (and a new one started) past this many bytes of Arrow data; on S3, where a
# file is built in memory and uploaded whole, past `S3_FILE_BYTES`, so a task holds at most
# about six of those (one per table) plus one copy while uploading. Row groups are written
# every `ROW_GROUP_BYTES` (what a task buffers per table before writing).
FILE_BYTES = 128 * 1024 * 1024
S3_FILE_BYTES = 32 * 1024 * 1024
ROW_GROUP_BYTES = 16 * 1024 * 1024


def manifest_batch(entries: list[dict[str, Any]]) -> pa.RecordBatch:
    """The manifest rows `entries` (dicts keyed by `MANIFEST_SCHEMA`'s names; missing = null)."""
    return pa.RecordBatch.from_pylist(
        [{name: e.get(name) for name in MANIFEST_SCHEMA.names} for e in entries],
        schema=MANIFEST_SCHEMA,
    )


class ParquetOutput:
    """One Parquet file being written at `uri`: locally, or (S3) built in memory and uploaded
    whole by `close()`. Batches are buffered and written a row group at a time."""

    def __init__(self, uri: str, schema: pa.Schema, s3: S3Config, *, statistics: bool) -> None:
        self.uri = uri
        self.upload = is_s3(uri)
        self._s3 = s3
        self._sink = pa.BufferOutputStream() if self.upload else _open_output(uri)
        self._writer = pq.ParquetWriter(
            self._sink, schema, compression="snappy", write_statistics=statistics
        )
        self._pending: list[pa.RecordBatch] = []
        self._pending_bytes = 0
        self.written_bytes = 0  # Arrow bytes written so far (what the file size limits count)
        self.rows = 0

    def full(self) -> bool:
        return self.written_bytes >= (S3_FILE_BYTES if self.upload else FILE_BYTES)

    def add(self, batch: pa.RecordBatch) -> None:
        self._pending.append(batch)
        self._pending_bytes += batch.nbytes
        self.rows += batch.num_rows
        if self._pending_bytes >= ROW_GROUP_BYTES:
            self.flush()

    def flush(self) -> None:
        if self._pending:
            self._writer.write_table(pa.Table.from_batches(self._pending))
            self.written_bytes += self._pending_bytes
            self._pending, self._pending_bytes = [], 0

    def close(self) -> tuple[int, int]:
        """Finish the file; its size in bytes and its modification time (ms since the epoch)."""
        self.flush()
        self._writer.close()
        if self.upload:
            body = self._sink.getvalue().to_pybytes()  # type: ignore[attr-defined]
            bucket, key = split_s3_uri(self.uri)
            s3_client(self._s3).put_object(Bucket=bucket, Key=key, Body=body)
            return len(body), int(time.time() * 1000)
        self._sink.close()
        if urlparse(self.uri).scheme in ("", "file"):
            info = os.stat(local_file(self.uri))
            return info.st_size, info.st_mtime_ns // 1_000_000
        filesystem, path = pafs.FileSystem.from_uri(self.uri)
        written = filesystem.get_file_info(path)
        modified = written.mtime_ns // 1_000_000 if written.mtime_ns else int(time.time() * 1000)
        return int(written.size or 0), modified


class StagedFiles:
    """Writes batches of several tables to Parquet files under `folder/<table>/`; `close()`
    returns the manifest of every file written.

    `tag` makes this writer's file names unique (Spark's partition and attempt); each file also
    gets a random suffix, so two attempts of a task never write the same file."""

    def __init__(self, folder: str, tag: str, s3: S3Config) -> None:
        self._folder = folder.rstrip("/")
        self._tag = tag
        self._s3 = s3
        self._open: dict[str, ParquetOutput] = {}
        self._manifest: list[dict[str, Any]] = []

    def add(self, table: str, batch: pa.RecordBatch) -> None:
        if batch.num_rows == 0:
            return
        current = self._open.get(table) or self._start(table, batch.schema)
        current.add(batch)
        if current.full():
            self._finish(table)

    def entries(self) -> list[dict[str, Any]]:
        """Finish every file; the manifest rows of all the files written."""
        for table in list(self._open):
            self._finish(table)
        return self._manifest

    def close(self) -> pa.RecordBatch:
        return manifest_batch(self.entries())

    def _start(self, table: str, schema: pa.Schema) -> ParquetOutput:
        name = f"part-{self._tag}-{uuid.uuid4().hex[:12]}.parquet"
        # Read once by Spark and deleted: no statistics, a cheap compression.
        opened = ParquetOutput(f"{self._folder}/{table}/{name}", schema, self._s3, statistics=False)
        self._open[table] = opened
        return opened

    def _finish(self, table: str) -> None:
        current = self._open.pop(table)
        current.close()
        self._manifest.append({"table": table, "uri": current.uri, "rows": current.rows})


def run_folder(root: str) -> str:
    """A fresh folder under `root` for one run's staging files, as a URI every process reads
    the same way: a plain path becomes a `file:` URI (a cluster whose default file system is
    not the local one would otherwise read it elsewhere), written as is, not percent-encoded
    (Hadoop, which reads it back, takes `%20` literally)."""
    if not urlparse(root).scheme:
        root = "file://" + os.path.abspath(root)
    return f"{root.rstrip('/')}/{uuid.uuid4().hex}"


def local_file(uri: str) -> str:
    """The local path of a plain path or `file:` URI, taken literally (no percent-decoding, as
    Hadoop reads it)."""
    return "/" + uri[len("file:") :].lstrip("/") if uri.startswith("file:") else uri


def _open_output(uri: str) -> pa.NativeFile:
    """A writable file at `uri`: a local path (plain or `file:`), else any file system pyarrow
    knows by its URI (HDFS, GCS, Azure...)."""
    parsed = urlparse(uri)
    if parsed.scheme in ("", "file"):
        path = local_file(uri)  # file:/x or file:///x
        os.makedirs(os.path.dirname(path), exist_ok=True)
        return pa.OSFile(path, mode="wb")
    try:
        filesystem, path = pafs.FileSystem.from_uri(uri)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise ValueError(
            f"cannot write staging files to {uri} from Python ({exc}); set `ingest.staging_dir`"
            " to a folder both the executors' Python and Spark can reach (local, s3:// or any"
            " URI pyarrow can write)"
        ) from exc
    return filesystem.open_output_stream(path)
