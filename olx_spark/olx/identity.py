"""Who a course is and how its blocks are named: course and usage keys, url_names.

The identity comes from `course.xml` (or `library.xml`); every block id is spelled from it
(`block-v1:{org}+{course}+{run}+type@{type}+block@{url_name}`, `lib-block-v1:` in a library).
Blocks without a url_name get one derived the way edx-platform derives it.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from lxml import etree

_URL_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9_.~-]")
_BLOCK_V1_KEY = re.compile(r"type@([^+]+)\+block@(.+)$")


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


def block_file(block_type: str, url_name: str, base: str = "") -> str:
    """Where a pointer `<{block_type} url_name="{url_name}"/>` is defined: `{base}{type}/
    {url_name}.xml`, a `:` in the url_name being a subfolder (`base` is "" or "drafts/")."""
    return f"{base}{block_type}/{url_name_path(url_name)}.xml"


def filename_file(block_type: str, filename: str, base: str = "") -> str:
    """The file a `filename` attribute names: an html block's body `html/{filename}.html`, or
    another block's definition file `{type}/{filename}.xml`."""
    if block_type == "html":
        name = filename if filename.endswith(".html") else f"{filename}.html"
        return f"{base}html/{url_name_path(name)}"
    return block_file(block_type, filename, base)


def url_name_path(url_name: str) -> str:
    return url_name.replace(":", "/")


def parse_usage_reference(reference: str) -> tuple[str, str] | None:
    """(block_type, url_name) from an `i4x://org/course/type/name` or `block-v1:` key."""
    if reference.startswith("i4x://"):
        parts = reference[len("i4x://") :].split("/")
        if len(parts) >= 4:
            return parts[2], parts[3].split("@")[0]
        return None
    match = _BLOCK_V1_KEY.search(reference)
    return (match.group(1), match.group(2)) if match else None
