"""What an offline edit of a course archive returns, and the ways it can refuse.

The edit commands (`olx-spark olx replace | move | delete`, and `olx_spark.olx.edit` from a
notebook) share these: every refusal is an `EditError` carrying the exit code the command line
uses (2: refused, 3: version conflict, 4: would-be orphans declined), so a caller can tell a
stale version from bad input without parsing messages; `EditResult` is the JSON a successful
edit prints.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

EXIT_REFUSED = 2
EXIT_VERSION_CONFLICT = 3
EXIT_ORPHANS_DECLINED = 4


@dataclass(frozen=True)
class Location:
    """Where in a file something is: path, 1-based line and column."""

    path: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"


class EditError(Exception):
    """An edit that was not made; nothing was written. `exit_code` is the command's status."""

    exit_code = EXIT_REFUSED


class EditRefused(EditError):
    """Bad input: unknown block, unsafe or unreadable archive, a replacement that is not a
    valid subtree (then `location` and `block_id` say where and in which block), a move to
    another level."""

    def __init__(
        self, message: str, location: Location | None = None, block_id: str | None = None
    ) -> None:
        super().__init__(message)
        self.location = location
        self.block_id = block_id


class VersionConflict(EditError):
    """The archive is not at the version the caller expected (it changed since the export)."""

    exit_code = EXIT_VERSION_CONFLICT

    def __init__(self, expected: str, actual: str) -> None:
        super().__init__(
            f"version conflict: the archive's course_version is {actual}, not the expected "
            f"{expected}. The course changed since you exported it: export the subtree again "
            "from this archive, redo the edit, and pass the new version (or leave out "
            "--expect-version to edit whatever the archive holds)."
        )
        self.expected = expected
        self.actual = actual


@dataclass(frozen=True)
class Orphan:
    """A block the edit would leave without a parent: its key, type and how many blocks
    below it would go with it."""

    block_id: str
    block_type: str
    descendants: int
    is_draft: bool = False


_RENAMED = (
    "most likely their id would change: a block without url_name (nor slug, name or "
    "display_name) is named after a hash of its XML, which the edit changes. Give them (and "
    "the unnamed containers around them) a url_name in the archive first"
)

# What to do about would-be orphans, by command: only `replace` has an orphan policy.
ORPHAN_ADVICE = {
    "replace": (
        "Keep them in the replacement (or point to them), or run again with --orphans delete "
        '(orphans="delete" from Python) to delete them and their files (blocks shared with '
        "another parent stay)."
    ),
    "move": f"A move deletes no block, so these would be lost by accident: {_RENAMED}, then "
    "move again.",
    "delete": "A delete removes only the block and what only it holds; these are not below "
    f"it, so they would be lost by accident: {_RENAMED}, then delete again.",
}


class OrphansDeclined(EditError):
    """The edit would orphan blocks and the orphan policy is `decline` (or, for a delete,
    blocks that are not below the deleted one). `command` (replace, move, delete) chooses the
    advice."""

    exit_code = EXIT_ORPHANS_DECLINED

    def __init__(self, orphans: list[Orphan], command: str = "replace") -> None:
        lines = "\n".join(
            f"  {o.block_id} ({'draft ' if o.is_draft else ''}{o.block_type}, {o.descendants} descendant"
            f"{'' if o.descendants == 1 else 's'})"
            for o in orphans
        )
        super().__init__(
            f"the edit would leave {len(orphans)} block{'' if len(orphans) == 1 else 's'} "
            f"without a parent (nothing was written):\n{lines}\n{ORPHAN_ADVICE[command]}"
        )
        self.orphans = orphans
        self.command = command


@dataclass
class FilePlan:
    """The text files an edit writes and removes, relative to the course's root folder.
    `keep` are files the edit uses as they are (never removed)."""

    writes: dict[str, bytes] = field(default_factory=dict)
    removes: set[str] = field(default_factory=set)
    keep: set[str] = field(default_factory=set)

    def apply(self, texts: dict[str, bytes]) -> dict[str, bytes]:
        """`texts` after the edit (a new dict; `texts` is not changed)."""
        edited = {p: b for p, b in texts.items() if p not in self.removes}
        edited.update(self.writes)
        return edited


@dataclass
class EditResult:
    """What an edit did. `as_json()` is what the command prints."""

    course_id: str
    old_course_version: str
    course_version: str
    block_id: str
    subtree_hash: str | None
    blocks_added: list[str]
    blocks_removed: list[str]
    blocks_changed: list[str]
    out: str
    files_written: list[str] = field(default_factory=list)
    files_removed: list[str] = field(default_factory=list)
    static_added: list[str] = field(default_factory=list)
    members_dropped: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "course_id": self.course_id,
            "old_course_version": self.old_course_version,
            "course_version": self.course_version,
            "block_id": self.block_id,
            "subtree_hash": self.subtree_hash,
            "blocks_added": self.blocks_added,
            "blocks_removed": self.blocks_removed,
            "blocks_changed": self.blocks_changed,
            "out": self.out,
            "files_written": self.files_written,
            "files_removed": self.files_removed,
            "static_added": self.static_added,
            "members_dropped": self.members_dropped,
        }
