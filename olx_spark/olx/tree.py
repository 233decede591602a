"""The walk's working state: elements to visit, blocks found, edges between them.

The resolver (`course`) fills a `Tree`; the row builders (`rows`) turn it into table rows.
A node is `(is_draft, block_id)`: a draft and its published block share an id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lxml import etree

NodeKey = tuple[bool, str]  # (is_draft, block_id): a draft and its published block share an id
Row = dict[str, Any]


@dataclass(frozen=True)
class Task:
    """One element to turn into a block: where it came from and who points at it."""

    element: etree._Element
    block_type: str
    url_name: str
    xml_path: str  # the file `element` sits in
    base: str  # "" or "drafts/": where pointers resolve
    is_draft: bool
    is_pointer: bool
    parent: NodeKey | None = None
    position: int | None = None


@dataclass
class Block:
    key: NodeKey
    block_type: str
    url_name: str
    xml_path: str
    attributes: dict[str, str]
    raw: etree._Element
    content: str | None
    fields: dict[str, str] = field(default_factory=dict)  # settings read from child elements


@dataclass(frozen=True)
class Edge:
    parent: NodeKey
    child: NodeKey
    position: int | None
    is_draft: bool


@dataclass
class Tree:
    """Blocks (in document order) and edges, as the walk finds them."""

    blocks: dict[NodeKey, Block] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)
    consumed: set[str] = field(default_factory=set)  # files used as definitions
