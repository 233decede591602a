"""Resolve a course's OLX files into rows: blocks, edges, policies, pages, static files.

This is the rulebook of specs/olx.md in code: pointers and inline definitions, `filename`
files, derived url_names, containers versus a leaf block's own data, policies, drafts, orphans
and shared children. It works on the text files `archive` kept (paths relative to the course
root) and never raises for a bad part of a course: each problem is appended to `errors` and
the rest of the course still resolves.
"""

from __future__ import annotations

from collections.abc import Iterator
from copy import deepcopy
from dataclasses import dataclass

from lxml import etree

from olx_spark.olx.archive import CourseFiles
from olx_spark.olx.elements import (
    CONTAINER_TYPES,
    DRAFTS_DIR,
    NON_BLOCK_DIRS,
    course_field_elements,
    course_fields,
    inner_markup,
    is_pointer,
)
from olx_spark.olx.identity import (
    CourseIdentity,
    block_file,
    derive_url_name,
    filename_file,
    identify,
    parse_usage_reference,
)
from olx_spark.olx.model import ArchiveError, ArchiveRejected
from olx_spark.olx.policies import CoursePolicies
from olx_spark.olx.rows import block_rows, edge_rows, page_rows, published_version, static_rows
from olx_spark.olx.sources import CourseSources
from olx_spark.olx.tree import Block, Edge, NodeKey, Row, Task, Tree
from olx_spark.olx.xml_safety import XmlProblem, parse_xml


class _Resolver:
    """Walks the OLX from the root, then orphans, then drafts, filling a `Tree`."""

    def __init__(self, identity: CourseIdentity, sources: CourseSources) -> None:
        self.identity = identity
        self.sources = sources
        self.tree = Tree()

    def walk(self, first: Task) -> None:
        stack = [first]
        while stack:
            stack.extend(reversed(self._visit(stack.pop())))

    def _key(self, task: Task) -> NodeKey:
        return (task.is_draft, self.identity.block_id(task.block_type, task.url_name))

    def _link(self, task: Task, key: NodeKey) -> None:
        if task.parent is not None:
            self.tree.edges.append(Edge(task.parent, key, task.position, task.is_draft))

    def _visit(self, task: Task) -> list[Task]:
        key = self._key(task)
        if key in self.tree.blocks:
            if not task.is_pointer:
                self._duplicate(task, key)
            self._link(task, key)
            return []
        published = (False, key[1])
        if (
            task.is_pointer
            and task.is_draft
            and published in self.tree.blocks
            and self._pointer_path(task) not in self.sources.texts
        ):  # a draft's child that only exists published
            self._link(task, published)
            return []
        defined = self._define(task, key)
        if defined is None:
            return []
        block, children = defined
        self.tree.blocks[key] = block
        self._link(task, key)
        return children

    def _duplicate(self, task: Task, key: NodeKey) -> None:
        first = self.tree.blocks[key].xml_path
        self.sources.errors.append(
            ArchiveError(
                task.xml_path,
                "duplicate_block",
                f"{task.xml_path} defines {task.block_type} {task.url_name!r} again (first "
                f"defined in {first}); the first definition was kept.",
            )
        )

    def _pointer_path(self, task: Task) -> str:
        return block_file(task.block_type, task.url_name, task.base)

    def _define(self, task: Task, key: NodeKey) -> tuple[Block, list[Task]] | None:
        element, xml_path = task.element, task.xml_path
        if task.is_pointer:
            xml_path = self._pointer_path(task)
            loaded = self.sources.xml(xml_path, task.xml_path)
            if loaded is None:
                return None
            self.tree.consumed.add(xml_path)
            element = loaded
        attributes = {str(k): str(v) for k, v in element.attrib.items()}
        filename = attributes.get("filename")
        content = None
        if task.block_type == "html":
            content = (
                self._html_body(task, filename, xml_path) if filename else inner_markup(element)
            )
        elif filename:
            file_path = filename_file(task.block_type, filename, task.base)
            loaded = self.sources.xml(file_path, xml_path)
            if loaded is not None:
                self.tree.consumed.add(file_path)
                attributes = {**{str(k): str(v) for k, v in loaded.attrib.items()}, **attributes}
                element, xml_path = loaded, file_path
        raw, children = self._own_xml(task, key, element, attributes, xml_path)
        block = Block(key, task.block_type, task.url_name, xml_path, attributes, raw, content)
        if task.block_type == "course":
            block.fields = course_fields(element)
        return block, children

    def _html_body(self, task: Task, filename: str, referrer: str) -> str | None:
        return self.sources.text(filename_file("html", filename, task.base), referrer)

    def _own_xml(
        self,
        task: Task,
        key: NodeKey,
        element: etree._Element,
        attributes: dict[str, str],
        xml_path: str,
    ) -> tuple[etree._Element, list[Task]]:
        """The block's own XML (child blocks replaced by pointers) and its child blocks."""
        # nsmap: namespace declarations stay, so the XML (and a url_name derived from it)
        # serializes as it was read
        raw = etree.Element(element.tag, attributes, nsmap=element.nsmap)
        raw.text = element.text
        children: list[Task] = []
        is_container = task.block_type in CONTAINER_TYPES
        own_data = course_field_elements(element) if task.block_type == "course" else []
        for child in element:
            if not (is_container and isinstance(child.tag, str)) or any(
                child is data for data in own_data
            ):
                raw.append(deepcopy(child))
                continue
            url_name = child.get("url_name") or derive_url_name(child)
            pointer = etree.SubElement(raw, child.tag, url_name=url_name)
            pointer.tail = child.tail
            children.append(
                Task(
                    child,
                    child.tag,
                    url_name,
                    xml_path,
                    task.base,
                    task.is_draft,
                    is_pointer(child),
                    key,
                    len(children),
                )
            )
        return raw, children

    def walk_root(self, root: etree._Element, root_file: str) -> None:
        """The course (or library) block: inline in the root file, else `course/{run}.xml`;
        if that file is missing, the root file's own element stands in for it."""
        identity = self.identity
        inline = identity.is_library or len(root) > 0
        task = Task(root, identity.root_type, identity.url_name, root_file, "", False, not inline)
        if not inline and self._pointer_path(task) not in self.sources.texts:
            self.sources.xml(self._pointer_path(task), root_file)  # records missing_file
            task = Task(root, identity.root_type, identity.url_name, root_file, "", False, False)
        self.walk(task)

    def walk_files(self, base: str, is_draft: bool) -> None:
        """Define every not-yet-used block file under `base` (orphans, or drafts' extras)."""
        for path, block_type, url_name in _block_files(self.sources.texts, base):
            if path in self.tree.consumed:
                continue
            element = self.sources.xml(path, None)
            if element is None:
                continue
            self.tree.consumed.add(path)
            self.walk(Task(element, block_type, url_name, path, base, is_draft, False))

    def walk_draft_roots(self) -> None:
        """Drafts whose root has `index_in_children_list`, attached to their parent."""
        for path, block_type, url_name in _block_files(self.sources.texts, DRAFTS_DIR):
            data = self.sources.texts[path]
            if b"index_in_children_list" not in data or path in self.tree.consumed:
                continue
            element = self.sources.xml(path, None)
            if element is None or element.get("index_in_children_list") is None:
                continue
            self.tree.consumed.add(path)
            parent = self._draft_parent(element, path)
            position = self._draft_position(element, path)
            self.walk(
                Task(element, block_type, url_name, path, DRAFTS_DIR, True, False, parent, position)
            )

    def _draft_parent(self, element: etree._Element, path: str) -> NodeKey | None:
        reference = element.get("parent_url") or element.get("parent_sequential_url") or ""
        parsed = parse_usage_reference(reference)
        if parsed is not None:
            block_id = self.identity.block_id(*parsed)
            for key in ((False, block_id), (True, block_id)):
                if key in self.tree.blocks:
                    return key
        self.sources.errors.append(
            ArchiveError(
                path,
                "missing_parent",
                f"draft {path} names parent {reference!r}, which is not a block of this "
                "course; the draft is kept as an orphan.",
            )
        )
        return None

    def _draft_position(self, element: etree._Element, path: str) -> int | None:
        index = element.get("index_in_children_list", "")
        try:
            return int(index)
        except ValueError:
            self.sources.errors.append(
                ArchiveError(
                    path,
                    "bad_draft",
                    f"draft {path} has index_in_children_list={index!r}, not an integer; "
                    "its position is unknown.",
                )
            )
            return None


def _block_files(texts: dict[str, bytes], base: str) -> Iterator[tuple[str, str, str]]:
    """(path, block_type, url_name) for each `{base}{type}/{name}.xml`, sorted by path."""
    for path in sorted(texts):
        if not (path.startswith(base) and path.endswith(".xml")):
            continue
        parts = path[len(base) :].split("/")
        if len(parts) < 2 or (not base and parts[0] in NON_BLOCK_DIRS):
            continue
        yield path, parts[0], ":".join(parts[1:])[: -len(".xml")]


@dataclass
class ResolvedCourse:
    """A course's identity, its rows per content table and its published version."""

    identity: CourseIdentity
    rows: dict[str, list[Row]]
    course_version: str


def resolve_course(files: CourseFiles, errors: list[ArchiveError]) -> ResolvedCourse:
    """Resolve the course in `files`; raise `ArchiveRejected` only if its root file is bad."""
    sources = CourseSources(files.texts, errors)
    try:
        root = parse_xml(files.texts[files.root_file], files.root_file)
    except XmlProblem as problem:
        raise ArchiveRejected(
            problem.error.kind, problem.error.message, problem.error.path
        ) from None
    identity = identify(root, files.root_file, files.folder_name)
    resolver = _Resolver(identity, sources)
    resolver.walk_root(root, files.root_file)
    resolver.walk_files("", False)
    resolver.walk_draft_roots()
    resolver.walk_files(DRAFTS_DIR, True)
    policies = CoursePolicies.load(sources, identity)
    blocks = block_rows(resolver.tree, identity, policies)
    rows: dict[str, list[Row]] = {
        "blocks": blocks,
        "edges": edge_rows(resolver.tree.edges),
        "policies": policies.rows(identity, {key[1] for key in resolver.tree.blocks}),
        "pages": page_rows(sources, identity.url_name),
        "static_files": static_rows(files.static_files, policies),
    }
    return ResolvedCourse(identity, rows, published_version(blocks, rows["edges"]))
