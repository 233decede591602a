"""Content hashes that ignore how an archive happens to be packed.

Two exports of the same course differ in bytes (member order, mtimes, gzip level, attribute
order) but not in content. `block_hash` sees only a block's content (type, url_name, sorted
settings, canonical XML, body), `subtree_hash` a block with everything below it, and
`course_version` only the published tree built from those, so equal content always gives equal
hashes and any content change gives a new version.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import TypeVar

from lxml import etree

Key = TypeVar("Key", bound=Hashable)


def _sha256_of_json(value: object) -> str:
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def canonical_xml(element: etree._Element) -> str:
    """The element's XML in Canonical XML form (C14N: attributes sorted, quoting fixed)."""
    return etree.tostring(element, method="c14n").decode("utf-8")


def block_hash(
    block_type: str,
    url_name: str,
    settings: Mapping[str, str],
    canonical_raw_xml: str,
    content: str | None,
) -> str:
    """sha256 hex of a block's canonical form."""
    return _sha256_of_json(
        [block_type, url_name, sorted(settings.items()), canonical_raw_xml, content]
    )


def course_version(
    blocks: Iterable[tuple[str, str]], edges: Iterable[tuple[str, str, int | None]]
) -> str:
    """sha256 hex over a published tree: (block_id, block_hash) pairs and (parent, child,
    position) edges, each sorted so that the order they were read in does not matter."""
    edge_list = sorted(
        ([parent, child, position] for parent, child, position in edges),
        key=lambda e: (e[0], e[1], -1 if e[2] is None else e[2]),
    )
    return _sha256_of_json({"blocks": sorted(list(b) for b in blocks), "edges": edge_list})


def subtree_hashes(
    nodes: Mapping[Key, tuple[str, str, str]], children: Mapping[Key, Sequence[Key]]
) -> dict[Key, str]:
    """sha256 hex of each node's subtree (specs/olx-versions.md): its `block_hash`, then for
    each child in order `{type}/{url_name}:{child's subtree hash}`. `nodes` maps a node to its
    (type, url_name, block_hash), `children` to its children in position order. An edited block
    changes the hashes on its path to the root only; a node reached twice has one hash. A child
    that closes a cycle (OLX can point back up) counts by its own block_hash, so every node
    still gets a hash. Iterative: a deep course cannot exhaust the stack."""
    done: dict[Key, str] = {}

    def known_children(node: Key) -> list[Key]:
        return [kid for kid in children.get(node, ()) if kid in nodes]

    for start in nodes:
        if start in done:
            continue
        on_path: set[Key] = {start}
        # (node, its children, the next child to visit): each node's children listed once
        stack: list[tuple[Key, list[Key], int]] = [(start, known_children(start), 0)]
        while stack:
            node, kids, next_child = stack[-1]
            if next_child < len(kids):
                stack[-1] = (node, kids, next_child + 1)
                kid = kids[next_child]
                if kid not in done and kid not in on_path:
                    on_path.add(kid)
                    stack.append((kid, known_children(kid), 0))
                continue
            digest = hashlib.sha256(nodes[node][2].encode("ascii"))
            for kid in kids:
                kid_type, kid_url_name, kid_block_hash = nodes[kid]
                digest.update(
                    f"\n{kid_type}/{kid_url_name}:{done.get(kid, kid_block_hash)}".encode()
                )
            done[node] = digest.hexdigest()
            on_path.discard(node)
            stack.pop()
    return done
