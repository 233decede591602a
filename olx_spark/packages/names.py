"""What a data package file is, from its name alone: package date and org, member kind, table,
course and site.

Names are parsed from the right, because table names never contain `-` while course codes may:
`{org}-{course}-{run}-{table}-{site}-analytics.sql`. The org is taken from the package name
(case-insensitively) when the member starts with it, else from the first `-` token; the run is
the last token before the table, the course is what is between. Nothing here lists known tables:
any table name found is loaded.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from datetime import date

GPG_SUFFIX = ".gpg"

KIND_TABLE = "table"  # a `.sql` TSV dump (core tables and ora/ tables alike)
KIND_EMAIL_OPT_IN = "email_opt_in"
KIND_COURSE_STRUCTURE = "course_structure"
KIND_FORUM = "forum"
KIND_COURSE_XML = "course_xml"
KIND_UNKNOWN = "unknown"
KIND_PACKAGE = "package"  # the ledger row of a package itself
MEMBER_KINDS = (
    KIND_TABLE,
    KIND_EMAIL_OPT_IN,
    KIND_COURSE_STRUCTURE,
    KIND_FORUM,
    KIND_COURSE_XML,
    KIND_UNKNOWN,
)

_PACKAGE = re.compile(r"^(?P<org>[^/]+?)-(?P<date>\d{4}-\d{2}-\d{2})(?:\.zip)?$", re.IGNORECASE)
_SITE = r"(?P<site>[A-Za-z0-9]+)"
_TABLE = re.compile(rf"^(?P<prefix>.+)-(?P<table>[A-Za-z0-9_]+)-{_SITE}-analytics\.sql$")
_STRUCTURE = re.compile(rf"^(?P<prefix>.+)-course_structure-{_SITE}-analytics\.json$")
_EMAIL = re.compile(rf"^(?P<prefix>.+)-email_opt_in-{_SITE}-analytics\.csv$")
_COURSE_XML = re.compile(rf"^(?P<prefix>.+)-course-{_SITE}\.xml\.tar\.gz$")
_FORUM = re.compile(rf"^(?P<prefix>.+)-{_SITE}\.mongo$")
_TABLE_NAME_SAFE = re.compile(r"[^a-z0-9_]+")


@dataclass(frozen=True)
class PackageName:
    org: str
    package_date: date


def parse_package_name(name: str) -> PackageName | None:
    """`mitx-2024-01-07.zip` (or a folder `mitx-2024-01-07`) -> org and date; None otherwise."""
    match = _PACKAGE.match(posixpath.basename(name.rstrip("/")))
    if not match:
        return None
    try:
        day = date.fromisoformat(match["date"])
    except ValueError:
        return None
    return PackageName(match["org"], day)


def package_of_path(path: str) -> tuple[str, PackageName] | None:
    """The nearest folder of `path` (a loose, already unzipped file) named like a package:
    (that folder's path, its parsed name), or None if no folder is."""
    folder = posixpath.dirname(path.rstrip("/"))
    while folder and folder != "/":
        parsed = parse_package_name(posixpath.basename(folder))
        if parsed is not None:
            return folder, parsed
        parent = posixpath.dirname(folder)
        if parent == folder:
            break
        folder = parent
    return None


@dataclass(frozen=True)
class MemberName:
    """Everything a member's file name says."""

    path: str  # as in the package (or relative to the package folder)
    kind: str
    encrypted: bool
    table: str | None = None  # dump table name (KIND_TABLE), "email_opt_in" for the CSV
    site: str | None = None  # prod / edge: the rows' source_system
    org: str | None = None
    course: str | None = None
    run: str | None = None

    @property
    def plain_name(self) -> str:
        base = posixpath.basename(self.path)
        return base[: -len(GPG_SUFFIX)] if self.encrypted else base

    @property
    def course_id(self) -> str | None:
        """The course id the name implies, in the current `course-v1:` form; whether a course
        uses the older `{org}/{course}/{run}` form is only known from the content."""
        return course_v1_id(self.org, self.course, self.run)


def course_v1_id(org: str | None, course: str | None, run: str | None) -> str | None:
    if not (org and course and run):
        return None
    return f"course-v1:{org}+{course}+{run}"


def slash_course_id(org: str | None, course: str | None, run: str | None) -> str | None:
    if not (org and course and run):
        return None
    return f"{org}/{course}/{run}"


def split_course_prefix(prefix: str, org: str | None) -> tuple[str | None, str | None, str | None]:
    """`{org}-{course}-{run}` -> (org, course, run), using the package's org when it matches."""
    if org and prefix.lower().startswith(org.lower() + "-"):
        found_org, rest = prefix[: len(org)], prefix[len(org) + 1 :]
    else:
        found_org, _, rest = prefix.partition("-")
    if not rest:
        return found_org or None, None, None
    course, sep, run = rest.rpartition("-")
    if not sep:
        return found_org or None, rest, None
    return found_org or None, course or None, run or None


def safe_table_name(table: str) -> str:
    """A dump's table name as it may appear in a Spark table name (lower case, `[a-z0-9_]`)."""
    return _TABLE_NAME_SAFE.sub("_", table.lower()).strip("_") or "unnamed"


def parse_member_name(path: str, org: str | None) -> MemberName:
    """Classify one member of a package by its path; `org` is the package's org (if known)."""
    base = posixpath.basename(path)
    encrypted = base.lower().endswith(GPG_SUFFIX)
    plain = base[: -len(GPG_SUFFIX)] if encrypted else base
    for kind, pattern in (
        (KIND_COURSE_STRUCTURE, _STRUCTURE),
        (KIND_EMAIL_OPT_IN, _EMAIL),
        (KIND_TABLE, _TABLE),
        (KIND_COURSE_XML, _COURSE_XML),
        (KIND_FORUM, _FORUM),
    ):
        match = pattern.match(plain)
        if not match:
            continue
        site = match["site"]
        if kind == KIND_EMAIL_OPT_IN:
            return MemberName(
                path, kind, encrypted, "email_opt_in", site, match["prefix"] or org, None, None
            )
        m_org, course, run = split_course_prefix(match["prefix"], org)
        table = safe_table_name(match["table"]) if kind == KIND_TABLE else None
        return MemberName(path, kind, encrypted, table, site, m_org, course, run)
    return MemberName(path, KIND_UNKNOWN, encrypted)
