"""Resolve a course's OLX files into rows: blocks, edges, policies, pages, static files.

This is the rulebook of specs/olx.md in code: pointers and inline definitions, `filename`
files, derived url_names, containers versus a leaf block's own data, policies, drafts, orphans
and shared children. It works on the text files `archive` kept (paths relative to the course
root) and never raises for a bad part of a course: each problem is appended to `errors` and
the rest of the course still resolves.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
import posixpath
import re
from collections.abc import Iterable, Iterator
from copy import deepcopy
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from olx_spark.olx.archive import CourseFiles, MemberFile
from olx_spark.olx.hashing import block_hash, canonical_xml, course_version, subtree_hashes
from olx_spark.olx.model import ArchiveError, ArchiveRejected
from olx_spark.olx.xml_safety import XmlProblem, parse_xml

CONTAINER_TYPES = frozenset(
    {
        "course",
        "chapter",
        "sequential",
        "vertical",
        "unit",
        "videosequence",
        "problemset",
        "split_test",
        "conditional",
        "library_content",
        "randomize",
        "wrapper",
        "library",
    }
)
# Top-level folders of a course that do not hold block definitions.
NON_BLOCK_DIRS = frozenset(
    {
        "about",
        "info",
        "tabs",
        "custom_tags",
        "policies",
        "static",
        "static_import",
        "drafts",
        "assets",
    }
)
PAGE_TYPES = ("about", "info", "tabs", "custom_tags")
DRAFTS_DIR = "drafts/"
_URL_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9_.~-]")
_BLOCK_V1_KEY = re.compile(r"type@([^+]+)\+block@(.+)$")
_MIME_TYPES = mimetypes.MimeTypes()  # built-in table only: the same answer on every machine

NodeKey = tuple[bool, str]  # (is_draft, block_id): a draft and its published block share an id
Row = dict[str, Any]


@dataclass(frozen=True)
class CourseIdentity:
    """Who the course (or library) is, and how its block keys are spelled."""

    org: str
    course: str
    run: str | None
    url_name: str
    is_library: bool

    @property
    def root_type(self) -> str:
        return "library" if self.is_library else "course"

    @property
    def course_id(self) -> str:
        if self.is_library:
            return f"library-v1:{self.org}+{self.course}"
        return f"course-v1:{self.org}+{self.course}+{self.run}"

    def block_id(self, block_type: str, url_name: str) -> str:
        """The usage key; the root block is always `...+type@course+block@course`."""
        if block_type == self.root_type and url_name in (self.url_name, self.root_type):
            url_name = self.root_type
        if self.is_library:
            return f"lib-block-v1:{self.org}+{self.course}+type@{block_type}+block@{url_name}"
        return f"block-v1:{self.org}+{self.course}+{self.run}+type@{block_type}+block@{url_name}"

    @property
    def root_id(self) -> str:
        return self.block_id(self.root_type, self.url_name)


def clean_url_name(value: str) -> str:
    """Replace every character outside `[A-Za-z0-9_.~-]` with `_`."""
    return _URL_NAME_UNSAFE.sub("_", value)


def derive_url_name(element: etree._Element) -> str:
    """A url_name for an element without one: slug, name, display_name, else a content hash."""
    for attribute in ("slug", "name", "display_name"):
        value = element.get(attribute)
        if value:
            return clean_url_name(value)
    digest = hashlib.sha1(etree.tostring(element, with_tail=False)).hexdigest()[:12]
    return f"{element.tag}_{digest}"


def identify(root: etree._Element, root_file: str, folder_name: str) -> CourseIdentity:
    """Read org, course (or library code), run and url_name from course.xml / library.xml."""
    org = root.get("org") or "edx"
    if root_file == "library.xml":
        code = root.get("library") or folder_name
        return CourseIdentity(org, code, None, root.get("url_name") or "library", True)
    run = root.get("url_name") or root.get("slug") or derive_url_name(root)
    return CourseIdentity(org, root.get("course") or folder_name, run, run, False)


def _url_name_path(url_name: str) -> str:
    return url_name.replace(":", "/")


def _course_field_elements(course: etree._Element) -> list[etree._Element]:
    """The children of <course> that are the course's own fields, not blocks: every
    <textbook> and the first <wiki>, as edx-platform's CourseBlock reads them (it takes them out
    before it looks for child blocks; any other child, a second <wiki> too, is a block). They
    stay in the course's own XML."""
    wiki = course.find("wiki")
    return [*course.findall("textbook"), *([] if wiki is None else [wiki])]


def _course_fields(course: etree._Element) -> dict[str, str]:
    """The course's `wiki_slug` and `textbooks` settings from its <wiki slug> and <textbook>
    children (only those present; `textbooks` is JSON text of `[title, book_url]` pairs, the
    form edx-platform stores and a policy file gives)."""
    fields: dict[str, str] = {}
    wiki = course.find("wiki")
    if wiki is not None and wiki.get("slug") is not None:
        fields["wiki_slug"] = str(wiki.get("slug"))
    textbooks = [[book.get("title"), book.get("book_url")] for book in course.findall("textbook")]
    if textbooks:
        fields["textbooks"] = _json_text(textbooks)
    return fields


def _is_pointer(element: etree._Element) -> bool:
    """No child elements, no text, no attribute but url_name: the definition is elsewhere."""
    return (
        len(element) == 0
        and not (element.text or "").strip()
        and list(element.attrib) == ["url_name"]
    )


def _inner_markup(element: etree._Element) -> str:
    return (element.text or "") + "".join(
        etree.tostring(child, encoding="unicode") for child in element
    )


def _json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _setting_text(value: Any) -> str:
    """Policy value as a setting: a JSON string becomes the plain string, else its JSON text."""
    return value if isinstance(value, str) else _json_text(value)


class _Sources:
    """The course's text files, parsed or decoded on demand; problems go to `errors`."""

    def __init__(self, texts: dict[str, bytes], errors: list[ArchiveError]) -> None:
        self.texts = texts
        self.errors = errors
        self._failed: set[str] = set()

    def _missing(self, path: str, referrer: str | None) -> None:
        self.errors.append(
            ArchiveError(
                path,
                "missing_file",
                f"{referrer} refers to {path}, which is not in the archive; that block was "
                "skipped. Add the file or remove the reference.",
            )
        )

    def xml(self, path: str, referrer: str | None) -> etree._Element | None:
        data = self.texts.get(path)
        if data is None:
            self._missing(path, referrer)
            return None
        if path in self._failed:
            return None
        try:
            return parse_xml(data, path)
        except XmlProblem as problem:
            self._failed.add(path)
            self.errors.append(problem.error)
            return None

    def text(self, path: str, referrer: str | None) -> str | None:
        data = self.texts.get(path)
        if data is None:
            self._missing(path, referrer)
            return None
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            self.errors.append(
                ArchiveError(
                    path,
                    "bad_encoding",
                    f"{path} is not valid UTF-8 ({exc.reason} at byte {exc.start}); "
                    "undecodable bytes were replaced with U+FFFD.",
                )
            )
            return data.decode("utf-8", errors="replace")

    def json(self, path: str) -> Any:
        """The parsed JSON file, or None if it is absent or bad (bad: recorded)."""
        data = self.texts.get(path)
        if data is None:
            return None
        try:
            return json.loads(data)
        except (ValueError, UnicodeDecodeError) as exc:
            self.errors.append(
                ArchiveError(
                    path,
                    "bad_json",
                    f"{path} is not valid JSON ({exc}); its settings were not applied. "
                    "Fix the file and export the course again.",
                )
            )
            return None

    def json_object(self, path: str) -> dict[str, Any] | None:
        value = self.json(path)
        if value is None or isinstance(value, dict):
            return value
        self.errors.append(
            ArchiveError(
                path,
                "bad_json",
                f"{path} must hold a JSON object, not a {type(value).__name__}; it was skipped.",
            )
        )
        return None


@dataclass(frozen=True)
class _Task:
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
class _Block:
    key: NodeKey
    block_type: str
    url_name: str
    xml_path: str
    attributes: dict[str, str]
    raw: etree._Element
    content: str | None
    fields: dict[str, str] = field(default_factory=dict)  # settings read from child elements


@dataclass(frozen=True)
class _Edge:
    parent: NodeKey
    child: NodeKey
    position: int | None
    is_draft: bool


@dataclass
class _Tree:
    """Blocks (in document order) and edges, as the walk finds them."""

    blocks: dict[NodeKey, _Block] = field(default_factory=dict)
    edges: list[_Edge] = field(default_factory=list)
    consumed: set[str] = field(default_factory=set)  # files used as definitions


class _Resolver:
    """Walks the OLX from the root, then orphans, then drafts, filling a `_Tree`."""

    def __init__(self, identity: CourseIdentity, sources: _Sources) -> None:
        self.identity = identity
        self.sources = sources
        self.tree = _Tree()

    def walk(self, first: _Task) -> None:
        stack = [first]
        while stack:
            stack.extend(reversed(self._visit(stack.pop())))

    def _key(self, task: _Task) -> NodeKey:
        return (task.is_draft, self.identity.block_id(task.block_type, task.url_name))

    def _link(self, task: _Task, key: NodeKey) -> None:
        if task.parent is not None:
            self.tree.edges.append(_Edge(task.parent, key, task.position, task.is_draft))

    def _visit(self, task: _Task) -> list[_Task]:
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

    def _duplicate(self, task: _Task, key: NodeKey) -> None:
        first = self.tree.blocks[key].xml_path
        self.sources.errors.append(
            ArchiveError(
                task.xml_path,
                "duplicate_block",
                f"{task.xml_path} defines {task.block_type} {task.url_name!r} again (first "
                f"defined in {first}); the first definition was kept.",
            )
        )

    def _pointer_path(self, task: _Task) -> str:
        return f"{task.base}{task.block_type}/{_url_name_path(task.url_name)}.xml"

    def _define(self, task: _Task, key: NodeKey) -> tuple[_Block, list[_Task]] | None:
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
                self._html_body(task, filename, xml_path) if filename else _inner_markup(element)
            )
        elif filename:
            file_path = f"{task.base}{task.block_type}/{_url_name_path(filename)}.xml"
            loaded = self.sources.xml(file_path, xml_path)
            if loaded is not None:
                self.tree.consumed.add(file_path)
                attributes = {**{str(k): str(v) for k, v in loaded.attrib.items()}, **attributes}
                element, xml_path = loaded, file_path
        raw, children = self._own_xml(task, key, element, attributes, xml_path)
        block = _Block(key, task.block_type, task.url_name, xml_path, attributes, raw, content)
        if task.block_type == "course":
            block.fields = _course_fields(element)
        return block, children

    def _html_body(self, task: _Task, filename: str, referrer: str) -> str | None:
        name = filename if filename.endswith(".html") else f"{filename}.html"
        return self.sources.text(f"{task.base}html/{_url_name_path(name)}", referrer)

    def _own_xml(
        self,
        task: _Task,
        key: NodeKey,
        element: etree._Element,
        attributes: dict[str, str],
        xml_path: str,
    ) -> tuple[etree._Element, list[_Task]]:
        """The block's own XML (child blocks replaced by pointers) and its child blocks."""
        raw = etree.Element(element.tag, attributes)
        raw.text = element.text
        children: list[_Task] = []
        is_container = task.block_type in CONTAINER_TYPES
        own_data = _course_field_elements(element) if task.block_type == "course" else []
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
                _Task(
                    child,
                    child.tag,
                    url_name,
                    xml_path,
                    task.base,
                    task.is_draft,
                    _is_pointer(child),
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
        task = _Task(root, identity.root_type, identity.url_name, root_file, "", False, not inline)
        if not inline and self._pointer_path(task) not in self.sources.texts:
            self.sources.xml(self._pointer_path(task), root_file)  # records missing_file
            task = _Task(root, identity.root_type, identity.url_name, root_file, "", False, False)
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
            self.walk(_Task(element, block_type, url_name, path, base, is_draft, False))

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
                _Task(
                    element, block_type, url_name, path, DRAFTS_DIR, True, False, parent, position
                )
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


def parse_usage_reference(reference: str) -> tuple[str, str] | None:
    """(block_type, url_name) from an `i4x://org/course/type/name` or `block-v1:` key."""
    if reference.startswith("i4x://"):
        parts = reference[len("i4x://") :].split("/")
        if len(parts) >= 4:
            return parts[2], parts[3].split("@")[0]
        return None
    match = _BLOCK_V1_KEY.search(reference)
    return (match.group(1), match.group(2)) if match else None


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
    sources = _Sources(files.texts, errors)
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
    policies = _Policies.load(sources, identity)
    blocks = _block_rows(resolver.tree, identity, policies)
    rows: dict[str, list[Row]] = {
        "blocks": blocks,
        "edges": _edge_rows(resolver.tree.edges),
        "policies": policies.rows(identity, {key[1] for key in resolver.tree.blocks}),
        "pages": _page_rows(sources, identity.url_name),
        "static_files": _static_rows(files.static_files, policies),
    }
    return ResolvedCourse(identity, rows, _version(blocks, rows["edges"]))


@dataclass
class _Policies:
    """The policy files of a course: policy.json, grading_policy.json, assets (JSON and XML)."""

    policy_file: str | None
    policy: dict[str, Any]
    grading_file: str
    grading: dict[str, Any]
    assets: dict[str, Any]
    assets_xml: dict[str, dict[str, str]]

    @classmethod
    def load(cls, sources: _Sources, identity: CourseIdentity) -> _Policies:
        run_dir = f"policies/{_url_name_path(identity.url_name)}"
        policy_file = next(
            (p for p in (f"{run_dir}/policy.json", f"{run_dir}.json") if p in sources.texts),
            None,
        )
        grading_file = f"{run_dir}/grading_policy.json"
        return cls(
            policy_file,
            (sources.json_object(policy_file) if policy_file else None) or {},
            grading_file,
            sources.json_object(grading_file) or {},
            sources.json_object("policies/assets.json") or {},
            _assets_xml(sources),
        )

    def overrides(self, block_type: str, url_name: str) -> dict[str, str]:
        entry = self.policy.get(f"{block_type}/{url_name}")
        if not isinstance(entry, dict):
            return {}
        return {str(k): _setting_text(v) for k, v in entry.items()}

    def asset_metadata(self, static_path: str) -> str | None:
        relative = static_path.split("/", 1)[1]
        for name in (relative, posixpath.basename(relative), relative.replace("/", "_")):
            if name in self.assets:
                return _json_text(self.assets[name])
        for name in (relative, posixpath.basename(relative)):
            if name in self.assets_xml:
                return _json_text(self.assets_xml[name])
        return None

    def rows(self, identity: CourseIdentity, block_ids: set[str]) -> list[Row]:
        rows: list[Row] = []
        if self.policy_file:
            for key, value in self.policy.items():
                block_id = _policy_block_id(identity, key, block_ids)
                rows.extend(_setting_rows(self.policy_file, key, block_id, value))
        for key, value in self.grading.items():
            rows.append(_policy_row(self.grading_file, key, None, None, value))
        for name, entry in self.assets.items():
            rows.extend(_setting_rows("policies/assets.json", name, None, entry))
        for name, entry in self.assets_xml.items():
            rows.extend(_setting_rows("assets/assets.xml", name, None, entry))
        return rows


def _assets_xml(sources: _Sources) -> dict[str, dict[str, str]]:
    if "assets/assets.xml" not in sources.texts:
        return {}
    root = sources.xml("assets/assets.xml", None)
    assets: dict[str, dict[str, str]] = {}
    for asset in root.iter("asset") if root is not None else ():
        entry = {str(k): str(v) for k, v in asset.attrib.items() if k != "filename"}
        entry.update({str(c.tag): c.text or "" for c in asset if isinstance(c.tag, str)})
        assets.setdefault(asset.get("filename", ""), entry)
    return assets


def _policy_block_id(identity: CourseIdentity, key: str, block_ids: set[str]) -> str | None:
    if "/" not in key:
        return None
    block_type, url_name = key.split("/", 1)
    block_id = identity.block_id(block_type, url_name)
    return block_id if block_id in block_ids else None


def _policy_row(
    policy_file: str, key: str, block_id: str | None, setting: str | None, value: Any
) -> Row:
    return {
        "policy_file": policy_file,
        "policy_key": key,
        "block_id": block_id,
        "setting": setting,
        "value_json": _json_text(value),
    }


def _setting_rows(policy_file: str, key: str, block_id: str | None, value: Any) -> list[Row]:
    if isinstance(value, dict) and value:
        return [_policy_row(policy_file, key, block_id, str(s), v) for s, v in value.items()]
    return [_policy_row(policy_file, key, block_id, None, value)]


def _first_parents(edges: Iterable[_Edge]) -> dict[NodeKey, _Edge]:
    first: dict[NodeKey, _Edge] = {}
    for edge in edges:
        first.setdefault(edge.child, edge)
    return first


def _depths(
    nodes: Iterable[NodeKey], root: NodeKey, first: dict[NodeKey, _Edge]
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


def _reachable(root: NodeKey, edges: Iterable[_Edge]) -> set[NodeKey]:
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


def _block_rows(tree: _Tree, identity: CourseIdentity, policies: _Policies) -> list[Row]:
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


def _subtree_hashes(tree: _Tree, rows: list[Row]) -> dict[NodeKey, str]:
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
    block: _Block, policies: _Policies, first: _Edge | None, depth: int | None, is_orphan: bool
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


def _edge_rows(edges: list[_Edge]) -> list[Row]:
    return [
        {
            "parent_block_id": edge.parent[1],
            "child_block_id": edge.child[1],
            "position": edge.position,
            "is_draft": edge.is_draft,
        }
        for edge in edges
    ]


def _version(blocks: list[Row], edges: list[Row]) -> str:
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


def _page_rows(sources: _Sources, run: str) -> list[Row]:
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


def _static_rows(static_files: list[MemberFile], policies: _Policies) -> list[Row]:
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
