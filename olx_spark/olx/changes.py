"""What changed in a course's published tree between two versions, block by block.

The rules are specs/olx-versions.md's ("Change log"), the same ones `marts__course_block_changes`
applies in SQL; `olx-spark olx diff` uses this module on two versions read from the lakehouse:

- `added` / `removed`: the block is in the new / old published tree only;
- `moved`: its set of published parents changed;
- `reordered`: under a parent it has in both versions, its order among the siblings present in
  both changed: the siblings kept in place are a longest increasing subsequence of their new
  positions taken in old order (of several, the lexicographically smallest list of old
  positions: see `_kept_in_order`), and every other common sibling is reordered, so inserting or
  deleting a sibling reorders nothing;
- `content_changed`: its `block_hash` changed and so did its own definition: its `raw_xml`
  without the root element's attributes (they are settings) and, if it has published children,
  without their pointers and the whitespace around them (`own_xml`), or its html body;
- `settings_changed`: its settings (attributes, course fields and policy) changed;
  `changed_settings` names the keys added, removed or changed;
- `children_changed`: a container's ordered list of children changed.

Ancestors whose subtree hash changed only because of a descendant get no row.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from olx_spark.olx.versions import CourseVersion, Row, published_children, published_tree

CHANGE_TYPES = (
    "added",
    "removed",
    "moved",
    "reordered",
    "content_changed",
    "settings_changed",
    "children_changed",
)


@dataclass(frozen=True)
class BlockChange:
    """One (block, change type) between two versions; the columns of the change-log mart."""

    block_id: str
    block_type: str
    change_type: str
    changed_settings: list[str] | None = None
    old_parent_block_id: str | None = None
    new_parent_block_id: str | None = None
    old_position: int | None = None
    new_position: int | None = None

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


# The own-XML rules, the same regular expressions as marts__course_block_changes's (XML's
# whitespace: space, tab, CR, LF). raw_xml is lxml's serialization: attribute values never hold
# a raw `>`, a pointer is always `<type url_name=".."/>`.
_ROOT_ATTRIBUTES = re.compile(r"^<([^ \t\r\n/>]+)[^>]*?(/?)>")
_CHILD_POINTER = re.compile(r'[ \t\r\n]*<[^ \t\r\n/>!?]+ url_name="[^"]*"/>[ \t\r\n]*')
_EMPTY_ROOT = re.compile(r"^<([^ \t\r\n/>]+)></\1>$")


def own_xml(raw_xml: str, has_children: bool) -> str:
    """A block's own XML: `raw_xml` without the root's attributes (they are settings) and, for a
    block with published children, without their pointers and the whitespace around them."""
    text = _ROOT_ATTRIBUTES.sub(r"<\1\2>", raw_xml, count=1)
    if has_children:
        text = _EMPTY_ROOT.sub(r"<\1/>", _CHILD_POINTER.sub("", text))
    return text


def _kept_in_order(ranks: Sequence[int]) -> set[int]:
    """Indexes of a longest strictly increasing subsequence of `ranks`: of several, the one
    whose list of indexes is lexicographically smallest (O(n^2), as the SQL does it: the length
    of the longest run starting at each index, then a greedy walk from the first index)."""
    longest = [1] * len(ranks)
    for index in range(len(ranks) - 1, -1, -1):
        for later in range(index + 1, len(ranks)):
            if ranks[later] > ranks[index]:
                longest[index] = max(longest[index], longest[later] + 1)
    kept: set[int] = set()
    remaining = max(longest, default=0)
    last_rank: int | None = None
    for index, rank in enumerate(ranks):
        if remaining and longest[index] == remaining and (last_rank is None or rank > last_rank):
            kept.add(index)
            remaining -= 1
            last_rank = rank
    return kept


def reordered_children(old: Sequence[str], new: Sequence[str]) -> list[str]:
    """The siblings present in both orders that are not in a longest common subsequence."""
    new_rank: dict[str, int] = {}
    for rank, child in enumerate(new):
        new_rank.setdefault(child, rank)  # a child listed twice counts at its first place
    common = [child for child in dict.fromkeys(old) if child in new_rank]
    kept = _kept_in_order([new_rank[child] for child in common])
    return [child for index, child in enumerate(common) if index not in kept]


def _parents(children: dict[str, list[str]]) -> dict[str, set[str]]:
    parents: dict[str, set[str]] = {}
    for parent, kids in children.items():
        for kid in kids:
            parents.setdefault(kid, set()).add(parent)
    return parents


def _settings_diff(old: Row, new: Row) -> list[str]:
    before, after = dict(old["settings"] or {}), dict(new["settings"] or {})
    return sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))


def diff_versions(old: CourseVersion, new: CourseVersion) -> list[BlockChange]:
    """Every (block, change type) from `old` to `new` (published trees), sorted by block id
    and the order of `CHANGE_TYPES`. Old / new parent and position are the block's
    (`parent_block_id`, `position`: where it was first placed) in each version."""
    old_tree, new_tree = published_tree(old), published_tree(new)
    old_children, new_children = published_children(old), published_children(new)
    old_parents, new_parents = _parents(old_children), _parents(new_children)
    reordered: set[str] = set()
    for parent in old_children.keys() & new_children.keys():
        if old_children[parent] != new_children[parent]:
            reordered.update(reordered_children(old_children[parent], new_children[parent]))
    changes: list[BlockChange] = []
    for block_id in sorted(old_tree.keys() | new_tree.keys()):
        before, after = old_tree.get(block_id), new_tree.get(block_id)
        row = after or before
        assert row is not None
        kinds: list[tuple[str, list[str] | None]] = []
        if before is None:
            kinds.append(("added", None))
        elif after is None:
            kinds.append(("removed", None))
        else:
            kinds.extend(_kinds(block_id, before, after, old_children, new_children))
            if old_parents.get(block_id, set()) != new_parents.get(block_id, set()):
                kinds.insert(0, ("moved", None))
            if block_id in reordered:
                kinds.insert(1 if kinds and kinds[0][0] == "moved" else 0, ("reordered", None))
        for kind, settings in kinds:
            changes.append(
                BlockChange(
                    block_id,
                    row["block_type"],
                    kind,
                    settings,
                    before["parent_block_id"] if before else None,
                    after["parent_block_id"] if after else None,
                    before["position"] if before else None,
                    after["position"] if after else None,
                )
            )
    return changes


def _kinds(
    block_id: str,
    before: Row,
    after: Row,
    old_children: dict[str, list[str]],
    new_children: dict[str, list[str]],
) -> list[tuple[str, list[str] | None]]:
    """content, settings and children changes of a block in both versions, in that order."""
    kinds: list[tuple[str, list[str] | None]] = []
    was, now = old_children.get(block_id, []), new_children.get(block_id, [])
    if before["block_hash"] != after["block_hash"] and (
        own_xml(before["raw_xml"], bool(was)) != own_xml(after["raw_xml"], bool(now))
        or before["content"] != after["content"]
    ):
        kinds.append(("content_changed", None))
    changed = _settings_diff(before, after)
    if changed:
        kinds.append(("settings_changed", changed))
    if was != now:
        kinds.append(("children_changed", None))
    return kinds
