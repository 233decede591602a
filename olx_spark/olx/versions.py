"""One loaded version of a course, as rows: what export and diff read, wherever the rows came from.

A version is one loaded archive of a course run: its `archives` ledger facts (course id, version
hash, where the archive lives) and its rows per content table. The rows come either from the
lakehouse (`olx_spark.spark.course_versions`, the CLI's path) or straight from the parser
(`CourseVersion.from_parsed`, a notebook's or a test's path); export and diff cannot tell them
apart. Nothing here touches Spark.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from olx_spark.olx.model import ParsedArchive

Row = dict[str, Any]
BlockKey = tuple[bool, str]  # (is_draft, block_id): a draft and its published block share an id


class VersionError(Exception):
    """What the user asked for is not in the lakehouse (or the rows): says what to do instead."""


@dataclass
class CourseVersion:
    """The rows of one loaded archive of a course (or library)."""

    course_id: str
    course_version: str
    org: str | None
    course: str | None
    run: str | None
    archive_sha256: str
    archive_uri: str | None = None
    archive_size_bytes: int | None = None
    retrieved_at: Any = None
    platform: str | None = None
    rows: dict[str, list[Row]] = field(default_factory=dict)

    @classmethod
    def from_parsed(cls, parsed: ParsedArchive, archive_uri: str | None = None) -> CourseVersion:
        """The version a parse gave (`olx_spark.olx.parse.parse_course_archive`)."""
        if parsed.rejection is not None or parsed.course_id is None:
            message = parsed.rejection.message if parsed.rejection else "no course"
            raise VersionError(f"the archive was rejected: {message}")
        return cls(
            course_id=parsed.course_id,
            course_version=str(parsed.course_version),
            org=parsed.org,
            course=parsed.course,
            run=parsed.run,
            archive_sha256=parsed.archive_sha256,
            archive_uri=archive_uri,
            archive_size_bytes=parsed.archive_size_bytes,
            rows=parsed.rows,
        )

    def table(self, entity: str) -> list[Row]:
        return self.rows.get(entity, [])

    @property
    def is_library(self) -> bool:
        return self.course_id.startswith("library-v1:")

    def blocks_by_key(self) -> dict[BlockKey, Row]:
        return {(bool(b["is_draft"]), b["block_id"]): b for b in self.table("blocks")}

    def root(self) -> Row:
        """The course (or library) block: published, no parent, of the root type."""
        root_type = "library" if self.is_library else "course"
        for block in self.table("blocks"):
            if (
                block["block_type"] == root_type
                and not block["is_draft"]
                and block["parent_block_id"] is None
                and block["block_id"].endswith(f"+type@{root_type}+block@{root_type}")
            ):
                return block
        raise VersionError(f"{self.course_id} has no {root_type} block in this version")

    def block(self, block_id: str, *, draft: bool = False) -> Row:
        """A block by usage key (the published one unless `draft`); says what exists if not."""
        found = self.blocks_by_key().get((draft, block_id))
        if found is None:
            raise VersionError(
                f"{block_id} is not a {'draft' if draft else 'published'} block of "
                f"{self.course_id} at version {self.course_version}; list its blocks with "
                '`olx-spark sql "SELECT block_id, block_type, block_title FROM '
                "raw__<platform>__s3__course_xml_blocks WHERE course_id = '...'\"`."
            )
        return found


def published_children(version: CourseVersion) -> dict[str, list[str]]:
    """Each block of the published tree's children in it, in position order (edges not
    drafts, between blocks neither draft nor orphan: what marts__course_block_changes sees)."""
    tree = published_tree(version)
    linked: dict[str, list[tuple[int, int, str]]] = {}
    for order, edge in enumerate(version.table("edges")):
        parent, child = edge["parent_block_id"], edge["child_block_id"]
        if edge["is_draft"] or parent not in tree or child not in tree:
            continue
        position = edge["position"] if edge["position"] is not None else 1 << 30
        linked.setdefault(parent, []).append((position, order, child))
    return {parent: [c for _, _, c in sorted(kids)] for parent, kids in linked.items()}


def published_tree(version: CourseVersion) -> dict[str, Row]:
    """The blocks of the published tree (not drafts, not orphans), by id."""
    return {
        b["block_id"]: b
        for b in version.table("blocks")
        if not b["is_draft"] and not b["is_orphan"]
    }


def descendants(root: str, children: Mapping[str, list[str]]) -> Iterator[str]:
    """`root` and every block under it, each once, depth first in child order."""
    seen = {root}
    stack = [root]
    while stack:
        node = stack.pop()
        yield node
        for child in reversed(children.get(node, [])):
            if child not in seen:
                seen.add(child)
                stack.append(child)
