"""Read one tracking log end to end, on an executor: open, decrypt, gunzip, emit its lines.

The file is streamed once: from storage (`olx_spark.storage.reading`), through gpg when its name
ends in `.gpg` (`olx_spark.packages.gpg`, no plaintext on disk), through `zlib` when its bytes are
gzip, and cut into Arrow arrays of lines (`olx_spark.tracking.lines`). Batches of
`(file_uri, line_number, line)` go out as they are made, in the staging layout
(`olx_spark.tracking.tables.STAGING_FIELDS`); the file's ledger row comes last and says whether
the lines before it count. Nothing here raises for a bad file: every failure becomes a status
and a reason.

- damaged gzip (truncated, corrupt, trailing garbage): `partial`, the lines before the damage
  count (the last, incomplete one is a bad line), the error says where reading stopped;
- gpg failure (no key, wrong passphrase: `retryable`; corrupt or truncated encrypted data, which
  gpg reports only at the end): `rejected`, no line counts, since plaintext that failed its
  integrity check cannot be trusted;
- storage failure: `rejected`, `retryable`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from olx_spark.config import S3Config
from olx_spark.packages.gpg import DecryptError, GpgSettings, open_decrypted
from olx_spark.storage.reading import open_uri
from olx_spark.tracking.lines import LineBatch, Plaintext, read_lines
from olx_spark.tracking.names import parse_log_name, source_system_of
from olx_spark.tracking.tables import (
    KIND_FILE,
    KIND_LINE,
    LEDGER_FIELDS,
    PARSER_VERSION,
    STATUS_LOADED,
    STATUS_PARTIAL,
    STATUS_REJECTED,
    staging_schema,
)

STAGING_SCHEMA = staging_schema()
FILE_TYPE = STAGING_SCHEMA.field(KIND_FILE).type

TASK_SCHEMA = pa.schema(
    [
        pa.field("uri", pa.string()),
        pa.field("size", pa.int64()),
        pa.field("modified_at", pa.timestamp("us", tz="UTC")),
    ]
)


@dataclass(frozen=True)
class LogTask:
    uri: str
    size: int
    modified_at: datetime | None


@dataclass(frozen=True)
class ReadSettings:
    """What every read needs (picklable: shipped to the executors once per run)."""

    gpg: GpgSettings
    s3: S3Config
    chunk_bytes: int
    max_line_bytes: int
    keep_bytes: int  # of a line too long to load, the start kept as its bad-line text
    default_source_system: str


def _error(kind: str, message: str) -> dict[str, str | None]:
    return {"path": None, "kind": kind, "message": message}


def file_row(task: LogTask, default_source_system: str, **values: Any) -> dict[str, Any]:
    """A ledger row for `task`, counts and hash empty until `values` fill them."""
    name = parse_log_name(task.uri)
    now = values.pop("retrieved_at", None) or datetime.now(UTC)
    row: dict[str, Any] = {f.name: None for f in LEDGER_FIELDS}
    row.update(
        source_system=source_system_of(name, default_source_system),
        file_uri=task.uri,
        file_sha256="",
        retrieved_at=now,
        retrieved_date=now.date(),
        file_size_bytes=task.size,
        file_modified_at=task.modified_at,
        org=name.org,
        site=name.site,
        log_date=name.log_date,
        encrypted=name.encrypted,
        errors=[],
        retryable=False,
        parser_version=PARSER_VERSION,
    )
    row.update(values)
    return row


def lines_batch(uri: str, batch: LineBatch) -> pa.RecordBatch:
    n = len(batch)
    return pa.RecordBatch.from_arrays(
        [
            pa.repeat(pa.scalar(KIND_LINE), n),
            pa.repeat(pa.scalar(uri), n),
            batch.numbers,
            batch.lines,
            batch.errors,
            pa.nulls(n, FILE_TYPE),
        ],
        schema=STAGING_SCHEMA,
    )


def file_batch(row: dict[str, Any]) -> pa.RecordBatch:
    return pa.RecordBatch.from_pylist(
        [
            {
                "kind": KIND_FILE,
                "file_uri": row["file_uri"],
                "line_number": None,
                "line": None,
                "read_error": None,
                KIND_FILE: row,
            }
        ],
        schema=STAGING_SCHEMA,
    )


def read_log_file(task: LogTask, settings: ReadSettings) -> Iterator[pa.RecordBatch]:
    """The lines of one file as staging batches, then its ledger row."""
    retrieved_at = datetime.now(UTC)
    encrypted = parse_log_name(task.uri).encrypted
    plaintext: Plaintext | None = None
    values: dict[str, Any]
    try:
        with ExitStack() as stack:
            stream = stack.enter_context(open_uri(task.uri, settings.s3))
            if encrypted:
                stream = stack.enter_context(open_decrypted(stream, settings.gpg))
            plaintext = Plaintext(stream, settings.chunk_bytes)
            lines = 0
            for batch in read_lines(plaintext, settings.max_line_bytes, settings.keep_bytes):
                lines += len(batch)
                yield lines_batch(task.uri, batch)
            if plaintext.damage is not None and encrypted:
                plaintext.drain()  # gpg says whether the encrypted file itself was sound
    except DecryptError as exc:
        values = {
            "status": STATUS_REJECTED,
            "retryable": exc.retryable,
            "errors": [_error(exc.kind, exc.message)],
        }
    except Exception as exc:  # storage and network errors come in many classes
        values = {
            "status": STATUS_REJECTED,
            "retryable": True,
            "errors": [
                _error(
                    "unreadable",
                    f"cannot read the file ({type(exc).__name__}: {exc}); "
                    "it will be retried next run",
                )
            ],
        }
    else:
        damage = plaintext.damage
        values = {
            "status": STATUS_PARTIAL if damage else STATUS_LOADED,
            "file_sha256": plaintext.sha256,
            "line_count": lines,
            "errors": [_error(damage.kind, damage.message)] if damage else [],
        }
    if plaintext is not None:
        values.update(compression=plaintext.compression, plaintext_bytes=plaintext.size)
    yield file_batch(
        file_row(task, settings.default_source_system, retrieved_at=retrieved_at, **values)
    )


def read_tasks(rows: Iterable[dict[str, Any]], settings: ReadSettings) -> Iterator[pa.RecordBatch]:
    """Every file of one Spark task, one after the other."""
    for row in rows:
        yield from read_log_file(LogTask(row["uri"], row["size"], row["modified_at"]), settings)
