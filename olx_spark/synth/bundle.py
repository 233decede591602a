"""The files of one generated course as it is built, with the facts counted along the way.

Block builders (`components`, `course`) write their files here and count the blocks they define,
so the facts an archive reports are counted where the blocks are made, not guessed afterwards.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from olx_spark.synth.identity import CourseIdentity
from olx_spark.synth.static import StaticFile
from olx_spark.synth.text import element, encode_xml


@dataclass
class Bundle:
    """A course's files (path under the course root -> bytes), static files and block counts."""

    rng: random.Random
    identity: CourseIdentity
    start: datetime
    files: dict[str, bytes] = field(default_factory=dict)
    static: list[StaticFile] = field(default_factory=list)
    # Names of the static images, which HTML bodies show.
    images: list[str] = field(default_factory=list)
    blocks: Counter[str] = field(default_factory=Counter)
    draft_blocks: int = 0
    # Published containers by type (the tree the course root reaches).
    published: Counter[str] = field(default_factory=Counter)
    # `policy.json` entries beyond the course's own, keyed `{type}/{url_name}`.
    policy: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def language(self) -> str:
        return self.identity.language

    def iso(self, days: int) -> str:
        """The course start plus `days`, as an ISO 8601 UTC timestamp."""
        return (self.start + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")

    def add_xml(self, path: str, text: str) -> None:
        """An XML file, encoded as the course encodes XML (UTF-8 or character references)."""
        self.files[path] = encode_xml(text, self.identity.charrefs)

    def add_text(self, path: str, text: str) -> None:
        """A UTF-8 text file (HTML body, JSON, page)."""
        self.files[path] = text.encode("utf-8")

    def count(self, block_type: str, draft: bool) -> None:
        """Count one block definition (drafts are counted as blocks and as drafts)."""
        self.blocks[block_type] += 1
        if draft:
            self.draft_blocks += 1
        elif block_type in ("chapter", "sequential", "vertical"):
            self.published[block_type] += 1

    def define(self, block_type: str, url_name: str, xml: str, folder: str) -> str:
        """Write `{folder}{type}/{url_name}.xml`, count it, and return the pointer to it."""
        self.add_xml(f"{folder}{block_type}/{url_name}.xml", xml + "\n")
        self.count(block_type, draft=bool(folder))
        return element(block_type, {"url_name": url_name})
