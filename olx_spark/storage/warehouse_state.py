"""What changed in a warehouse since a command last ran, told without Spark.

A night with nothing new should end in seconds (issue 17). The ingest jobs already stop before
Spark when their ledgers hold every file. `olx-spark transform` and `olx-spark report` read
tables, not files, so they remember what the tables looked like: after a successful run each
writes a *stamp*, every table it read at its latest Delta version that changed its data (the
log folder's listing and, usually, its last commit: `delta_log.written_version`, so that
`olx-spark compact`'s rewrites do not count), every table it wrote at that version afterwards,
and whatever else decides the result (the dbt project's files, the report's options, olx-spark's version). The next run compares the stamp with the warehouse:
all equal means nothing to do, and Spark is not started. Any difference (a new raw commit, a
mart rebuilt or dropped, an edited model, a table that cannot be listed) and the run goes
ahead as usual. Every writer of these tables commits through Delta, so a new version is the
only way their contents change.

When the stamp still holds for everything but some tables read (the same project, settings and
written tables; new raw commits in some tables), `changed_tables` names those: `olx-spark
transform` then builds only the models downstream of them, since every other model would read
exactly what it read last time.

The tables read are listed *before* the run: rows a job commits while dbt runs make a newer
version than the stamp holds, so the next run does not miss them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pyarrow.fs as pafs

from olx_spark.config import S3Config
from olx_spark.storage.delta_log import (
    UnsupportedDeltaTable,
    table_location,
    written_version,
)
from olx_spark.storage.warehouse_tables import list_tables

STATE_DIR = "_olx_spark_state"
STAMP_FORMAT = 1
# The stamped version of a table created and never written (by `olx-spark transform` itself,
# which makes the raw course tables of both platforms so that dbt's sources resolve): a new
# table of that kind holds no row, and no model reads anything new from it.
NEVER_WRITTEN = -1


class StateUnavailable(Exception):
    """The warehouse cannot be listed without Spark: the command just runs."""


def table_versions(warehouse: str, s3: S3Config, schemas: Iterable[str]) -> dict[str, int]:
    """`schema.table` -> the latest Delta version that changed its data (`written_version`: a
    compaction's rewrite does not count), or `NEVER_WRITTEN` for a table created and never
    written, for every Delta table of `schemas`."""
    wanted = list(schemas)
    try:
        tables = list_tables(warehouse, s3, wanted)
        versions = {
            f"{t.schema}.{t.name}": written_version(table_location(t.uri, s3)) for t in tables
        }
        return {table: NEVER_WRITTEN if v is None else v for table, v in versions.items()}
    except (UnsupportedDeltaTable, OSError, ValueError) as exc:
        raise StateUnavailable(str(exc)) from exc


def folder_digest(root: Path, skip: Iterable[str] = ()) -> str:
    """sha256 over the relative path and bytes of every file under `root` (folders named in
    `skip`, `__pycache__` and hidden ones left out, at any depth)."""
    skipped = {*skip, "__pycache__"}
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        relative = path.relative_to(root)
        if any(part in skipped or part.startswith(".") for part in relative.parts):
            continue
        digest.update(relative.as_posix().encode("utf-8") + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


@dataclass(frozen=True)
class Stamp:
    """What a successful run read and wrote, and what else decided its result."""

    read: dict[str, int]  # table -> version, listed before the run
    written: dict[str, int]  # table -> version, listed after the run
    settings: dict[str, Any] = field(default_factory=dict)
    format: int = STAMP_FORMAT

    def to_json(self) -> str:
        """The stamp as its file holds it."""
        return json.dumps(asdict(self), sort_keys=True, indent=1)

    @staticmethod
    def from_json(text: str) -> Stamp | None:
        """A stamp file's stamp; None if damaged or of another format (the command then runs)."""
        try:
            data = json.loads(text)
            if data.get("format") != STAMP_FORMAT:
                return None
            return Stamp(
                read={str(k): int(v) for k, v in data["read"].items()},
                written={str(k): int(v) for k, v in data["written"].items()},
                settings=dict(data.get("settings") or {}),
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            return None


def stamp_uri(warehouse: str, name: str) -> str:
    """Where the stamp `name` of a warehouse lives: `{warehouse}/_olx_spark_state/{name}.json`."""
    return f"{warehouse.rstrip('/')}/{STATE_DIR}/{name}.json"


def read_stamp(uri: str, s3: S3Config) -> Stamp | None:
    """The stamp at `uri` (a local path or s3:// URI); None if there is none or it is unreadable."""
    location = table_location(uri, s3)
    try:
        with location.filesystem.open_input_stream(location.path) as stream:
            return Stamp.from_json(stream.read().decode("utf-8"))
    except (OSError, UnicodeDecodeError):
        return None


def write_stamp(uri: str, s3: S3Config, stamp: Stamp) -> None:
    """Write `stamp` at `uri` (a local path or S3 URI), creating its folder."""
    location = table_location(uri, s3)
    parent = location.path.rsplit("/", 1)[0]
    location.filesystem.create_dir(parent, recursive=True)
    with location.filesystem.open_output_stream(location.path) as stream:
        stream.write(stamp.to_json().encode("utf-8"))


def remove_stamp(uri: str, s3: S3Config) -> None:
    """Forget a stamp (before a run that will change what it describes)."""
    location = table_location(uri, s3)
    try:
        if location.filesystem.get_file_info(location.path).type == pafs.FileType.File:
            location.filesystem.delete_file(location.path)
    except OSError:
        pass


def unchanged_since(
    stamp: Stamp | None,
    read_now: dict[str, int],
    written_now: dict[str, int],
    settings: dict[str, Any],
) -> bool:
    """True when a run now would read and find exactly what the stamped run left."""
    return (
        stamp is not None
        and stamp.read == read_now
        and stamp.written == written_now
        and stamp.settings == settings
    )


def changed_tables(
    stamp: Stamp | None,
    read_now: dict[str, int],
    written_now: dict[str, int],
    settings: dict[str, Any],
) -> tuple[str, ...] | None:
    """The tables read now at another version than the stamped run read them (new ones
    included, unless never written), sorted, when all else is as that run left it (empty:
    nothing changed); None when only a whole run is safe: no stamp, other settings, a written
    table changed or gone, or a table read then is gone now."""
    if (
        stamp is None
        or not written_now
        or stamp.written != written_now
        or stamp.settings != settings
        or set(stamp.read) - set(read_now)
    ):
        return None
    return tuple(
        sorted(
            table
            for table, version in read_now.items()
            if stamp.read.get(table, NEVER_WRITTEN) != version
        )
    )
