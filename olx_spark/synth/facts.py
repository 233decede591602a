"""What a generated archive holds, and what a whole corpus holds.

The generator counts its blocks and files as it writes them; tests and benchmarks compare the
ingest's rows with these facts, and `to_dict` gives them a JSON form for benchmark records.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class ArchiveFacts:
    """One archive: where it is, which course, its blocks and static files, its sizes.

    `blocks_by_type` counts every block definition, published or draft (what the ingest's
    `block_count` counts); `chapters`, `sequentials` and `verticals` count the published tree.
    `uncompressed_bytes` is the size of the tar stream inside the gzip.
    """

    path: Path
    course_id: str
    blocks_by_type: dict[str, int]
    draft_blocks: int
    chapters: int
    sequentials: int
    verticals: int
    static_files: int
    static_bytes: int
    compressed_bytes: int
    uncompressed_bytes: int

    @property
    def block_count(self) -> int:
        return sum(self.blocks_by_type.values())

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"path": str(self.path), "block_count": self.block_count}


@dataclass(frozen=True)
class CorpusSummary:
    """Every archive of a corpus (in index order), with totals and the wall time it took."""

    archives: list[ArchiveFacts] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def block_count(self) -> int:
        return sum(a.block_count for a in self.archives)

    @property
    def blocks_by_type(self) -> dict[str, int]:
        total: Counter[str] = Counter()
        for archive in self.archives:
            total.update(archive.blocks_by_type)
        return dict(sorted(total.items()))

    @property
    def static_bytes(self) -> int:
        return sum(a.static_bytes for a in self.archives)

    @property
    def compressed_bytes(self) -> int:
        return sum(a.compressed_bytes for a in self.archives)

    @property
    def uncompressed_bytes(self) -> int:
        return sum(a.uncompressed_bytes for a in self.archives)

    def to_dict(self) -> dict[str, Any]:
        return {
            "archive_count": len(self.archives),
            "block_count": self.block_count,
            "blocks_by_type": self.blocks_by_type,
            "static_bytes": self.static_bytes,
            "compressed_bytes": self.compressed_bytes,
            "uncompressed_bytes": self.uncompressed_bytes,
            "seconds": round(self.seconds, 3),
            "archives": [a.to_dict() for a in self.archives],
        }
