"""Read a Delta table's current snapshot with pyarrow alone: no JVM, no Spark session.

For a small table that is read often and where starting Spark costs far more than the read
itself: the course archive ledger, read to decide whether a run has anything new to load at
all. Deliberately minimal and conservative: it understands the logs of the tables olx-spark
writes itself (JSON commits, classic single- or multi-part Parquet checkpoints, `add` and
`remove` actions, no column mapping, no deletion vectors) and raises `UnsupportedDeltaTable` on
anything else - a reader feature it does not know, a v2 checkpoint, a gap in the log, a file
outside the table folder - so that the caller falls back to Spark. It never writes.

The snapshot is what Delta's protocol defines (PROTOCOL.md in delta-io/delta): the newest
complete checkpoint, then every commit after it replayed in version order; a data file is part
of the table if the last action naming it is an `add`.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlparse

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from olx_spark.config import S3Config

LOG_DIR = "_delta_log"
_COMMIT = re.compile(r"^(\d{20})\.json$")
_CLASSIC_CHECKPOINT = re.compile(r"^(\d{20})\.checkpoint(?:\.(\d{10})\.(\d{10}))?\.parquet$")
_ANY_CHECKPOINT = re.compile(r"^\d{20}\.checkpoint\.")

MAX_READER_VERSION = 3
# Reader features that change nothing for a reader of plain Parquet files by column name.
# (`columnMapping` is accepted only while the mapping mode is "none", checked separately.)
SUPPORTED_READER_FEATURES = frozenset({"timestampNtz", "vacuumProtocolCheck", "columnMapping"})
# Writer features under which the log on storage may not hold the newest commits.
_FOREIGN_COMMIT_FEATURES = ("coordinatedCommits", "catalogOwned", "catalogManaged")
# Actions that carry nothing a snapshot of the data files needs.
_IGNORED_ACTIONS = frozenset({"commitInfo", "txn", "cdc", "domainMetadata"})

_PRIMITIVE_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "long": pa.int64(),
    "integer": pa.int32(),
    "short": pa.int16(),
    "byte": pa.int8(),
    "boolean": pa.bool_(),
    "double": pa.float64(),
    "float": pa.float32(),
    "binary": pa.binary(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us", tz="UTC"),
    "timestamp_ntz": pa.timestamp("us"),
}


class UnsupportedDeltaTable(Exception):
    """This reader cannot vouch for the table's snapshot; read it with Spark instead."""


@dataclass(frozen=True)
class TableLocation:
    """A table folder on a pyarrow file system (`path` is in that file system's terms)."""

    filesystem: pafs.FileSystem
    path: str


# A URI's scheme: two letters or more (a Windows drive letter is a path), then ":/".
_URI_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]+):/")


def table_location(uri: str, s3: S3Config) -> TableLocation:
    """A local folder (`/x`, `file:///x`, or `file:/x` as Hadoop writes it) or an S3 URI
    (`s3://`, `s3a://`) as a `TableLocation`; anything else raises `UnsupportedDeltaTable`."""
    scheme_match = _URI_SCHEME.match(uri)
    if scheme_match is None:  # a plain path
        return TableLocation(pafs.LocalFileSystem(), os.path.abspath(os.path.expanduser(uri)))
    scheme, parsed = scheme_match.group(1).lower(), urlparse(uri)
    if scheme in ("s3", "s3a") and parsed.netloc:
        bucket_and_key = f"{parsed.netloc}{parsed.path}".rstrip("/")
        return TableLocation(_s3_filesystem(parsed.netloc, s3), bucket_and_key)
    if scheme == "file" and parsed.netloc in ("", "localhost"):
        path = unquote(parsed.path)
        return TableLocation(pafs.LocalFileSystem(), os.path.abspath(os.path.expanduser(path)))
    raise UnsupportedDeltaTable(f"no pyarrow file system for {uri}")


def _s3_filesystem(bucket: str, s3: S3Config) -> pafs.FileSystem:
    kwargs: dict[str, Any] = {}
    if s3.endpoint_url:
        endpoint = urlparse(s3.endpoint_url)
        kwargs["endpoint_override"] = endpoint.netloc or endpoint.path
        kwargs["scheme"] = endpoint.scheme or "https"
    region = s3.region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if not region and not s3.endpoint_url:
        region = pafs.resolve_s3_region(bucket)
    if region:
        kwargs["region"] = region
    return pafs.S3FileSystem(**kwargs)


@dataclass(frozen=True)
class DataFile:
    """One live data file: where, how big, and the partition it belongs to."""

    path: str  # relative to the table folder, decoded
    size: int  # bytes, as the `add` action says
    partition: tuple[tuple[str, str | None], ...]  # (column, value as the log spells it)


@dataclass(frozen=True)
class Snapshot:
    """The current state of a Delta table, as far as reading its rows needs."""

    version: int
    data_files: tuple[str, ...]  # relative to the table folder, decoded
    partition_columns: tuple[str, ...]
    schema: dict[str, Any]  # Delta's schemaString, parsed
    configuration: dict[str, str]
    files: tuple[DataFile, ...] = ()  # the same files as `data_files`, with size and partition


def _log_listing(location: TableLocation) -> tuple[dict[int, str], dict[int, list[str]]]:
    """Commit files and complete classic checkpoints of the log, by version."""
    log = f"{location.path}/{LOG_DIR}"
    try:
        infos = location.filesystem.get_file_info(pafs.FileSelector(log, allow_not_found=False))
    except (FileNotFoundError, OSError) as exc:
        raise UnsupportedDeltaTable(f"no Delta log at {log} ({exc})") from exc
    commits: dict[int, str] = {}
    parts: dict[tuple[int, int], set[int]] = {}
    for info in infos:
        if info.type != pafs.FileType.File:
            continue
        name = info.base_name
        if match := _COMMIT.match(name):
            commits[int(match.group(1))] = info.path
        elif match := _CLASSIC_CHECKPOINT.match(name):
            version, part, total = match.groups()
            key = (int(version), int(total) if total else 1)
            parts.setdefault(key, set()).add(int(part) if part else 1)
        elif _ANY_CHECKPOINT.match(name):
            raise UnsupportedDeltaTable(f"checkpoint format not supported: {name}")
    checkpoints: dict[int, list[str]] = {}
    for (version, total), present in parts.items():
        if present == set(range(1, total + 1)):
            if total == 1:
                names = [f"{version:020d}.checkpoint.parquet"]
            else:
                names = [
                    f"{version:020d}.checkpoint.{i:010d}.{total:010d}.parquet"
                    for i in range(1, total + 1)
                ]
            checkpoints[version] = [f"{log}/{n}" for n in names]
    return commits, checkpoints


class _Replay:
    """Applies actions in log order and keeps what the snapshot needs."""

    def __init__(self) -> None:
        self.files: dict[str, DataFile] = {}  # live data files, in order of addition
        self.protocol: dict[str, Any] | None = None
        self.metadata: dict[str, Any] | None = None

    def apply(self, action: dict[str, Any], where: str) -> None:
        for kind, value in action.items():
            if value is None or kind in _IGNORED_ACTIONS:
                continue
            if kind == "add":
                if value.get("deletionVector"):
                    raise UnsupportedDeltaTable(f"deletion vectors in use ({where})")
                path = _relative_path(value["path"], where)
                values = value.get("partitionValues") or {}
                partition = tuple(sorted((str(k), v) for k, v in values.items()))
                self.files[path] = DataFile(path, int(value.get("size") or 0), partition)
            elif kind == "remove":
                self.files.pop(_relative_path(value["path"], where), None)
            elif kind == "protocol":
                self.protocol = value
            elif kind == "metaData":
                self.metadata = value
            else:
                raise UnsupportedDeltaTable(f"unknown action {kind!r} ({where})")


def _relative_path(path: str, where: str) -> str:
    decoded = unquote(path)
    if "://" in path or decoded.startswith("/") or ".." in decoded.split("/"):
        raise UnsupportedDeltaTable(f"data file outside the table folder: {path} ({where})")
    return decoded


def _read_checkpoint(location: TableLocation, paths: list[str], replay: _Replay) -> None:
    for path in paths:
        schema = pq.read_schema(path, filesystem=location.filesystem)
        if any(n in schema.names for n in ("sidecar", "checkpointMetadata")):
            raise UnsupportedDeltaTable(f"v2 checkpoint: {path}")
        wanted = [n for n in ("protocol", "metaData", "remove", "add") if n in schema.names]
        table = pq.read_table(path, columns=wanted, filesystem=location.filesystem)
        for row in table.to_pylist(maps_as_pydicts="strict"):
            replay.apply(row, path)


def _check_protocol(protocol: dict[str, Any], metadata: dict[str, Any]) -> None:
    reader = int(protocol.get("minReaderVersion", 0))
    if not 1 <= reader <= MAX_READER_VERSION:
        raise UnsupportedDeltaTable(f"reader version {reader} not supported")
    unknown = set(protocol.get("readerFeatures") or []) - SUPPORTED_READER_FEATURES
    if unknown:
        raise UnsupportedDeltaTable(f"reader features not supported: {sorted(unknown)}")
    writer_features = protocol.get("writerFeatures") or []
    foreign = [f for f in writer_features if f.startswith(_FOREIGN_COMMIT_FEATURES)]
    configuration = metadata.get("configuration") or {}
    if foreign or any(k.startswith("delta.coordinatedCommits") for k in configuration):
        raise UnsupportedDeltaTable("commits are managed outside the log (coordinated commits)")
    mode = configuration.get("delta.columnMapping.mode", "none")
    if mode != "none":
        raise UnsupportedDeltaTable(f"column mapping mode {mode!r} not supported")


def _changes_data(text: str) -> bool:
    """Whether a commit's actions can change what a reader sees: rows added or removed with
    `dataChange`, or a new schema, protocol or properties (OPTIMIZE's rewrite changes none)."""
    for line in text.splitlines():
        if not line.strip():
            continue
        action = json.loads(line)
        if "metaData" in action or "protocol" in action:
            return True
        for kind in ("add", "remove"):
            if kind in action and action[kind].get("dataChange", True):
                return True
    return False


def data_version(location: TableLocation, look_back: int = 20) -> int:
    """The latest version whose commit changed the table's data, schema or properties: a
    compaction's commits (files rewritten, `dataChange: false`) are stepped over, looking back
    at most `look_back` commits. Reads only those commits' files (usually one)."""
    return _last_data_change(location, look_back)[0]


def written_version(location: TableLocation, look_back: int = 20) -> int | None:
    """`data_version`, or None for a table never written: its whole log is its first commit
    and that commit (a `CREATE TABLE`) adds no file. One listing of the log, as
    `data_version`."""
    version, only_commit = _last_data_change(location, look_back)
    if only_commit is not None and not any(
        "add" in json.loads(line) for line in only_commit.splitlines() if line.strip()
    ):
        return None
    return version


def _last_data_change(location: TableLocation, look_back: int) -> tuple[int, str | None]:
    """`data_version`'s version, and the text of commit 0 when it is the log's only file (read
    on the way), else None."""
    commits, checkpoints = _log_listing(location)
    if not commits and not checkpoints:
        raise UnsupportedDeltaTable(f"empty Delta log at {location.path}/{LOG_DIR}")
    version = max([*commits, *checkpoints])
    for _ in range(look_back):
        if version not in commits:
            return version, None
        with location.filesystem.open_input_stream(commits[version]) as stream:
            text = stream.read().decode("utf-8")
        if _changes_data(text) or version == 0:
            return version, text if not checkpoints and set(commits) == {0} else None
        version -= 1
    return version, None


def load_snapshot(location: TableLocation) -> Snapshot:
    """The table's current snapshot from its log; `UnsupportedDeltaTable` if in doubt."""
    commits, checkpoints = _log_listing(location)
    if not commits and not checkpoints:
        raise UnsupportedDeltaTable(f"empty Delta log at {location.path}/{LOG_DIR}")
    latest = max([*commits, *checkpoints])
    start = max((v for v in checkpoints if v <= latest), default=-1)
    missing = [v for v in range(start + 1, latest + 1) if v not in commits]
    if missing:
        raise UnsupportedDeltaTable(f"Delta log has gaps (missing commits {missing[:5]})")
    replay = _Replay()
    if start >= 0:
        _read_checkpoint(location, checkpoints[start], replay)
    for version in range(start + 1, latest + 1):
        path = commits[version]
        with location.filesystem.open_input_stream(path) as stream:
            text = stream.read().decode("utf-8")
        for line in text.splitlines():
            if line.strip():
                replay.apply(json.loads(line), path)
    if replay.protocol is None or replay.metadata is None:
        raise UnsupportedDeltaTable("the log has no protocol or no metadata action")
    _check_protocol(replay.protocol, replay.metadata)
    metadata = replay.metadata
    return Snapshot(
        version=latest,
        data_files=tuple(replay.files),
        partition_columns=tuple(metadata.get("partitionColumns") or ()),
        schema=json.loads(metadata["schemaString"]),
        configuration=dict(metadata.get("configuration") or {}),
        files=tuple(replay.files.values()),
    )


def _arrow_schema(snapshot: Snapshot, columns: list[str]) -> pa.Schema:
    declared = {f["name"]: f for f in snapshot.schema.get("fields", [])}
    fields = []
    for name in columns:
        if name not in declared:
            raise UnsupportedDeltaTable(f"the table has no column {name!r}")
        if name in snapshot.partition_columns:
            raise UnsupportedDeltaTable(f"reading partition column {name!r} is not supported")
        delta_type = declared[name]["type"]
        if not isinstance(delta_type, str) or delta_type not in _PRIMITIVE_TYPES:
            raise UnsupportedDeltaTable(f"column {name!r} has a type not supported here")
        fields.append(pa.field(name, _PRIMITIVE_TYPES[delta_type]))
    return pa.schema(fields)


def read_columns(location: TableLocation, columns: list[str]) -> pa.Table:
    """The current rows of the table at `location`, with only `columns` (primitive, not
    partition columns), typed as the table declares them (timestamps: microseconds, UTC)."""
    snapshot = load_snapshot(location)
    schema = _arrow_schema(snapshot, columns)
    if not snapshot.data_files:
        return schema.empty_table()
    parquet = ds.ParquetFileFormat(
        read_options=ds.ParquetReadOptions(coerce_int96_timestamp_unit="us")
    )
    files = [f"{location.path}/{p}" for p in snapshot.data_files]
    try:
        # Spark writes timestamps as INT96 (no time zone, UTC): read as-is, then declare UTC.
        dataset = ds.dataset(files, format=parquet, filesystem=location.filesystem)
        table = dataset.to_table(columns=columns)
        return table.cast(schema)
    except (pa.ArrowException, OSError, KeyError, ValueError) as exc:
        raise UnsupportedDeltaTable(f"cannot read the data files: {exc}") from exc
