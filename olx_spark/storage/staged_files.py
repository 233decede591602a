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
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlparse

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from olx_spark.config import S3Config
from olx_spark.storage.listing import is_s3
from olx_spark.storage.s3 import s3_client, split_s3_uri

# The manifest a task returns: one row per file it wrote.
MANIFEST_SCHEMA = pa.schema(
    [
        pa.field("table", pa.string(), nullable=False),
        pa.field("uri", pa.string(), nullable=False),
        pa.field("rows", pa.int64(), nullable=False),
    ]
)

# A file is closed (and a new one started) past this many bytes of Arrow data; on S3, where a
# file is built in memory and uploaded whole, past `S3_FILE_BYTES`, so a task holds at most
# about six of those (one per table) plus one copy while uploading. Row groups are written
# every `ROW_GROUP_BYTES` (what a task buffers per table before writing).
FILE_BYTES = 128 * 1024 * 1024
S3_FILE_BYTES = 32 * 1024 * 1024
ROW_GROUP_BYTES = 16 * 1024 * 1024


@dataclass
class _OpenFile:
    uri: str
    sink: pa.NativeFile
    writer: pq.ParquetWriter
    upload: bool  # S3: the file is built in memory (`sink`) and uploaded when finished
    pending: list[pa.RecordBatch] = field(default_factory=list)
    pending_bytes: int = 0
    written_bytes: int = 0
    rows: int = 0


class StagedFiles:
    """Writes batches of several tables to Parquet files under `folder/<table>/`; `close()`
    returns the manifest of every file written.

    `tag` makes this writer's file names unique (Spark's partition and attempt); each file also
    gets a random suffix, so two attempts of a task never write the same file."""

    def __init__(self, folder: str, tag: str, s3: S3Config) -> None:
        self._folder = folder.rstrip("/")
        self._tag = tag
        self._s3 = s3
        self._open: dict[str, _OpenFile] = {}
        self._manifest: list[tuple[str, str, int]] = []

    def add(self, table: str, batch: pa.RecordBatch) -> None:
        if batch.num_rows == 0:
            return
        current = self._open.get(table) or self._start(table, batch.schema)
        current.pending.append(batch)
        current.pending_bytes += batch.nbytes
        current.rows += batch.num_rows
        if current.pending_bytes >= ROW_GROUP_BYTES:
            self._flush(current)
        if current.written_bytes >= (S3_FILE_BYTES if current.upload else FILE_BYTES):
            self._finish(table)

    def close(self) -> pa.RecordBatch:
        for table in list(self._open):
            self._finish(table)
        tables, uris, rows = zip(*self._manifest, strict=True) if self._manifest else ((), (), ())
        return pa.RecordBatch.from_arrays(
            [
                pa.array(tables, pa.string()),
                pa.array(uris, pa.string()),
                pa.array(rows, pa.int64()),
            ],
            schema=MANIFEST_SCHEMA,
        )

    def _start(self, table: str, schema: pa.Schema) -> _OpenFile:
        name = f"part-{self._tag}-{uuid.uuid4().hex[:12]}.parquet"
        uri = f"{self._folder}/{table}/{name}"
        upload = is_s3(uri)
        sink = pa.BufferOutputStream() if upload else _open_output(uri)
        # Read once by Spark and deleted: no statistics, a cheap compression.
        writer = pq.ParquetWriter(sink, schema, compression="snappy", write_statistics=False)
        self._open[table] = opened = _OpenFile(uri, sink, writer, upload)
        return opened

    def _flush(self, current: _OpenFile) -> None:
        if current.pending:
            current.writer.write_table(pa.Table.from_batches(current.pending))
            current.written_bytes += current.pending_bytes
            current.pending, current.pending_bytes = [], 0

    def _finish(self, table: str) -> None:
        current = self._open.pop(table)
        self._flush(current)
        current.writer.close()
        if current.upload:
            body = current.sink.getvalue().to_pybytes()  # type: ignore[attr-defined]
            bucket, key = split_s3_uri(current.uri)
            s3_client(self._s3).put_object(Bucket=bucket, Key=key, Body=body)
        else:
            current.sink.close()
        self._manifest.append((table, current.uri, current.rows))


def run_folder(root: str) -> str:
    """A fresh folder under `root` for one run's staging files, as a URI every process reads
    the same way: a plain path becomes a `file:` URI (a cluster whose default file system is
    not the local one would otherwise read it elsewhere), written as is, not percent-encoded
    (Hadoop, which reads it back, takes `%20` literally)."""
    if not urlparse(root).scheme:
        root = "file://" + os.path.abspath(root)
    return f"{root.rstrip('/')}/{uuid.uuid4().hex}"


def _open_output(uri: str) -> pa.NativeFile:
    """A writable file at `uri`: a local path (plain or `file:`), else any file system pyarrow
    knows by its URI (HDFS, GCS, Azure...)."""
    parsed = urlparse(uri)
    if parsed.scheme in ("", "file"):
        # file:/x or file:///x, taken literally (no percent-decoding, as Hadoop reads it)
        path = "/" + uri[len("file:") :].lstrip("/") if parsed.scheme else uri
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
