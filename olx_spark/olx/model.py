"""What parsing one course archive produces, and the limits it runs under.

These plain dataclasses are the contract between the pure parser (`archive`, `course`) and the
Spark layer that ships the rows to Delta. Row dicts are keyed by the column names declared in
`olx_spark.olx.tables` (entity columns only; the Spark layer adds the common columns).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PARSER_VERSION = "olx-spark-olx/3"  # 2: <wiki>, <textbook> are fields; 3: raw_xml keeps xmlns

MIB = 1024 * 1024
GIB = 1024 * MIB


@dataclass(frozen=True)
class Limits:
    """Bounds that make an untrusted archive safe to read (all configurable, see conf/)."""

    max_members: int = 200_000
    max_member_bytes: int = 8 * GIB
    max_total_bytes: int = 16 * GIB
    # Decompressed/compressed ratio above which an archive is a bomb, checked once the
    # decompressed size has passed `ratio_grace_bytes`.
    max_ratio: float = 100.0
    ratio_grace_bytes: int = 100 * MIB
    # Text members (XML, HTML, JSON, ...) are held in memory to resolve the course; one larger
    # than this is refused (recorded as an error) instead of held.
    max_text_member_bytes: int = 64 * MIB


@dataclass(frozen=True)
class ArchiveError:
    """One problem found in an archive: where (path inside the archive), what kind, and why."""

    path: str | None
    kind: str
    message: str

    def as_row(self) -> dict[str, str | None]:
        return {"path": self.path, "kind": self.kind, "message": self.message}


class ArchiveRejected(Exception):
    """The archive as a whole cannot be loaded (not an archive, truncated, bomb, no course)."""

    def __init__(self, kind: str, message: str, path: str | None = None) -> None:
        super().__init__(message)
        self.error = ArchiveError(path=path, kind=kind, message=message)


@dataclass
class ParsedArchive:
    """Everything one archive says, as rows per course table (entity -> list of row dicts)."""

    archive_sha256: str
    archive_size_bytes: int
    course_id: str | None = None
    org: str | None = None
    course: str | None = None
    run: str | None = None
    course_version: str | None = None
    errors: list[ArchiveError] = field(default_factory=list)
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # Set when the archive as a whole cannot be loaded; then `rows` is empty.
    rejection: ArchiveError | None = None

    @property
    def status(self) -> str:
        return "rejected" if self.rejection is not None else "loaded"

    def all_errors(self) -> list[ArchiveError]:
        """The rejection reason first (if any), then the errors on parts of the course."""
        return ([self.rejection] if self.rejection else []) + self.errors

    @property
    def block_count(self) -> int:
        return len(self.rows.get("blocks", ()))
