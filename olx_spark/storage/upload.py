"""Writing gzip JSON lines to S3 from an executor, one object per date folder per task.

Spark's own text writer needs an S3 file system in the JVM (EMRFS on EMR, Databricks' own; a
local session has none, and the AWS SDK bundle it would need is ~600 MB). The readers already
reach S3 from Python with boto3 and the `[s3]` settings, so the writers do too: a task streams
its lines into one gzip temp file per date (local disk, never all in memory), then uploads each
(boto3's managed transfer: multipart for large files) and deletes it. Object names carry the run
id and the task's partition, so a retried task overwrites its own earlier attempt instead of
adding a second copy.
"""

from __future__ import annotations

import gzip
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pyarrow as pa
import pyarrow.compute as pc

from olx_spark.config import S3Config
from olx_spark.storage.s3 import s3_client, split_s3_uri

NULL_PARTITION = "__HIVE_DEFAULT_PARTITION__"
UPLOADED_SCHEMA = pa.schema([pa.field("uri", pa.string()), pa.field("lines", pa.int64())])


@dataclass(frozen=True)
class JsonLinesTarget:
    """Where one run's files go: `{prefix}/{partition_column}={value}/part-{task}-{run}.txt.gz`."""

    prefix: str  # s3://bucket/some/folder
    partition_column: str
    run_id: str

    def key(self, value: str, task: int) -> tuple[str, str]:
        """(bucket, key) of one task's file for one partition value."""
        bucket, folder = split_s3_uri(self.prefix.rstrip("/"))
        name = f"{self.partition_column}={value}/part-{task:05d}-{self.run_id}.txt.gz"
        return bucket, f"{folder}/{name}" if folder else name


def upload_json_lines(
    batches: Iterable[pa.RecordBatch],
    target: JsonLinesTarget,
    task: int,
    s3: S3Config,
    line_column: str,
) -> Iterator[pa.RecordBatch]:
    """Batches of (`line_column`, `target.partition_column`) -> one uploaded gzip file per
    partition value; yields (uri, lines) per file. The temp files go whatever happens."""
    column = target.partition_column
    with tempfile.TemporaryDirectory(prefix="olx-spark-out-") as tmp, ExitStack() as stack:
        files: dict[str, tuple[Path, IO[bytes]]] = {}
        counts: dict[str, int] = {}
        for batch in batches:
            table = pa.Table.from_batches([batch]).filter(pc.is_valid(batch.column(line_column)))
            for value in pc.unique(table.column(column)).to_pylist():
                if value is None:  # as Spark names a null partition value
                    key, mask = NULL_PARTITION, pc.is_null(table.column(column))
                else:
                    key, mask = str(value), pc.equal(table.column(column), value)
                lines = table.filter(mask).column(line_column)
                if key not in files:
                    path = Path(tmp) / f"{len(files)}.txt.gz"
                    files[key] = (path, stack.enter_context(gzip.open(path, "wb")))
                    counts[key] = 0
                files[key][1].write(("\n".join(lines.to_pylist()) + "\n").encode("utf-8"))
                counts[key] += len(lines)
        client: Any = s3_client(s3)
        uris, lines_per_file = [], []
        for key, (path, out) in sorted(files.items()):
            out.close()
            bucket, name = target.key(key, task)
            client.upload_file(str(path), bucket, name)
            uris.append(f"s3://{bucket}/{name}")
            lines_per_file.append(counts[key])
        if uris:
            yield pa.record_batch(
                [pa.array(uris, pa.string()), pa.array(lines_per_file, pa.int64())],
                schema=UPLOADED_SCHEMA,
            )
