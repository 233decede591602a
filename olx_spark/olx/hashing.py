"""Content hashes that ignore how an archive happens to be packed.

Two exports of the same course differ in bytes (member order, mtimes, gzip level, attribute
order) but not in content. `block_hash` sees only a block's content (type, url_name, sorted
settings, canonical XML, body) and `course_version` only the published tree built from those,
so equal content always gives equal hashes and any content change gives a new version.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping

from lxml import etree


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
