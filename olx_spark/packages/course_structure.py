"""`course_structure` JSON -> one row per block, with each block's parent and position.

The file is one object keyed by usage key (`block-v1:...` or the older `i4x://...`); each value
has `category`, `children` (usage keys, in order) and `metadata`. A block's parent is the block
whose `children` list it (the first one, in file order, if several do), its position the index
there. Metadata and the whole value are kept as JSON text, untouched.
"""

from __future__ import annotations

import json
from typing import Any

from olx_spark.packages.names import course_v1_id


class CourseStructureError(ValueError):
    """The file is not a course_structure object; the message says what is wrong."""


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def course_id_of_usage_key(key: str, category: str | None = None) -> str | None:
    """The course id a usage key belongs to, when the key says it.

    `block-v1:ORG+COURSE+RUN+type@...` -> `course-v1:ORG+COURSE+RUN`; an old course block
    `i4x://ORG/COURSE/course/RUN` -> `ORG/COURSE/RUN` (other i4x keys do not name the run)."""
    if key.startswith("block-v1:"):
        parts = key.removeprefix("block-v1:").split("+")
        if len(parts) >= 3 and not parts[2].startswith("type@"):
            return course_v1_id(parts[0], parts[1], parts[2])
        return None
    if key.startswith("i4x://"):
        parts = key.removeprefix("i4x://").split("/")
        if len(parts) == 4 and parts[2] == "course" and (category in (None, "course")):
            return "/".join((parts[0], parts[1], parts[3]))
    return None


def parse_course_structure(data: bytes) -> tuple[list[dict[str, Any]], str | None]:
    """The file's bytes -> (rows keyed by `COURSE_STRUCTURE_FIELDS` names, course id it implies)."""
    try:
        doc = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CourseStructureError(f"not valid JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise CourseStructureError(
            f"expected a JSON object keyed by usage key, found {type(doc).__name__}"
        )
    parents: dict[str, tuple[str, int]] = {}
    for key, value in doc.items():
        children = value.get("children") if isinstance(value, dict) else None
        if isinstance(children, list):
            for position, child in enumerate(children):
                if isinstance(child, str):
                    parents.setdefault(child, (key, position))
    rows: list[dict[str, Any]] = []
    course_hint: str | None = None
    any_hint: str | None = None
    for key, value in doc.items():
        block = value if isinstance(value, dict) else {}
        category = block.get("category")
        children = block.get("children")
        metadata = block.get("metadata")
        parent = parents.get(key)
        rows.append(
            {
                "block_id": key,
                "category": category if isinstance(category, str) else None,
                "children": [c if isinstance(c, str) else _json(c) for c in children]
                if isinstance(children, list)
                else None,
                "metadata_json": None if metadata is None else _json(metadata),
                "parent_block_id": parent[0] if parent else None,
                "position": parent[1] if parent else None,
                "block_json": _json(value),
            }
        )
        hint = course_id_of_usage_key(key, category if isinstance(category, str) else None)
        if hint and category == "course" and course_hint is None:
            course_hint = hint
        if hint and any_hint is None:
            any_hint = hint
    return rows, course_hint or any_hint
