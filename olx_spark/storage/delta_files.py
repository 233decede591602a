"""Parquet data files that an executor's Python worker writes straight into a Delta table's
folder, described as the Delta `add` actions the driver commits.

The course archive job used to stage each table's rows in files of its own and have the JVM
read them back and write the table's files: Spark jobs that converted every row, encoded the
Parquet and collected statistics a second time, most of the JVM's CPU after the parse
(benchmarks/RESULTS.md, issue 19). Instead a task writes each table's files where the table
keeps them, in the layout Delta uses (`<partition column>=<value>/part-....parquet`, the
partition column left out of the file, its value in the action), with the per-file statistics
Delta's data skipping reads, and returns them in its manifest (`MANIFEST_SCHEMA`); the driver
commits them in one Delta transaction per table (`olx_spark.spark.delta_commit`). Until that
commit no reader sees them; files of a failed attempt or of a run that never commits are not in
the log, and `VACUUM` removes them once they are older than the table's retention.

Statistics are those Delta writes itself (tests/spark/test_course_data_files.py compares them
on the course tables): `numRecords`; `nullCount` per column; `minValues` / `maxValues` for
strings, integers, dates and timestamps among the first 32 columns, strings cut to 32
characters (a cut maximum is followed by a greater character, DEL for ASCII text and U+10FFFF
for other, so it stays an upper bound), timestamps floored to the millisecond (Delta's reader
allows for that). Other types (booleans, maps, lists) get a null count only, structs nothing; a
statistic left out only means no file is skipped on it. For non-ASCII text past 32 characters
the bounds can differ from Delta's (it counts UTF-16 units and picks its tie-breaker from the
next character only), but they stay a lower and an upper bound.

Each file also lists which archive's rows it holds, as row ranges (`archives`), so the driver can
take out the rows of an archive it decides not to load (the same bytes under two names in one
run) by rewriting just that file (`rewrite_without`).
"""

from __future__ import annotations

import io
import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from olx_spark.config import S3Config
from olx_spark.storage.listing import is_s3
from olx_spark.storage.reading import open_uri
from olx_spark.storage.staged_files import ParquetOutput, local_file

# Delta's defaults: statistics for the first 32 columns, strings cut to 32 characters.
INDEXED_COLUMNS = 32
STRING_PREFIX = 32
ASCII_TIE_BREAKER = "\x7f"
MAX_STRING_TIE_BREAKER = "\U0010ffff"
# Partition values that need no escaping in a path (Hive's rules escape others).
_PLAIN_VALUE = re.compile(r"[A-Za-z0-9_.\-]+")


@dataclass(frozen=True)
class TableTarget:
    """Where and how a table's data files go: its root URI, its columns in table order (the
    partition column among them) and its partition column."""

    location: str
    schema: pa.Schema
    partition_column: str

    @property
    def data_schema(self) -> pa.Schema:
        """The columns a data file holds: all but the partition column."""
        return pa.schema([f for f in self.schema if f.name != self.partition_column])


def _has_min_max(type_: pa.DataType) -> bool:
    return (
        pa.types.is_string(type_)
        or pa.types.is_integer(type_)
        or pa.types.is_date(type_)
        or pa.types.is_timestamp(type_)
    )


def _cut_max(value: str) -> str:
    """A string's first 32 characters and a character greater than the one cut after them
    (DEL for ASCII text, as Delta does, else U+10FFFF): an upper bound of the string."""
    tie_breaker = ASCII_TIE_BREAKER if value.isascii() else MAX_STRING_TIE_BREAKER
    end = STRING_PREFIX
    while end < len(value) and value[end] >= tie_breaker:
        end += 1
    return value[:end] + tie_breaker


def _stat_value(value: Any, type_: pa.DataType, *, upper: bool) -> Any:
    """A min (`upper` False) or max as Delta writes it in a file's statistics."""
    if pa.types.is_string(type_):
        if len(value) <= STRING_PREFIX:
            return value
        return _cut_max(value) if upper else value[:STRING_PREFIX]
    if pa.types.is_timestamp(type_):
        millis = value // 1000  # floored, as Delta keeps them
        instant = datetime.fromtimestamp(millis // 1000, UTC)
        return (
            f"{instant.year:04d}" + instant.strftime("-%m-%dT%H:%M:%S") + f".{millis % 1000:03d}Z"
        )
    if isinstance(value, date):
        return value.isoformat()
    return value


def indexed_fields(schema: pa.Schema) -> list[pa.Field]:
    """The columns Delta keeps statistics for: the first `INDEXED_COLUMNS` leaf columns (a
    struct counts its fields; a map or list counts one), less structs (Delta nests their
    statistics, which this writer does not: it leaves them out)."""

    def leaves(type_: pa.DataType) -> int:
        return sum(leaves(t.type) for t in type_) if pa.types.is_struct(type_) else 1

    fields, used = [], 0
    for f in schema:
        used += leaves(f.type)
        if used > INDEXED_COLUMNS:
            break
        if not pa.types.is_struct(f.type):
            fields.append(f)
    return fields


@dataclass
class FileStats:
    """A data file's statistics, accumulated batch by batch (`add`), as Delta's JSON (`json`)."""

    schema: pa.Schema  # the file's columns
    rows: int = 0
    nulls: dict[str, int] = field(default_factory=dict)
    lows: dict[str, Any] = field(default_factory=dict)
    highs: dict[str, Any] = field(default_factory=dict)

    def add(self, batch: pa.RecordBatch) -> None:
        self.rows += batch.num_rows
        for f in indexed_fields(self.schema):
            column = batch.column(f.name)
            self.nulls[f.name] = self.nulls.get(f.name, 0) + column.null_count
            if not _has_min_max(f.type) or column.null_count == len(column):
                continue
            if pa.types.is_timestamp(f.type):
                column = column.cast(pa.int64())
            low_high = pc.min_max(column)
            low, high = low_high["min"].as_py(), low_high["max"].as_py()
            if f.name not in self.lows or low < self.lows[f.name]:
                self.lows[f.name] = low
            if f.name not in self.highs or high > self.highs[f.name]:
                self.highs[f.name] = high

    def json(self) -> str:
        types = {f.name: f.type for f in self.schema}
        return json.dumps(
            {
                "numRecords": self.rows,
                "minValues": {
                    k: _stat_value(v, types[k], upper=False) for k, v in self.lows.items()
                },
                "maxValues": {
                    k: _stat_value(v, types[k], upper=True) for k, v in self.highs.items()
                },
                "nullCount": self.nulls,
            },
            separators=(",", ":"),
        )


@dataclass
class _DataFile:
    output: ParquetOutput
    path: str  # relative to the table's root
    partition_value: str
    stats: FileStats
    archives: list[dict[str, Any]] = field(default_factory=list)  # row ranges, in file order

    def add(self, batch: pa.RecordBatch, archive_uri: str) -> None:
        last = self.archives[-1] if self.archives else None
        if last is not None and last["uri"] == archive_uri:
            last["rows"] += batch.num_rows
        else:
            self.archives.append(
                {"uri": archive_uri, "first_row": self.output.rows, "rows": batch.num_rows}
            )
        self.output.add(batch)
        self.stats.add(batch)


def partition_value_text(value: Any) -> str:
    """A partition value as Delta writes it in an action and in a path (only values that need
    no escaping: dates, numbers, plain names)."""
    text = value.isoformat() if isinstance(value, date) else str(value)
    if value is None or not _PLAIN_VALUE.fullmatch(text):
        raise ValueError(f"partition value {value!r} cannot be written without escaping")
    return text


class DeltaFiles:
    """Writes batches of several tables to data files in each table's folder (`targets`, by
    table); `entries()` returns their manifest rows. `tag` makes file names unique per task
    attempt, with a random part besides, as `StagedFiles` does."""

    def __init__(self, targets: Mapping[str, TableTarget], tag: str, s3: S3Config) -> None:
        self._targets = targets
        self._tag = tag
        self._s3 = s3
        self._open: dict[tuple[str, str], _DataFile] = {}
        self._entries: list[dict[str, Any]] = []

    def add(self, table: str, batch: pa.RecordBatch, archive_uri: str) -> None:
        """Write `batch` (the table's columns, any others ignored) as rows of `archive_uri`."""
        if batch.num_rows == 0:
            return
        target = self._targets[table]
        column = batch.column(target.partition_column)
        data = target.data_schema
        values = pc.unique(column).to_pylist()
        for value in values:
            rows = batch if len(values) == 1 else batch.filter(pc.equal(column, value))
            part = pa.RecordBatch.from_arrays([rows.column(f.name) for f in data], schema=data)
            key = (table, partition_value_text(value))
            current = self._open.get(key) or self._start(table, key[1])
            current.add(part, archive_uri)
            if current.output.full():
                self._finish(key)

    def entries(self) -> list[dict[str, Any]]:
        for key in list(self._open):
            self._finish(key)
        return self._entries

    def _start(self, table: str, value: str) -> _DataFile:
        target = self._targets[table]
        path = (
            f"{target.partition_column}={value}/part-{self._tag}-{uuid.uuid4()}.c000.snappy.parquet"
        )
        uri = f"{target.location.rstrip('/')}/{path}"
        output = ParquetOutput(uri, target.data_schema, self._s3, statistics=True)
        opened = _DataFile(output, path, value, FileStats(target.data_schema))
        self._open[(table, value)] = opened
        return opened

    def _finish(self, key: tuple[str, str]) -> None:
        current = self._open.pop(key)
        size, modified = current.output.close()
        self._entries.append(
            {
                "table": key[0],
                "uri": current.output.uri,
                "rows": current.output.rows,
                "location": self._targets[key[0]].location,
                "path": current.path,
                "partition_value": current.partition_value,
                "size_bytes": size,
                "modified_ms": modified,
                "stats": current.stats.json(),
                "archives": current.archives,
            }
        )


def add_action(entry: Mapping[str, Any], partition_column: str) -> dict[str, Any]:
    """The Delta `add` action of a data file from its manifest row."""
    return {
        "add": {
            "path": entry["path"],
            "partitionValues": {partition_column: entry["partition_value"]},
            "size": entry["size_bytes"],
            "modificationTime": entry["modified_ms"],
            "dataChange": True,
            "stats": entry["stats"],
        }
    }


def rewrite_without(
    entry: Mapping[str, Any], excluded: set[str], target: TableTarget, tag: str, s3: S3Config
) -> list[dict[str, Any]]:
    """A data file's rows less those of the `excluded` archives, written as new files beside
    it (the old one is left for the caller to delete): their manifest rows, none if no row is
    left. Used by the driver, rarely (the same bytes twice in one run), so the file is read
    whole."""
    uri = entry["uri"]
    if is_s3(uri):
        with open_uri(uri, s3) as stream:
            rows = pq.read_table(io.BytesIO(stream.read()), schema=target.data_schema)
    else:  # as `ParquetOutput` wrote it: a path, or a `file:` URI taken literally
        rows = pq.read_table(local_file(uri), schema=target.data_schema)
    writer = DeltaFiles({entry["table"]: target}, tag, s3)
    partition = pa.scalar(entry["partition_value"])  # written only as the path
    for kept in entry["archives"]:
        if kept["uri"] in excluded:
            continue
        part = rows.slice(kept["first_row"], kept["rows"])
        for batch in part.to_batches():
            with_partition = pa.RecordBatch.from_arrays(
                [*batch.columns, pa.repeat(partition, batch.num_rows)],
                names=[*batch.schema.names, target.partition_column],
            )
            writer.add(entry["table"], with_partition, kept["uri"])
    return writer.entries()
