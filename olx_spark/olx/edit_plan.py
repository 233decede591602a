"""From an edit's file changes to the course it leaves: orphans, moves, deletes, final checks.

Every edit is first a set of file writes and removals (`FilePlan`). Its effect on the course
is then found the way ingest would find it: the edited text files are resolved again with
`course.resolve_course`. A block that was in the course tree before and is now missing or
unreachable is a would-be orphan (spec: reachable under the old subtree, not under the new
one, referenced nowhere else, drafts included): `decline` refuses the edit, `delete` removes
their files, keeping every file a remaining block still uses (a block shared with another
parent stays); a delete removes only what is below the deleted block (`below`) and declines
any other would-be orphan. An edit inside a container whose id is a hash of its XML writes that
id as its url_name (`edit_xml.keep_hashed_names`), so the container keeps it. Last, the edited
course must not gain an orphan or an ingest error it did not have: whatever slipped past the
earlier checks is refused here rather than written.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from lxml import etree

from olx_spark.olx.edit_model import EditRefused, FilePlan, Orphan, OrphansDeclined
from olx_spark.olx.edit_source import CourseView, LoadedCourse, NodeKey, Row
from olx_spark.olx.edit_xml import (
    Splice,
    XmlFile,
    apply_splices,
    block_children,
    definition_element,
    keep_hashed_names,
    occurrences,
    own_files,
    pointer_bytes,
    unsafe_name_message,
    whitespace_before,
)
from olx_spark.olx.elements import is_pointer
from olx_spark.olx.identity import block_file

ORPHAN_POLICIES = ("decline", "delete")
_KEY_COURSE = re.compile(r"^(lib-block-v1|block-v1):(.+?)\+type@")
_START_NAME = re.compile(rb"<([^\s/>]+)")


@dataclass
class Settled:
    """An edit ready to write: its file changes and the course they give."""

    plan: FilePlan
    view: CourseView
    orphans_deleted: list[str] = field(default_factory=list)


def find_block(view: CourseView, block_id: str, role: str = "block") -> Row:
    """The published block `block_id`, or a refusal that says what is wrong with the key."""
    row = view.published(block_id)
    if row is not None:
        return row
    identity = view.identity
    if (True, block_id) in view.blocks:
        raise EditRefused(
            f"{role} {block_id} exists only as a draft (unpublished) in this archive; edits "
            "apply to the published course. Publish it in Studio and export again."
        )
    match = _KEY_COURSE.match(block_id)
    if match is None:
        raise EditRefused(
            f"{role} {block_id!r} is not a usage key; keys look like "
            f"{identity.block_id('vertical', 'URL_NAME')}."
        )
    prefix = "library-v1" if match.group(1) == "lib-block-v1" else "course-v1"
    course_id = f"{prefix}:{match.group(2)}"
    if course_id != identity.course_id:
        raise EditRefused(
            f"{role} {block_id} is in course {course_id}, but the archive holds "
            f"{identity.course_id}; check the archive and the key."
        )
    url_name = block_id.rsplit("+block@", 1)[-1]
    similar = [key for _, key in view.blocks if key.rsplit("+block@", 1)[-1] == url_name]
    hint = f" Did you mean {similar[0]}?" if similar else ""
    raise EditRefused(f"{role} {block_id} is not in this archive ({identity.course_id}).{hint}")


# ---------------------------------------------------------------------------------------------
# Orphans and the final checks
# ---------------------------------------------------------------------------------------------


def would_be_orphans(old: CourseView, new: CourseView) -> list[NodeKey]:
    """Blocks in the course tree before the edit and missing or unreachable after it."""
    orphans = []
    for key, row in old.blocks.items():
        after = new.blocks.get(key)
        if not row["is_orphan"] and (after is None or after["is_orphan"]):
            orphans.append(key)
    return orphans


def _node_children(view: CourseView) -> dict[NodeKey, list[NodeKey]]:
    children: dict[NodeKey, list[NodeKey]] = defaultdict(list)
    for edge in view.edges:
        draft = bool(edge["is_draft"])
        parent_is_draft = draft and (True, edge["parent_block_id"]) in view.blocks
        parent: NodeKey = (parent_is_draft, edge["parent_block_id"])
        children[parent].append((draft, edge["child_block_id"]))
    return children


def describe_orphans(view: CourseView, keys: list[NodeKey]) -> list[Orphan]:
    """Each would-be orphan with the number of would-be orphans below it."""
    chosen = set(keys)
    children = _node_children(view)
    described = []
    for key in keys:
        seen = {key}
        stack = [key]
        while stack:
            for kid in children.get(stack.pop(), ()):
                if kid in chosen and kid not in seen:
                    seen.add(kid)
                    stack.append(kid)
        described.append(Orphan(key[1], view.blocks[key]["block_type"], len(seen) - 1, key[0]))
    return described


def _orphan_files(
    course: LoadedCourse, after: CourseView, texts: dict[str, bytes], orphans: list[NodeKey]
) -> set[str]:
    """The orphans' files that no remaining block uses."""
    chosen = set(orphans)
    files: set[str] = set()
    for key in orphans:
        files |= own_files(course.view.blocks[key], course.texts)
    keep: set[str] = set()
    for key, row in after.blocks.items():
        if key not in chosen:
            keep |= own_files(row, texts)
    return {p for p in files - keep if p in texts}


def _check_clean(old: CourseView, new: CourseView) -> None:
    """The edited course has no orphan and no ingest error the old one did not have."""
    new_orphans = [
        key
        for key, row in new.blocks.items()
        if row["is_orphan"] and not (key in old.blocks and old.blocks[key]["is_orphan"])
    ]
    if new_orphans:
        raise EditRefused(
            "the edit would leave blocks without a parent that could not be removed: "
            f"{', '.join(k[1] for k in new_orphans)}. Nothing was written; check those blocks' "
            "files, or report this if the archive is a Studio export."
        )
    before = {(e.path, e.kind, e.message) for e in old.errors}
    added = [e for e in new.errors if (e.path, e.kind, e.message) not in before]
    if added:
        details = "; ".join(f"{e.path}: {e.message}" for e in added[:5])
        raise EditRefused(
            f"the edited course would not ingest cleanly ({len(added)} new problem"
            f"{'' if len(added) == 1 else 's'}): {details}. Nothing was written; fix the "
            "replacement (or the edit) so the course stays consistent."
        )


def below(view: CourseView, block_id: str) -> set[NodeKey]:
    """The block (published and draft) and every block below it, drafts attached to them
    included: what deleting it may remove."""
    children = _node_children(view)
    seen: set[NodeKey] = set()
    stack: list[NodeKey] = [(False, block_id), (True, block_id)]
    while stack:
        node = stack.pop()
        if node not in seen:
            seen.add(node)
            stack.extend(children.get(node, ()))
    return seen


def settle(
    course: LoadedCourse,
    plan: FilePlan,
    orphans: str,
    review: Callable[[CourseView], bool] | None = None,
    command: str = "replace",
    removable: set[NodeKey] | None = None,
) -> Settled:
    """Apply the orphan policy to `plan` and check the course it gives. `review` sees the
    edited course first (it may refuse, or change `plan` and return True). With `removable`,
    the `delete` policy removes only those blocks and declines the edit if it would orphan
    others; `command` chooses the advice a refusal gives."""
    if orphans not in ORPHAN_POLICIES:
        raise EditRefused(f"orphans must be 'decline' or 'delete', not {orphans!r}.")
    texts = plan.apply(course.texts)
    after = course.resolve(texts)
    if review is not None and review(after):
        texts = plan.apply(course.texts)
        after = course.resolve(texts)
    lost = would_be_orphans(course.view, after)
    declined = [
        key
        for key in lost
        if orphans == "decline" or (removable is not None and key not in removable)
    ]
    if declined:
        raise OrphansDeclined(describe_orphans(course.view, declined), command)
    if lost:
        plan.removes |= _orphan_files(course, after, texts, lost) - set(plan.writes) - plan.keep
        after = course.resolve(plan.apply(course.texts))
    _check_clean(course.view, after)
    return Settled(plan, after, [key[1] for key in lost])


# ---------------------------------------------------------------------------------------------
# Pointers in parents' files: taking a child out, putting one in
# ---------------------------------------------------------------------------------------------


class _FileEdits:
    """Splices gathered per file, applied once at the end."""

    def __init__(self, course: LoadedCourse) -> None:
        self.course = course
        self.files: dict[str, XmlFile] = {}
        self.splices: dict[str, list[Splice]] = defaultdict(list)
        self.edited: dict[str, list[etree._Element]] = defaultdict(list)  # spliced inside

    def file(self, path: str) -> XmlFile:
        if path not in self.files:
            self.files[path] = XmlFile(path, self.course.texts[path])
        return self.files[path]

    def parent_element(self, parent: Row) -> tuple[XmlFile, etree._Element]:
        path = parent["xml_path"]
        if path not in self.course.texts:
            raise EditRefused(f"{parent['block_id']}'s file {path} is not in the archive.")
        xml_file = self.file(path)
        element = definition_element(xml_file, parent)
        if element is None:
            raise EditRefused(
                f"{parent['block_id']}'s definition was not found in {path}; the file may "
                "define it twice. Fix the file first."
            )
        return xml_file, element

    def splice_inside(self, xml_file: XmlFile, element: etree._Element, splice: Splice) -> None:
        """Add a splice inside `element` (which, with its ancestors, may need its id kept)."""
        self.splices[xml_file.path].append(splice)
        self.edited[xml_file.path].append(element)

    def written(self) -> dict[str, bytes]:
        """Each edited file's new bytes; a block whose id is a hash of its XML and whose XML
        changed gets that id written as its url_name (`keep_hashed_names`)."""
        return {
            path: apply_splices(
                self.files[path].data,
                splices + keep_hashed_names(self.files[path], self.edited[path]),
            )
            for path, splices in self.splices.items()
        }


def _unsplicable(path: str) -> EditRefused:
    return EditRefused(
        f"{path} cannot be edited byte-exactly (expat cannot read it, e.g. an encoding it "
        "does not know); re-save it as UTF-8 first."
    )


def _take_out(edits: _FileEdits, parent: Row, child: Row) -> list[tuple[XmlFile, etree._Element]]:
    """Remove the child's elements (pointer or inline) from the parent's definition."""
    xml_file, element = edits.parent_element(parent)
    found = occurrences(element, parent["block_type"], child["block_type"], child["url_name"])
    for occurrence in found:
        span = xml_file.span(occurrence)
        if span is None:
            raise _unsplicable(xml_file.path)
        start = whitespace_before(xml_file.data, span.start)
        edits.splice_inside(xml_file, element, Splice(start, span.end, b""))
    return [(xml_file, o) for o in found]


def _put_in(
    edits: _FileEdits, parent: Row, child: Row, position: int | None, skip: list[etree._Element]
) -> int:
    """Insert a pointer to the child among the parent's children; returns the position."""
    xml_file, element = edits.parent_element(parent)
    data = xml_file.data
    siblings = [
        s for s in block_children(element, parent["block_type"]) if not any(s is o for o in skip)
    ]
    index = len(siblings) if position is None else position
    if not 0 <= index <= len(siblings):
        raise EditRefused(
            f"position {position} is out of range: {parent['block_id']} will have "
            f"{len(siblings)} other children, so the position must be 0 to {len(siblings)}."
        )
    pointer = pointer_bytes(child["block_type"], child["url_name"], xml_file.encoding)
    spans = [xml_file.span(s) for s in siblings]
    parent_span = xml_file.span(element)
    if parent_span is None or any(s is None for s in spans):
        raise _unsplicable(xml_file.path)
    if index < len(siblings):
        anchor = spans[index]
        assert anchor is not None
        indent = data[whitespace_before(data, anchor.start) : anchor.start]
        splice = Splice(anchor.start, anchor.start, pointer + indent)
    elif spans:
        last = spans[-1]
        assert last is not None
        indent = data[whitespace_before(data, last.start) : last.start]
        splice = Splice(last.end, last.end, indent + pointer)
    elif parent_span.empty:
        name = _START_NAME.match(data, parent_span.start)
        assert name is not None
        close = b">" + pointer + b"</" + name.group(1) + b">"
        splice = Splice(parent_span.end - 2, parent_span.end, close)
    else:
        end_tag = data.rfind(b"</", parent_span.start, parent_span.end)
        splice = Splice(end_tag, end_tag, pointer)
    edits.splice_inside(xml_file, element, splice)
    return index


def _hoist(
    course: LoadedCourse, xml_file: XmlFile, element: etree._Element, child: Row
) -> tuple[str, bytes]:
    """An inline definition as the block's own file, bytes unchanged (its url_name stays
    on it, so its block_hash does too), under the source file's XML declaration."""
    path = block_file(child["block_type"], child["url_name"])
    unsafe = unsafe_name_message(child["block_id"], "url_name", child["url_name"], path)
    if unsafe is not None:
        raise EditRefused(f"{unsafe}, then move it.", block_id=child["block_id"])
    if path in course.texts:
        raise EditRefused(
            f"{child['block_id']} is inline in {xml_file.path}, and {path} already exists; "
            "remove or rename that file first."
        )
    span = xml_file.span(element)
    if span is None:
        raise _unsplicable(xml_file.path)
    declaration = xml_file.declaration()
    head = declaration + b"\n" if declaration else b""
    return path, head + xml_file.data[span.start : span.end] + b"\n"


def plan_move(course: LoadedCourse, block: Row, new_parent: Row, position: int | None) -> FilePlan:
    """Take the block out of its parent and point to it from `new_parent` (same level)."""
    view = course.view
    block_id = block["block_id"]
    parents = view.parents(block_id)
    if not parents:
        raise EditRefused(
            f"{block_id} has no parent (the course root or an orphan): nothing to move."
        )
    if len(parents) > 1:
        raise EditRefused(
            f"{block_id} is shared by {len(parents)} parents ({', '.join(parents)}); moving a "
            "shared block is ambiguous. Delete it from one parent's file by hand instead."
        )
    old_parent = find_block(view, parents[0], "parent")
    if new_parent["block_type"] != old_parent["block_type"]:
        raise EditRefused(
            f"{block_id} is under a {old_parent['block_type']}, and {new_parent['block_id']} "
            f"is a {new_parent['block_type']}: a move stays at the same level (a vertical under "
            "a sequential, a sequential under a chapter). Choose a "
            f"{old_parent['block_type']} as the new parent."
        )
    if new_parent["is_orphan"]:
        raise EditRefused(f"{new_parent['block_id']} is not in the course tree (an orphan).")
    if new_parent["block_id"] in view.subtree(block_id):
        raise EditRefused(f"{new_parent['block_id']} is inside {block_id}: that would be a cycle.")
    if new_parent["block_id"] != old_parent["block_id"] and block_id in view.children(
        new_parent["block_id"]
    ):
        raise EditRefused(f"{block_id} is already a child of {new_parent['block_id']}.")
    edits = _FileEdits(course)
    taken = _take_out(edits, old_parent, block)
    writes: dict[str, bytes] = {}
    for xml_file, element in taken:
        if not is_pointer(element):
            path, data = _hoist(course, xml_file, element, block)
            writes[path] = data
    _put_in(edits, new_parent, block, position, [e for _, e in taken])
    writes.update(edits.written())
    return FilePlan(writes)


def plan_delete(course: LoadedCourse, block: Row) -> FilePlan:
    """Take the block out of every parent; its files go with the orphan step."""
    view = course.view
    parents = view.parents(block["block_id"])
    if not parents:
        what = (
            "the course root"
            if block["parent_block_id"] is None and not block["is_orphan"]
            else "an orphan"
        )
        raise EditRefused(
            f"{block['block_id']} is {what}, not a block of the course tree; nothing to delete "
            "it from."
        )
    edits = _FileEdits(course)
    for parent_id in parents:
        _take_out(edits, find_block(view, parent_id, "parent"), block)
    return FilePlan(edits.written())
