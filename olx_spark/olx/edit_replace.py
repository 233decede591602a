"""Check a replacement subtree against the course and turn it into file changes.

The replacement is walked the way ingest walks a course (pointers to `{type}/{url_name}.xml`,
inline children, `filename` files, containers versus a leaf's own data), but strictly: the
first problem refuses the whole edit, with the file, line and column and the usage key of the
block it is in. Refused: malformed XML, a root of another type or id, a cycle, a block defined
twice, a pointer (or `filename`) to a file that is in neither the replacement nor the archive,
a file the subtree does not use, and a static file that would change a file of the same name.
A pointer to a file that is only in the archive is a reference to an existing block (shared),
and is kept. A block that already has a parent outside the replaced subtree (or hangs below
one that has) is shared with the rest of the course: the replacement may carry it (a subtree
export does) but not change it; `check_shared` compares it by `block_hash` once the edited
course is resolved, and keeps the archive's own bytes for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from olx_spark.olx.archive import MemberFile
from olx_spark.olx.edit_model import EditRefused, FilePlan, Location
from olx_spark.olx.edit_source import CourseView, LoadedCourse, Replacement, Row
from olx_spark.olx.edit_xml import (
    Splice,
    XmlFile,
    apply_splices,
    block_children,
    definition_element,
    element_url_name,
    keep_hashed_names,
    occurrences,
    own_files,
    pointer_bytes,
    syntax_location,
    syntax_message,
    unsafe_name_message,
)
from olx_spark.olx.elements import is_pointer
from olx_spark.olx.identity import CourseIdentity, block_file, filename_file, parse_usage_reference
from olx_spark.olx.xml_safety import XmlProblem


@dataclass
class _Pending:
    """A block definition waiting to be walked."""

    element: etree._Element
    block_type: str
    url_name: str
    file: XmlFile
    location: Location


@dataclass
class ReplacementTree:
    """What the walk found: the blocks the replacement defines (with where), each one's
    children (with the pointer's location), the replacement files it uses, and the archive
    files it refers to."""

    defined: dict[str, Location] = field(default_factory=dict)
    children: dict[str, list[tuple[str, Location]]] = field(default_factory=dict)
    used: set[str] = field(default_factory=set)
    external_files: set[str] = field(default_factory=set)


class _Walk:
    def __init__(self, course: LoadedCourse, target: Row, replacement: Replacement) -> None:
        self.course = course
        self.identity: CourseIdentity = course.view.identity
        self.target = target
        self.replacement = replacement
        self.tree = ReplacementTree()
        self.claimed: dict[str, str] = {}  # replacement file -> the block it defines
        self.external: dict[str, Location] = {}  # archive block -> first pointer to it
        self.stack: list[_Pending] = []

    def refuse(self, message: str, location: Location, block_id: str) -> EditRefused:
        return EditRefused(
            f"{self.replacement.source}: {location}: {message} (in {block_id}).",
            location,
            block_id,
        )

    def parse(self, path: str, data: bytes, block_id: str) -> XmlFile:
        try:
            return XmlFile(path, data)
        except XmlProblem as problem:
            location = syntax_location(problem, path)
            raise self.refuse(
                f"{syntax_message(problem)}; fix the file", location, block_id
            ) from None

    def run(self) -> ReplacementTree:
        root = self._root()
        self.stack.append(root)
        while self.stack:
            self._define(self.stack.pop())
        self._check_unused()
        return self.tree

    def _root(self) -> _Pending:
        target = self.target
        block_id, block_type, url_name = (
            target["block_id"],
            target["block_type"],
            target["url_name"],
        )
        path = block_file(block_type, url_name)
        unsafe = unsafe_name_message(block_id, "url_name", url_name, path)
        if unsafe is not None:
            raise EditRefused(
                f"{unsafe}; a replaced block's definition is written to that file.",
                block_id=block_id,
            )
        data = self.replacement.texts.get(path)
        if data is None:
            raise EditRefused(
                f"the replacement {self.replacement.source} has no {path}: a subtree export of "
                f"{block_id} holds that block's own file there (its descendants in the same "
                "layout), with manifest.json if it came from `olx-spark olx export`."
            )
        xml_file = self.parse(path, data, block_id)
        element = xml_file.root
        location = xml_file.location(element)
        if element.tag != block_type:
            raise self.refuse(
                f"the root is a <{element.tag}>, but {block_id} is a {block_type}; a "
                "replacement must be a block of the same type and id",
                location,
                block_id,
            )
        if element.get("url_name") not in (None, url_name):
            raise self.refuse(
                f"the root says url_name={element.get('url_name')!r}, but the block replaced "
                f"is {url_name!r}; remove the attribute (the file's name gives the id)",
                location,
                block_id,
            )
        self.claimed[path] = block_id
        self.tree.used.add(path)
        self.tree.defined[block_id] = location
        return _Pending(element, block_type, url_name, xml_file, location)

    def _define(self, pending: _Pending) -> None:
        block_id = self.identity.block_id(pending.block_type, pending.url_name)
        element, xml_file = self._follow_filename(pending, block_id)
        kids: list[tuple[str, Location]] = []
        queued: list[_Pending] = []
        for child in block_children(element, pending.block_type):
            child_type, child_url = str(child.tag), element_url_name(child)
            child_id = self.identity.block_id(child_type, child_url)
            location = xml_file.location(child)
            kids.append((child_id, location))
            if is_pointer(child):
                queued.extend(self._pointer(child_type, child_url, child_id, location, block_id))
            else:
                self._claim_inline(child_id, location, block_id)
                queued.append(_Pending(child, child_type, child_url, xml_file, location))
        self.tree.children[block_id] = kids
        self.stack.extend(reversed(queued))

    def _claim_inline(self, child_id: str, location: Location, parent_id: str) -> None:
        first = self.tree.defined.get(child_id) or self.external.get(child_id)
        if first is not None:
            raise self.refuse(
                f"{child_id} is defined twice (also at {first}); a block has one definition: "
                "point to it instead",
                location,
                parent_id,
            )
        self.tree.defined[child_id] = location

    def _pointer(
        self, child_type: str, child_url: str, child_id: str, location: Location, parent_id: str
    ) -> list[_Pending]:
        path = block_file(child_type, child_url)
        unsafe = unsafe_name_message(child_id, "url_name", child_url, path)
        if unsafe is not None:
            raise self.refuse(unsafe, location, parent_id)
        data = self.replacement.texts.get(path)
        if data is not None:
            if path in self.claimed:
                return []  # a second pointer to the same file: a shared block
            if child_id in self.tree.defined:
                raise self.refuse(
                    f"{child_id} is defined twice: inline at {self.tree.defined[child_id]} and "
                    f"in {path}; keep one definition",
                    location,
                    parent_id,
                )
            xml_file = self.parse(path, data, child_id)
            self.claimed[path] = child_id
            self.tree.used.add(path)
            root_location = xml_file.location(xml_file.root)
            self.tree.defined[child_id] = root_location
            return [_Pending(xml_file.root, child_type, child_url, xml_file, root_location)]
        if path in self.course.texts:
            if child_id in self.tree.defined:
                raise self.refuse(
                    f"{child_id} is defined inline at {self.tree.defined[child_id]} and in the "
                    f"archive's {path}; keep one definition",
                    location,
                    parent_id,
                )
            self.external.setdefault(child_id, location)
            self.tree.external_files.add(path)
            return []
        raise self.refuse(
            f"pointer to a missing file: <{child_type} url_name={child_url!r}/> needs {path}, "
            "which is in neither the replacement nor the archive; add the file or remove the "
            "pointer",
            location,
            parent_id,
        )

    def _follow_filename(self, pending: _Pending, block_id: str) -> tuple[etree._Element, XmlFile]:
        """A `filename` attribute: the html body must exist; another block's file is read
        (from the replacement, else the archive) and its children are the block's."""
        filename = pending.element.get("filename")
        if not filename:
            return pending.element, pending.file
        path = filename_file(pending.block_type, filename)
        unsafe = unsafe_name_message(block_id, "filename", filename, path)
        if unsafe is not None:
            raise self.refuse(unsafe, pending.location, block_id)
        data = self.replacement.texts.get(path)
        if data is not None:
            self.tree.used.add(path)
        elif path in self.course.texts:
            data = self.course.texts[path]
            self.tree.external_files.add(path)
        else:
            raise self.refuse(
                f"filename={filename!r} needs {path}, which is in neither the replacement nor "
                "the archive; add the file",
                pending.location,
                block_id,
            )
        if pending.block_type == "html":
            return pending.element, pending.file
        loaded = self.parse(path, data, block_id)
        return loaded.root, loaded

    def _check_unused(self) -> None:
        unused = sorted(set(self.replacement.texts) - self.tree.used) + self.replacement.others
        unused = [p for p in unused if p.split("/")[0] not in ("static", "static_import")]
        if unused:
            path = unused[0]
            raise EditRefused(
                f"{self.replacement.source}: {path}:1:1: this file is not part of the subtree "
                f"rooted at {self.target['block_id']} (nothing in it points to it); a "
                "replacement holds only the root block's file, its descendants' files and "
                f"static/. Remove it or point to it.{_more(unused)}",
                Location(path, 1, 1),
                self.target["block_id"],
            )


def _more(paths: list[str]) -> str:
    return f" ({len(paths) - 1} more such files)" if len(paths) > 1 else ""


def _check_cycles(course: LoadedCourse, target_id: str, tree: ReplacementTree) -> None:
    """No block of the new subtree may reach one of its ancestors (through the replacement,
    or through an existing block it points to)."""

    def children(node: str) -> list[tuple[str, Location | None]]:
        if node in tree.children:
            return [(kid, loc) for kid, loc in tree.children[node]]
        return [(kid, None) for kid in course.view.children(node)]

    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = [target_id]
    stack = [(target_id, iter(children(target_id)))]
    state[target_id] = 1
    while stack:
        node, kids = stack[-1]
        step = next(kids, None)
        if step is None:
            state[node] = 2
            stack.pop()
            path.pop()
            continue
        kid, location = step
        if state.get(kid) == 1:
            cycle = [*path[path.index(kid) :], kid]
            where = location or tree.defined.get(node) or Location("?", 1, 1)
            raise EditRefused(
                f"{where}: a cycle: {' -> '.join(cycle)}; a block cannot contain one of its "
                f"ancestors. Remove the pointer (in {node}).",
                where,
                node,
            )
        if kid not in state:
            state[kid] = 1
            path.append(kid)
            stack.append((kid, iter(children(kid))))


def _check_manifest(course: LoadedCourse, target: Row, replacement: Replacement) -> None:
    manifest = replacement.manifest
    if manifest is None:
        return
    identity = course.view.identity
    course_id = manifest.get("course_id")
    if course_id not in (None, identity.course_id):
        raise EditRefused(
            f"{replacement.source}: manifest.json says the subtree was exported from "
            f"{course_id}, but the archive holds {identity.course_id}. Export from this "
            "course, or remove course_id from manifest.json if this is intended."
        )
    root = parse_usage_reference(str(manifest.get("root_block_id") or ""))
    if manifest.get("root_block_id") and (
        root is None or identity.block_id(*root) != target["block_id"]
    ):
        raise EditRefused(
            f"{replacement.source}: manifest.json says its root is "
            f"{manifest.get('root_block_id')}, not {target['block_id']}; a replacement "
            "replaces the block it was exported from."
        )


def _inline_root_splices(course: LoadedCourse, target: Row) -> dict[str, bytes]:
    """If the replaced block is inline in a parent's file, that inline element becomes a
    pointer (the new definition is the block's own file); returns the rewritten files."""
    rewritten: dict[str, bytes] = {}
    view = course.view
    for parent_id in view.parents(target["block_id"]):
        parent = view.published(parent_id)
        if parent is None or parent["xml_path"] not in course.texts:
            continue
        path = parent["xml_path"]
        xml_file = XmlFile(path, rewritten.get(path, course.texts[path]))
        element = definition_element(xml_file, parent)
        if element is None:
            continue
        splices = []
        for child in occurrences(
            element, parent["block_type"], target["block_type"], target["url_name"]
        ):
            span = xml_file.span(child)
            if is_pointer(child):
                continue
            if span is None:
                raise EditRefused(
                    f"{target['block_id']} is defined inline in {path}, which cannot be "
                    "rewritten byte-exactly (expat cannot read it); move the block to its own "
                    "file first."
                )
            pointer = pointer_bytes(target["block_type"], target["url_name"], xml_file.encoding)
            splices.append(Splice(span.start, span.end, pointer))
        if splices:
            splices += keep_hashed_names(xml_file, [element])  # the parent's id stays
            rewritten[path] = apply_splices(xml_file.data, splices)
    return rewritten


def _static_additions(course: LoadedCourse, replacement: Replacement) -> list[MemberFile]:
    existing = {f.path: f for f in course.files.static_files}
    added = []
    for item in replacement.static:
        old = existing.get(item.path)
        if old is None:
            added.append(item)
        elif old.sha256 != item.sha256:
            raise EditRefused(
                f"{replacement.source}: {item.path} differs from the archive's file of that "
                "name; static files are shared by the whole course, so a replacement cannot "
                "change one. Give the new file a new name and point to that."
            )
    return added


@dataclass
class ReplacePlan:
    """A replacement as file changes, before orphans; `shared` are the blocks it carries
    that the rest of the course uses too (block id -> (its definition's location, why))."""

    plan: FilePlan
    defined: set[str]
    static: list[MemberFile]
    shared: dict[str, tuple[Location, str]]


def _shared_blocks(
    view: CourseView, target_id: str, defined: dict[str, Location]
) -> dict[str, tuple[Location, str]]:
    """Blocks the replacement defines that are reachable from the course root without going
    through the replaced block: used outside the subtree too."""
    inside = set(view.subtree(target_id))
    root = view.identity.root_id
    outside: set[str] = set()
    stack = [] if root == target_id else [root]
    while stack:
        node = stack.pop()
        if node in outside:
            continue
        outside.add(node)
        stack.extend(kid for kid in view.children(node) if kid != target_id)
    shared: dict[str, tuple[Location, str]] = {}
    for block_id, location in defined.items():
        if block_id == target_id or block_id not in inside or block_id not in outside:
            continue
        parents = view.parents(block_id)
        direct = [p for p in parents if p not in inside]
        why = (
            f"it already has a parent outside the subtree ({direct[0]})"
            if direct
            else f"its parent {parents[0]} is also used outside the subtree"
        )
        shared[block_id] = (location, why)
    return shared


def _definitions_by_file(view: CourseView, texts: dict[str, bytes]) -> dict[str, dict[str, str]]:
    """For each file, the published blocks defined in (or using) it: id -> block_hash."""
    by_file: dict[str, dict[str, str]] = {}
    for (is_draft, block_id), row in view.blocks.items():
        if is_draft:
            continue
        for path in own_files(row, texts) | {row["xml_path"]}:
            by_file.setdefault(path, {})[block_id] = row["block_hash"]
    return by_file


def _restore_unchanged(course: LoadedCourse, plan: FilePlan, after: CourseView) -> bool:
    """A replacement file whose blocks all keep their block_hash (a re-serialized export)
    keeps the archive's bytes."""
    candidates = [p for p in plan.writes if p in course.texts and p in plan.keep]
    if not candidates:
        return False
    now = _definitions_by_file(after, plan.apply(course.texts))
    before = _definitions_by_file(course.view, course.texts)
    restored = [p for p in candidates if now.get(p) and now.get(p) == before.get(p)]
    for path in restored:
        del plan.writes[path]
    return bool(restored)


def review_replacement(course: LoadedCourse, planned: ReplacePlan, after: CourseView) -> bool:
    """Once the edited course is resolved: refuse a change to a block the rest of the course
    uses too, and keep the archive's bytes wherever the replacement changed nothing (for a
    shared block, even a file at a new path). True if the plan changed (resolve again)."""
    old = course.view
    dropped = False
    for block_id, (location, why) in planned.shared.items():
        before, now = old.published(block_id), after.published(block_id)
        if before is None or now is None:
            continue
        if before["block_hash"] != now["block_hash"]:
            raise EditRefused(
                f"{location}: {block_id} cannot be changed by this replacement: {why}, so the "
                "change would show there too. Leave it as the archive has it (or point to it "
                "and leave its file out), or edit it with a replacement of a block that holds "
                f"all its parents (in {block_id}).",
                location,
                block_id,
            )
        for path in own_files(now, planned.plan.writes) | own_files(before, course.texts):
            if planned.plan.writes.pop(path, None) is not None:
                dropped = True
    return _restore_unchanged(course, planned.plan, after) or dropped


def plan_replace(course: LoadedCourse, target: Row, replacement: Replacement) -> ReplacePlan:
    """Check the replacement and turn it into file writes and removals (before orphans)."""
    _check_manifest(course, target, replacement)
    tree = _Walk(course, target, replacement).run()
    _check_cycles(course, target["block_id"], tree)
    view = course.view
    writes = {
        p: replacement.texts[p]
        for p in sorted(tree.used)
        if replacement.texts[p] != course.texts.get(p)  # an unchanged file is copied as it is
    }
    writes.update(_inline_root_splices(course, target))
    keep = set(tree.external_files)
    for (is_draft, block_id), row in view.blocks.items():
        if is_draft or block_id not in tree.defined:
            keep |= own_files(row, course.texts)
    superseded: set[str] = set()
    for block_id in tree.defined:
        row = view.published(block_id)
        if row is not None:
            superseded |= own_files(row, course.texts)
    shared = _shared_blocks(view, target["block_id"], tree.defined)
    for block_id in shared:
        keep |= own_files(view.blocks[(False, block_id)], course.texts)
    plan = FilePlan(writes, superseded - tree.used - keep, tree.used | tree.external_files)
    return ReplacePlan(plan, set(tree.defined), _static_additions(course, replacement), shared)
