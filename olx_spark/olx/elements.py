"""What an OLX element is: a container or a leaf, a pointer or a definition, a block or a
field of the course. The structural vocabulary of specs/olx.md, shared by the parser, the
exporter and the editor."""

from __future__ import annotations

import json
from typing import Any

from lxml import etree

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


def course_field_elements(course: etree._Element) -> list[etree._Element]:
    """The children of <course> that are the course's own fields, not blocks: every
    <textbook> and the first <wiki>, as edx-platform's CourseBlock reads them (it takes them out
    before it looks for child blocks; any other child, a second <wiki> too, is a block). They
    stay in the course's own XML."""
    wiki = course.find("wiki")
    return [*course.findall("textbook"), *([] if wiki is None else [wiki])]


def course_fields(course: etree._Element) -> dict[str, str]:
    """The course's `wiki_slug` and `textbooks` settings from its <wiki slug> and <textbook>
    children (only those present; `textbooks` is JSON text of `[title, book_url]` pairs, the
    form edx-platform stores and a policy file gives)."""
    fields: dict[str, str] = {}
    wiki = course.find("wiki")
    if wiki is not None and wiki.get("slug") is not None:
        fields["wiki_slug"] = str(wiki.get("slug"))
    textbooks = [[book.get("title"), book.get("book_url")] for book in course.findall("textbook")]
    if textbooks:
        fields["textbooks"] = json_text(textbooks)
    return fields


def is_pointer(element: etree._Element) -> bool:
    """No child elements, no text, no attribute but url_name: the definition is elsewhere."""
    return (
        len(element) == 0
        and not (element.text or "").strip()
        and list(element.attrib) == ["url_name"]
    )


def inner_markup(element: etree._Element) -> str:
    return (element.text or "") + "".join(
        etree.tostring(child, encoding="unicode") for child in element
    )


def json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def setting_text(value: Any) -> str:
    """Policy value as a setting: a JSON string becomes the plain string, else its JSON text."""
    return value if isinstance(value, str) else json_text(value)
