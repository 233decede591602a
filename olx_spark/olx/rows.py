"""Rows of the course tables from a resolved tree: blocks (with depth, orphan flags and
hashes), edges, pages, static files, and the course's published version."""

from __future__ import annotations

import mimetypes
import posixpath
from collections.abc import Iterable

from lxml import etree

from olx_spark.olx.archive import MemberFile
from olx_spark.olx.elements import PAGE_TYPES
from olx_spark.olx.hashing import block_hash, canonical_xml, course_version, subtree_hashes
from olx_spark.olx.identity import CourseIdentity
from olx_spark.olx.policies import CoursePolicies
from olx_spark.olx.sources import CourseSources
from olx_spark.olx.tree import Block, Edge, NodeKey, Row, Tree

_MIME_TYPES = mimetypes.MimeTypes()  # built-in table only: the same answer on every machine


def _first_parents(edges: Iterable[Edge]) -> dict[NodeKey, Edge]:
    first: dict[NodeKey, Edge] = {}
    for edge in edges:
        first.setdefault(edge.child, edge)
    return first


def _depths(
    nodes: Iterable[NodeKey], root: NodeKey, first: dict[NodeKey, Edge]
) -> dict[NodeKey, int | None]:
    """Depth along the first-parent chain; None where that chain never reaches the root."""
    depth: dict[NodeKey, int | None] = {root: 0}
    for node in nodes:
        chain: list[NodeKey] = []
        on_chain: set[NodeKey] = set()
        current = node
        while current not in depth and current in first and current not in on_chain:
            chain.append(current)
            on_chain.add(current)
            current = first[current].parent
        known = None if current in on_chain else depth.get(current)
        for member in reversed(chain):
            known = None if known is None else known + 1
            depth[member] = known
        depth.setdefault(node, None)
    return depth


def _reachable(root: NodeKey, edges: Iterable[Edge]) -> set[NodeKey]:
    children: dict[NodeKey, list[NodeKey]] = {}
    for edge in edges:
        children.setdefault(edge.parent, []).append(edge.child)
    seen = {root}
    stack = [root]
    while stack:
        for child in children.get(stack.pop(), ()):
            if child not in seen:
                seen.add(child)
                stack.append(child)
    return seen


def block_rows(tree: Tree, identity: CourseIdentity, policies: CoursePolicies) -> list[Row]:
    root: NodeKey = (False, identity.root_id)
    first = _first_parents(tree.edges)
    depths = _depths(tree.blocks, root, first)
    published = _reachable(root, (e for e in tree.edges if not e.is_draft))
    with_drafts = _reachable(root, tree.edges)
    rows = []
    for key, block in tree.blocks.items():
        reached = with_drafts if key[0] else published
        rows.append(_block_row(block, policies, first.get(key), depths[key], key not in reached))
    subtrees = _subtree_hashes(tree, rows)
    for key, row in zip(tree.blocks, rows, strict=True):
        row["subtree_hash"] = subtrees[key]
    return rows


def _subtree_hashes(tree: Tree, rows: list[Row]) -> dict[NodeKey, str]:
    """Each block's subtree hash (`hashing.subtree_hashes`): a published block over its
    published children, a draft block over its children in the drafts."""
    nodes = {
        key: (row["block_type"], row["url_name"], row["block_hash"])
        for key, row in zip(tree.blocks, rows, strict=True)
    }
    linked: dict[NodeKey, list[tuple[int, int, NodeKey]]] = {}
    for order, edge in enumerate(tree.edges):
        if edge.is_draft and not edge.parent[0]:
            continue  # a draft placed under a published block is not part of its published tree
        position = len(tree.edges) if edge.position is None else edge.position
        linked.setdefault(edge.parent, []).append((position, order, edge.child))
    children = {parent: [kid for _, _, kid in sorted(kids)] for parent, kids in linked.items()}
    return subtree_hashes(nodes, children)


def _block_row(
    block: Block, policies: CoursePolicies, first: Edge | None, depth: int | None, is_orphan: bool
) -> Row:
    settings = {
        **block.attributes,
        **block.fields,
        **policies.overrides(block.block_type, block.url_name),
    }
    return {
        "block_id": block.key[1],
        "block_type": block.block_type,
        "url_name": block.url_name,
        "block_title": settings.get("display_name"),
        "parent_block_id": first.parent[1] if first else None,
        "position": first.position if first else None,
        "depth": depth,
        "is_draft": block.key[0],
        "is_orphan": is_orphan,
        "xml_path": block.xml_path,
        "xml_attributes": block.attributes,
        "settings": settings,
        "raw_xml": etree.tostring(block.raw, encoding="unicode"),
        "content": block.content,
        "block_hash": block_hash(
            block.block_type, block.url_name, settings, canonical_xml(block.raw), block.content
        ),
    }


def edge_rows(edges: list[Edge]) -> list[Row]:
    return [
        {
            "parent_block_id": edge.parent[1],
            "child_block_id": edge.child[1],
            "position": edge.position,
            "is_draft": edge.is_draft,
        }
        for edge in edges
    ]


def published_version(blocks: list[Row], edges: list[Row]) -> str:
    """course_version over the published tree: non-draft, non-orphan blocks and their edges."""
    tree = {b["block_id"]: b["block_hash"] for b in blocks if not (b["is_draft"] or b["is_orphan"])}
    return course_version(
        tree.items(),
        (
            (e["parent_block_id"], e["child_block_id"], e["position"])
            for e in edges
            if not e["is_draft"] and e["parent_block_id"] in tree
        ),
    )


def page_rows(sources: CourseSources, run: str) -> list[Row]:
    """One page per file of about/, info/, tabs/, custom_tags/; `{run}/` files win."""
    rows: list[Row] = []
    paths = sorted(p for p in sources.texts if p.split("/", 1)[0] in PAGE_TYPES)
    for page_type in PAGE_TYPES:
        chosen: dict[str, str] = {}
        for folder in (f"{page_type}/", f"{page_type}/{run}/"):
            for path in paths:
                if path.startswith(folder) and "/" not in path[len(folder) :]:
                    chosen[_page_name(path)] = path
        for name, path in sorted(chosen.items()):
            content = sources.text(path, None)
            if path.endswith(".json"):
                sources.json(path)  # records bad_json; the text is kept as it is
            rows.append({"page_type": page_type, "name": name, "path": path, "content": content})
    return rows


def _page_name(path: str) -> str:
    base = posixpath.basename(path)
    stem, suffix = posixpath.splitext(base)
    return stem if suffix else base


def static_rows(static_files: list[MemberFile], policies: CoursePolicies) -> list[Row]:
    return [
        {
            "path": f.path,
            "size_bytes": f.size,
            "sha256": f.sha256,
            "mime_type": _MIME_TYPES.guess_type(f.path, strict=False)[0],
            "asset_metadata_json": policies.asset_metadata(f.path),
        }
        for f in sorted(static_files, key=lambda f: f.path)
    ]
