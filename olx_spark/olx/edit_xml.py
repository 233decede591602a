"""Byte-exact edits of OLX files, and where each element of a file is.

An edit must leave every byte it does not mean to change as it was, and a refusal must say
where the problem is (file, line, column). lxml gives neither byte offsets nor columns (and an
element's `sourceline` is the line where its start tag *ends*), so a file an edit touches is
also scanned with expat, whose start events carry the byte offset of each `<`; both parsers
report the elements in the same document order, which pairs them up. Edits are then splices
of the original bytes. The OLX rules (which children are blocks, what a pointer is, where a
block's files are) come from `olx.elements` and `olx.identity`, so edits and ingest read a
course the same way. Two rules keep an edit from changing what it does not mean to: a
container whose id is a hash of its XML gets that id written as its url_name when the XML
inside it changes (`keep_hashed_names`), and a file written from a url_name or `filename`
must be a safe relative path (`unsafe_path`).
"""

from __future__ import annotations

import re
import xml.parsers.expat
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import quoteattr

from lxml import etree

from olx_spark.olx.archive import normalize_member_name
from olx_spark.olx.edit_model import EditRefused, Location
from olx_spark.olx.elements import CONTAINER_TYPES, course_field_elements, is_pointer
from olx_spark.olx.identity import block_file, derive_url_name, filename_file
from olx_spark.olx.xml_safety import XmlProblem, parse_xml

# A start tag: name, attributes (quoted values may hold '>'), then '>' or '/>'.
_START_TAG = re.compile(rb"""<[^\s/>]+(?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*\s*(/?)>""")
_TAG_NAME = re.compile(rb"<[^\s/>]+")
_DECLARATION = re.compile(rb"^(?:\xef\xbb\xbf)?<\?xml[^>]*\?>")
_SYNTAX_POSITION = re.compile(r"line (\d+), column (\d+)")


@dataclass(frozen=True)
class Span:
    """Where an element is in its file's bytes."""

    start: int  # the '<' of its start tag
    start_tag_end: int  # just after the start tag's '>'
    end: int  # just after the element (its end tag, or the start tag of `<x/>`)
    empty: bool  # written as `<x .../>`


@dataclass(frozen=True)
class Splice:
    """Replace `data[start:end]` with `text`."""

    start: int
    end: int
    text: bytes


def apply_splices(data: bytes, splices: list[Splice]) -> bytes:
    """`data` with every splice applied (positions refer to the original bytes)."""
    ordered = sorted(splices, key=lambda s: (s.start, s.end), reverse=True)
    limit = len(data)
    for splice in ordered:
        if splice.end > limit:
            raise ValueError("overlapping splices")
        data = data[: splice.start] + splice.text + data[splice.end :]
        limit = splice.start
    return data


def _expat_starts(data: bytes) -> list[tuple[int, int]] | None:
    """(start offset, end-event offset) of every element in document order; None if expat
    cannot read the file (then byte-exact edits of it are impossible)."""
    parser = xml.parsers.expat.ParserCreate()
    starts: list[int] = []
    ends: dict[int, int] = {}
    open_stack: list[int] = []

    def on_start(_name: str, _attributes: Any) -> None:
        open_stack.append(len(starts))
        starts.append(parser.CurrentByteIndex)

    def on_end(_name: str) -> None:
        ends[open_stack.pop()] = parser.CurrentByteIndex

    parser.StartElementHandler = on_start
    parser.EndElementHandler = on_end
    try:
        parser.Parse(data, True)
    except xml.parsers.expat.ExpatError:
        return None
    return [(start, ends[i]) for i, start in enumerate(starts)]


def _span(data: bytes, start: int, end_event: int) -> Span | None:
    tag = _START_TAG.match(data, start)
    if tag is None:
        return None
    empty = tag.group(1) == b"/"
    if empty:
        return Span(start, tag.end(), tag.end(), True)
    close = data.find(b">", end_event)
    return None if close < 0 else Span(start, tag.end(), close + 1, False)


class XmlFile:
    """One OLX file: its bytes, its lxml tree, and (on demand) each element's byte span."""

    def __init__(self, path: str, data: bytes) -> None:
        self.path = path
        self.data = data
        self.root = parse_xml(data, path)  # raises XmlProblem
        self.elements = [e for e in self.root.iter() if isinstance(e.tag, str)]
        self._spans: dict[int, Span] | None = None

    def _index(self) -> dict[int, Span]:
        if self._spans is None:
            self._spans = {}
            starts = _expat_starts(self.data)
            if starts is not None and len(starts) == len(self.elements):
                for element, (start, end_event) in zip(self.elements, starts, strict=True):
                    span = _span(self.data, start, end_event)
                    if span is not None:
                        self._spans[id(element)] = span
        return self._spans

    def span(self, element: etree._Element) -> Span | None:
        """The element's byte span, or None if the file cannot be edited byte-exactly."""
        return self._index().get(id(element))

    def location(self, element: etree._Element) -> Location:
        """Line and column (1-based, in characters) of the element's start tag."""
        span = self.span(element)
        if span is None:
            return Location(self.path, element.sourceline or 1, 1)
        line_start = self.data.rfind(b"\n", 0, span.start) + 1
        line = self.data.count(b"\n", 0, span.start) + 1
        column = len(self.data[line_start : span.start].decode("utf-8", "replace")) + 1
        return Location(self.path, line, column)

    def declaration(self) -> bytes:
        """The file's XML declaration (with a BOM if it has one), or b""."""
        match = _DECLARATION.match(self.data)
        return match.group(0) if match else b""

    @property
    def encoding(self) -> str:
        return self.root.getroottree().docinfo.encoding or "UTF-8"


def syntax_location(problem: XmlProblem, path: str) -> Location:
    """Line and column of a malformed file's first error (from lxml's exception)."""
    cause = problem.__context__
    position = getattr(cause, "position", None)
    if isinstance(position, tuple) and len(position) == 2:
        return Location(path, int(position[0]), int(position[1]))
    match = _SYNTAX_POSITION.search(str(problem))
    return (
        Location(path, int(match.group(1)), int(match.group(2))) if match else Location(path, 1, 1)
    )


def syntax_message(problem: XmlProblem) -> str:
    """What is wrong with a malformed file, as lxml says it (without its position suffix)."""
    cause = problem.__context__
    if isinstance(cause, etree.XMLSyntaxError):
        text = re.sub(r"\s*\(<string>, line \d+\)$", "", str(cause))
        return f"not well-formed XML: {text}"
    return problem.error.message


def element_url_name(element: etree._Element) -> str:
    return element.get("url_name") or derive_url_name(element)


def block_children(element: etree._Element, block_type: str) -> list[etree._Element]:
    """The child elements that are blocks (a container's children, bar the course's own
    fields); a leaf block's children are its own data."""
    if block_type not in CONTAINER_TYPES:
        return []
    own_data = course_field_elements(element) if block_type == "course" else []
    return [
        child
        for child in element
        if isinstance(child.tag, str) and not any(child is data for data in own_data)
    ]


def own_files(row: dict[str, Any], texts: dict[str, bytes]) -> set[str]:
    """The files a block row owns (its file, its `filename` file or html body) that exist."""
    base = "drafts/" if row["is_draft"] else ""
    paths = {block_file(row["block_type"], row["url_name"], base)}
    filename = (row.get("xml_attributes") or {}).get("filename")
    if filename:
        paths.add(filename_file(row["block_type"], filename, base))
    return {p for p in paths if p in texts}


def pointer_bytes(block_type: str, url_name: str, encoding: str) -> bytes:
    """`<{type} url_name=".."/>` in the file's encoding, escaped as XML needs."""
    return etree.tostring(
        etree.Element(block_type, url_name=url_name), encoding=encoding, xml_declaration=False
    )


def pointer_text(block_type: str, url_name: str) -> str:
    """`<{type} url_name=".."/>` as text (for messages)."""
    return etree.tostring(etree.Element(block_type, url_name=url_name), encoding="unicode")


def definition_element(xml_file: XmlFile, row: dict[str, Any]) -> etree._Element | None:
    """The element that defines the block `row` in `xml_file` (its root when the file is
    the block's own, else the first inline definition with its url_name)."""
    block_type, url_name = row["block_type"], row["url_name"]
    base = "drafts/" if row["is_draft"] else ""
    filename = (row.get("xml_attributes") or {}).get("filename")
    if xml_file.path == block_file(block_type, url_name, base) or (
        filename
        and block_type != "html"
        and xml_file.path == filename_file(block_type, filename, base)
    ):
        return xml_file.root
    for element in xml_file.elements:
        if (
            element.tag == block_type
            and not is_pointer(element)
            and element_url_name(element) == url_name
        ):
            return element
    return None


def occurrences(
    parent: etree._Element, parent_type: str, child_type: str, child_url_name: str
) -> list[etree._Element]:
    """The elements under `parent` that stand for the child block (pointer or inline)."""
    return [
        child
        for child in block_children(parent, parent_type)
        if child.tag == child_type and element_url_name(child) == child_url_name
    ]


def hashed_name(element: etree._Element) -> str | None:
    """The url_name `derive_url_name` gives the element when it comes from a hash of the
    element's XML (no url_name, slug, name or display_name), else None: only such an id
    changes when the XML inside the element does."""
    if any(element.get(attribute) for attribute in ("url_name", "slug", "name", "display_name")):
        return None
    return derive_url_name(element)


def keep_hashed_names(xml_file: XmlFile, edited: Iterable[etree._Element]) -> list[Splice]:
    """Splices that keep the ids of the blocks an edit changes the XML of.

    An edit inside an element (`edited`: the elements whose content it splices) changes that
    element's XML and every ancestor's; each of them whose id is a hash of its XML
    (`hashed_name`) would get a new id. The splices write that id into its start tag as
    `url_name="..."`, so it keeps it (its block_hash changes: url_name is one of its settings).
    A file's root is named by the pointer to the file, not by its XML, bar the course written
    inline in course.xml (its run is derived the same way). Refuses when the attribute cannot
    be written byte-exactly."""
    named: dict[int, tuple[etree._Element, str]] = {}
    for element in edited:
        node: etree._Element | None = element
        while node is not None and (node is not xml_file.root or xml_file.path == "course.xml"):
            name = hashed_name(node)
            if name is not None:
                named[id(node)] = (node, name)
            node = node.getparent()
    splices = []
    for node, name in named.values():
        span = xml_file.span(node)
        encoded = _ascii_text(f" url_name={quoteattr(name)}", xml_file.encoding)
        tag = _TAG_NAME.match(xml_file.data, span.start) if span is not None else None
        if tag is None or encoded is None or node.get("url_name") is not None:
            location = xml_file.location(node)
            raise EditRefused(
                f"{location}: this <{node.tag}> has no url_name, so its id ({name}) is derived "
                "from its XML, which this edit changes, and the url_name cannot be written into "
                f'the file byte-exactly. Give it url_name="{name}" in {xml_file.path} first '
                "(that keeps its id), then edit again.",
                location,
            )
        splices.append(Splice(tag.end(), tag.end(), encoded))
    return splices


def _ascii_text(text: str, encoding: str) -> bytes | None:
    """ASCII `text` in a file's encoding, if that encoding writes ASCII as ASCII."""
    try:
        encoded = text.encode(encoding)
    except (LookupError, UnicodeError):
        return None
    return encoded if encoded == text.encode("ascii", "replace") else None


def unsafe_path(path: str) -> str | None:
    """Why `path` (a course-relative file an edit would write) is not a plain relative path
    that reads back as itself (absolute, a `..`, an empty or `.` part), or None if it is."""
    normalized, unsafe = normalize_member_name(path)
    if unsafe is not None:
        return unsafe
    if normalized != path:
        return "has an empty or '.' path component"
    return None


def unsafe_name_message(block_id: str, attribute: str, value: str, path: str) -> str | None:
    """The refusal for a block whose url_name (or filename) gives an unsafe file path."""
    reason = unsafe_path(path)
    if reason is None:
        return None
    return (
        f"{block_id} has {attribute} {value!r}, so its file would be {path!r}, which is not a "
        f"safe relative path (it {reason}); an edit writes files only inside the course. "
        f"Give the block a plain {attribute} (letters, digits, '_', '-', '.') first"
    )


def whitespace_before(data: bytes, position: int) -> int:
    """The start of the run of blanks (spaces, tabs, newlines) that ends at `position`."""
    start = position
    while start > 0 and data[start - 1 : start] in (b" ", b"\t", b"\n", b"\r"):
        start -= 1
    return start
