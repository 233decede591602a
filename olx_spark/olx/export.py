"""Write a loaded course version (or one subtree of it) back as OLX, in Studio's export layout.

The lakehouse keeps each block's own XML with its children as pointers (`raw_xml`), the file it
was defined in (`xml_path`), its html body, the policy entries, pages and static fingerprints.
That is enough to rebuild the course's files so that ingesting them gives the same blocks (ids,
draft and orphan flags, `block_hash`), edges, positions, static files and `course_version`
(specs/olx-versions.md, "Export"):

- a block defined inline in its parent's file is put back inline (only under the parent that
  defined it; any other parent keeps the pointer), every other block gets its own file
  `{drafts/}{type}/{url_name}.xml` (a `:` in a url_name is a subfolder), its root element
  carrying exactly the attributes it was read with;
- an html block's body goes to `html/{filename}.html`; a block whose `filename` named another
  file gets that file too, so the merge ingest does gives the same attributes;
- `course.xml` points at `course/{run}.xml`; policy files, pages and `assets/assets.xml` are
  rebuilt from their rows; static bytes are streamed from the source archive
  (`olx_spark.olx.export_write`).

This module only builds the text files (`ExportPlan`); writing them is `export_write`'s job.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from lxml import etree

from olx_spark.olx.elements import CONTAINER_TYPES, course_field_elements
from olx_spark.olx.identity import block_file, filename_file
from olx_spark.olx.versions import (
    BlockKey,
    CourseVersion,
    Row,
    VersionError,
    descendants,
    published_children,
)
from olx_spark.olx.xml_safety import parse_xml

MANIFEST = "manifest.json"
SUBTREE_FORMAT = "olx-spark-subtree/1"
COURSE_FORMAT = "olx-spark-course/1"


@dataclass
class ExportPlan:
    """The files of an export: text files by path, and the static files to copy."""

    files: dict[str, bytes] = field(default_factory=dict)
    static: list[Row] = field(default_factory=list)  # static_files rows to stream
    manifest: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    block_count: int = 0

    def add(self, path: str, data: bytes) -> None:
        """Add a file; a second, different file at the same path is a warning, the first wins."""
        if path in self.files and self.files[path] != data:
            self.warnings.append(f"two different files would be written at {path}; kept the first")
            return
        self.files.setdefault(path, data)


def _base(block: Row) -> str:
    return "drafts/" if block["is_draft"] else ""


def own_file_path(block: Row) -> str:
    """Where a block that is its own file is written: `{drafts/}{type}/{url_name}.xml`."""
    return block_file(block["block_type"], block["url_name"], _base(block))


class _Builder:
    """Rebuilds blocks' XML elements from their rows, putting inline children back inline."""

    def __init__(self, version: CourseVersion) -> None:
        self.version = version
        self.blocks = version.blocks_by_key()
        self.by_name: dict[tuple[bool, str, str], Row] = {
            (bool(b["is_draft"]), b["block_type"], b["url_name"]): b
            for b in version.table("blocks")
        }

    def is_inline(self, block: Row) -> bool:
        """Defined inside its first parent's file (the parent that defined it)."""
        parent_id = block["parent_block_id"]
        if parent_id is None:
            return False
        parent = self.blocks.get((bool(block["is_draft"]), parent_id))
        return parent is not None and parent["xml_path"] == block["xml_path"]

    def element(self, block: Row, on_path: frozenset[str] = frozenset()) -> etree._Element:
        """The block's element as it sat in its file, inline children expanded."""
        element = parse_xml(block["raw_xml"].encode("utf-8"), block["xml_path"] or "raw_xml")
        if block["block_type"] not in CONTAINER_TYPES:
            return element
        fields = course_field_elements(element) if block["block_type"] == "course" else []
        on_path = on_path | {block["block_id"]}
        for pointer in list(element):
            if not isinstance(pointer.tag, str) or any(pointer is f for f in fields):
                continue
            child = self.by_name.get(
                (bool(block["is_draft"]), str(pointer.tag), pointer.get("url_name", ""))
            )
            if (
                child is None
                or child["block_id"] in on_path
                or child["parent_block_id"] != block["block_id"]
                or not self.is_inline(child)
            ):
                continue
            expanded = self.element(child, on_path)
            expanded.tail = pointer.tail
            element.replace(pointer, expanded)
        return element

    def key_of(self, block: Row) -> BlockKey:
        return (bool(block["is_draft"]), block["block_id"])


def _xml_bytes(element: etree._Element) -> bytes:
    return etree.tostring(element, encoding="utf-8")


def _filename(block: Row) -> str | None:
    return (block.get("xml_attributes") or {}).get("filename")


def _add_block_files(plan: ExportPlan, builder: _Builder, owned: list[tuple[Row, str]]) -> None:
    """Each block's own file (block, path), then the files their `filename` attributes name.

    Ingest merges a `filename` file's attributes under the block's own, and takes the block's
    content from it. The own file already carries every attribute the block was read with, so
    the `filename` file is written with none (only the content), once, and never over another
    block's own file: whichever blocks name it, ingest merges back what they had."""
    for block, path in owned:
        plan.add(path, _xml_bytes(builder.element(block)))
    for block, _path in owned:
        filename = _filename(block)
        if block["block_type"] == "html" or not filename:
            continue
        extra = filename_file(block["block_type"], filename, _base(block))
        if extra not in plan.files:
            element = builder.element(block)
            element.attrib.clear()
            plan.add(extra, _xml_bytes(element))


def _add_html_bodies(plan: ExportPlan, blocks: list[Row]) -> None:
    for block in blocks:
        filename = _filename(block)
        if block["block_type"] == "html" and filename and block["content"] is not None:
            plan.add(filename_file("html", filename, _base(block)), block["content"].encode())


def _json_bytes(value: Any) -> bytes:
    return (json.dumps(value, ensure_ascii=False, indent=4) + "\n").encode("utf-8")


def _policy_files(rows: list[Row]) -> dict[str, dict[str, Any]]:
    """policy_file -> its JSON object, rebuilt from one row per (key, setting)."""
    files: dict[str, dict[str, Any]] = {}
    for row in rows:
        document = files.setdefault(row["policy_file"], {})
        value = json.loads(row["value_json"])
        if row["setting"] is None:
            document[row["policy_key"]] = value
        else:
            entry = document.setdefault(row["policy_key"], {})
            if isinstance(entry, dict):
                entry[row["setting"]] = value
    return files


def _assets_xml(assets: dict[str, Any]) -> bytes:
    root = etree.Element("assets")
    for filename, entry in assets.items():
        asset = etree.SubElement(root, "asset", filename=filename)
        for name, value in (entry or {}).items() if isinstance(entry, dict) else ():
            etree.SubElement(asset, name).text = value if isinstance(value, str) else str(value)
    return _xml_bytes(root)


def _add_course_level_files(plan: ExportPlan, version: CourseVersion) -> None:
    for path, document in _policy_files(version.table("policies")).items():
        if path == "assets/assets.xml":
            plan.add(path, _assets_xml(document))
        else:
            plan.add(path, _json_bytes(document))
    for page in version.table("pages"):
        if page["content"] is not None:
            plan.add(page["path"], page["content"].encode("utf-8"))


def _course_xml(version: CourseVersion, root: Row) -> bytes:
    attributes = {"url_name": root["url_name"]}
    if version.org:
        attributes["org"] = version.org
    if version.course:
        attributes["course"] = version.course
    return _xml_bytes(etree.Element("course", attributes))


def _manifest_static(rows: list[Row]) -> list[dict[str, Any]]:
    return [{"path": r["path"], "size_bytes": r["size_bytes"], "sha256": r["sha256"]} for r in rows]


def plan_course_export(version: CourseVersion) -> ExportPlan:
    """Every file of the course version: published tree, drafts, orphans, course-level files."""
    builder = _Builder(version)
    plan = ExportPlan()
    root = version.root()
    blocks = version.table("blocks")
    owned: list[tuple[Row, str]] = []
    for block in blocks:
        if builder.is_inline(block):
            continue
        if block is root and version.is_library:
            plan.add("library.xml", _xml_bytes(builder.element(block)))
        else:
            owned.append((block, own_file_path(block)))
    _add_block_files(plan, builder, owned)
    if not version.is_library:
        plan.add("course.xml", _course_xml(version, root))
    _add_html_bodies(plan, blocks)
    _add_course_level_files(plan, version)
    plan.static = sorted(version.table("static_files"), key=lambda r: r["path"])
    plan.block_count = len(blocks)
    plan.manifest = {
        "format": COURSE_FORMAT,
        "course_id": version.course_id,
        "course_version": version.course_version,
        "archive_sha256": version.archive_sha256,
        "static": _manifest_static(plan.static),
    }
    return plan


def _static_referenced(blocks: list[Row], static_rows: list[Row]) -> list[Row]:
    """The course's static files a subtree's XML or html names (`static/NAME`, as written or
    percent-encoded)."""
    text = "\n".join(f"{b['raw_xml']}\n{b['content'] or ''}" for b in blocks)

    def named(path: str) -> bool:
        relative = path.split("/", 1)[-1]
        return any(f"static/{name}" in text for name in {relative, quote(relative)})

    return sorted((r for r in static_rows if named(r["path"])), key=lambda r: r["path"])


def plan_subtree_export(version: CourseVersion, block_id: str) -> ExportPlan:
    """The published subtree rooted at `block_id`, in the layout `olx replace` takes back:
    the root block's own file (wherever it was defined), its descendants' files, html bodies,
    the static files they name, and `manifest.json` (specs/olx-versions.md)."""
    builder = _Builder(version)
    root = version.block(block_id)
    if root["is_orphan"]:
        raise VersionError(
            f"{block_id} is an orphan at version {version.course_version}: it has no place in "
            "the course to export it from. Export the whole course to get its file."
        )
    children = published_children(version)
    published = {b["block_id"]: b for b in version.table("blocks") if not b["is_draft"]}
    members = [published[i] for i in descendants(block_id, children) if i in published]
    member_ids = {b["block_id"] for b in members}
    plan = ExportPlan()
    owned = [
        (block, own_file_path(block))
        for block in members
        if block is root
        or not (builder.is_inline(block) and block["parent_block_id"] in member_ids)
    ]
    _add_block_files(plan, builder, owned)
    _add_html_bodies(plan, members)
    plan.static = _static_referenced(members, version.table("static_files"))
    plan.block_count = len(members)
    plan.manifest = {
        "format": SUBTREE_FORMAT,
        "course_id": version.course_id,
        "course_version": version.course_version,
        "root_block_id": block_id,
        "block_type": root["block_type"],
        "url_name": root["url_name"],
        "parent_block_id": root["parent_block_id"],
        "position": root["position"],
        "subtree_hash": root["subtree_hash"],
        "static": _manifest_static(plan.static),
    }
    return plan
