"""The inputs of an offline edit: the course archive, its resolved blocks, the replacement.

An edit reads its archive with exactly the reader ingest uses (`archive.read_archive`: the
same limits, bomb checks, unsafe-member rules), keeping only the text members (the OLX) in
memory, and resolves it with `course.resolve_course`, so "the block", "its parent" and
`course_version` mean what ingest says they mean. Static files are only fingerprinted here;
`iter_members` streams them again, member by member, when the new archive is written: with
`tarfile`, which gives every header field (mode, times, owners) the copy keeps, where ingest's
reader (`tar_stream`) keeps only names and sizes. The two list exporters' tars alike
(tests/unit/test_tar_stream.py); a sparse member, which ingest skips, is copied as it is. A
replacement (a folder or an archive in the subtree-export layout) goes through the same
admission rules (`archive.MemberCollector` for a folder, `read_archive` for an archive).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import posixpath
import stat
import tarfile
import zipfile
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from olx_spark.olx.archive import (
    ZIP_MAGICS,
    ArchiveContents,
    CourseFiles,
    HashingReader,
    MemberCollector,
    MemberFile,
    SourceReadError,
    is_static_path,
    locate_course,
    normalize_member_name,
    read_archive,
    tar_member_kind,
    zip_member_kind,
)
from olx_spark.olx.course import resolve_course
from olx_spark.olx.edit_model import EditRefused
from olx_spark.olx.export import MANIFEST, SUBTREE_FORMAT
from olx_spark.olx.identity import CourseIdentity
from olx_spark.olx.model import ArchiveError, ArchiveRejected, Limits

Row = dict[str, Any]
NodeKey = tuple[bool, str]


@dataclass
class CourseView:
    """One resolution of a course's text files: blocks by (is_draft, block_id), edges,
    the problems found, and the published version."""

    identity: CourseIdentity
    blocks: dict[NodeKey, Row]
    edges: list[Row]
    errors: list[ArchiveError]
    course_version: str
    _children: dict[str, list[str]] = field(default_factory=dict)
    _parents: dict[str, list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        published = sorted(
            (e for e in self.edges if not e["is_draft"]),
            key=lambda e: -1 if e["position"] is None else e["position"],
        )
        for edge in published:
            self._children.setdefault(edge["parent_block_id"], []).append(edge["child_block_id"])
        for edge in self.edges:
            if not edge["is_draft"]:
                parents = self._parents.setdefault(edge["child_block_id"], [])
                if edge["parent_block_id"] not in parents:
                    parents.append(edge["parent_block_id"])

    @classmethod
    def resolve(cls, files: CourseFiles) -> CourseView:
        errors: list[ArchiveError] = []
        try:
            resolved = resolve_course(files, errors)
        except ArchiveRejected as rejected:
            raise EditRefused(
                f"the course cannot be read: {rejected.error.message}", block_id=None
            ) from None
        blocks = {(row["is_draft"], row["block_id"]): row for row in resolved.rows["blocks"]}
        return cls(
            resolved.identity, blocks, resolved.rows["edges"], errors, resolved.course_version
        )

    def published(self, block_id: str) -> Row | None:
        return self.blocks.get((False, block_id))

    def children(self, block_id: str) -> list[str]:
        """Published children in position order."""
        return self._children.get(block_id, [])

    def parents(self, block_id: str) -> list[str]:
        """Published parents, first (the row's `parent_block_id`) first."""
        return self._parents.get(block_id, [])

    def subtree(self, block_id: str) -> list[str]:
        """The block and every block below it in the published tree, depth first."""
        seen: set[str] = set()
        order: list[str] = []
        stack = [block_id]
        while stack:
            node = stack.pop()
            if node in seen:
                continue
            seen.add(node)
            order.append(node)
            stack.extend(reversed(self.children(node)))
        return order


@dataclass
class LoadedCourse:
    """A course archive as an edit sees it: where it is, its bytes' hash, the folder its
    course sits in, its text files and its resolution."""

    path: Path
    sha256: str
    is_zip: bool
    prefix: str  # "" or "folder/": where course.xml is inside the archive
    files: CourseFiles
    view: CourseView
    read_errors: list[ArchiveError]

    @property
    def texts(self) -> dict[str, bytes]:
        return self.files.texts

    def resolve(self, texts: dict[str, bytes]) -> CourseView:
        """Resolve other text files as this course (same root file, folder and static)."""
        files = CourseFiles(
            self.files.root_file, self.files.folder_name, texts, self.files.static_files
        )
        return CourseView.resolve(files)


def _course_prefix(contents: ArchiveContents, files: CourseFiles) -> str:
    """The folder `locate_course` chose (it returns paths relative to it, not the folder)."""
    roots = sorted(
        (
            p
            for p in contents.texts
            if posixpath.basename(p) == files.root_file and not is_static_path(p)
        ),
        key=lambda p: (p.count("/"), p),
    )
    folder = posixpath.dirname(roots[0])
    return f"{folder}/" if folder else ""


def _open_input(path: Path, what: str) -> IO[bytes]:
    try:
        return path.open("rb")
    except FileNotFoundError:
        raise EditRefused(f"{what} {path} does not exist; check the path.") from None
    except IsADirectoryError:
        raise EditRefused(
            f"{what} {path} is a folder; give the course export archive (.tar.gz, .tgz, .tar "
            "or .zip) itself."
        ) from None
    except OSError as exc:
        raise EditRefused(f"{what} {path} cannot be read: {exc}.") from None


def load_course(path: Path, limits: Limits) -> LoadedCourse:
    """Read the archive once, with ingest's checks, and resolve its course."""
    errors: list[ArchiveError] = []
    with _open_input(path, "archive") as stream:
        reader = HashingReader(stream)
        is_zip = reader.peek(4).startswith(ZIP_MAGICS)
        try:
            contents = read_archive(reader, path.name, limits, errors)
            files = locate_course(contents, path.name)
        except ArchiveRejected as rejected:
            raise EditRefused(
                f"{path} cannot be edited: {rejected.error.message} (the same checks as "
                "`olx-spark ingest course-archives` apply)."
            ) from None
        except SourceReadError as exc:
            raise EditRefused(f"{path} cannot be read: {exc}.") from None
        reader.drain()
    view = CourseView.resolve(files)
    prefix = _course_prefix(contents, files)
    return LoadedCourse(path, reader.hexdigest(), is_zip, prefix, files, view, errors)


# ---------------------------------------------------------------------------------------------
# The replacement: a folder or an archive in the subtree-export layout
# ---------------------------------------------------------------------------------------------


@dataclass
class Replacement:
    """A subtree export: its text files and static files (paths relative to its root
    folder), and its manifest if it has one."""

    source: Path
    prefix: str  # "" or "folder/" inside `source`
    texts: dict[str, bytes]
    static: list[MemberFile]
    others: list[str]  # files that are neither text nor static (not part of a subtree)
    manifest: dict[str, Any] | None

    @property
    def is_dir(self) -> bool:
        return self.source.is_dir()


def _dir_kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "link"
    if stat.S_ISDIR(mode):
        return "dir"
    return "file" if stat.S_ISREG(mode) else "device"


def _collect_dir(root: Path, limits: Limits, errors: list[ArchiveError]) -> ArchiveContents:
    """A folder's files through the archive reader's admission rules (limits, no links)."""
    collector = MemberCollector(limits, errors)
    for folder, dirs, names in os.walk(root, followlinks=False):
        dirs.sort()
        for name in sorted(names) + [d for d in dirs if os.path.islink(os.path.join(folder, d))]:
            full = os.path.join(folder, name)
            info = os.lstat(full)
            relative = Path(full).relative_to(root).as_posix()
            path = collector.admit(relative, _dir_kind(info.st_mode), info.st_size)
            if path is not None and _dir_kind(info.st_mode) == "file":
                with open(full, "rb") as member:
                    collector.take(path, member)
    return collector.contents


def _collect_archive(path: Path, limits: Limits, errors: list[ArchiveError]) -> ArchiveContents:
    with _open_input(path, "replacement") as stream:
        try:
            return read_archive(HashingReader(stream), path.name, limits, errors)
        except SourceReadError as exc:
            raise EditRefused(f"the replacement {path} cannot be read: {exc}.") from None
        except ArchiveRejected as rejected:
            raise EditRefused(
                f"the replacement {path} cannot be read: {rejected.error.message} Give a "
                "subtree export: a folder, or a .tar.gz of one."
            ) from None


def _replacement_prefix(contents: ArchiveContents, root_file: str) -> str:
    """ "" if the layout is at the top, "folder/" if everything sits in one folder."""
    paths = [f.path for f in contents.files]
    if root_file in contents.texts or MANIFEST in contents.texts or not paths:
        return ""
    tops = {p.split("/", 1)[0] for p in paths}
    if len(tops) == 1 and all("/" in p for p in paths):
        return f"{tops.pop()}/"
    return ""


def _manifest(texts: dict[str, bytes], source: Path) -> dict[str, Any] | None:
    data = texts.pop(MANIFEST, None)
    if data is None:
        return None
    try:
        manifest = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise EditRefused(f"{source}: {MANIFEST} is not valid JSON ({exc}).") from None
    if not isinstance(manifest, dict):
        raise EditRefused(f"{source}: {MANIFEST} must hold a JSON object.")
    if manifest.get("format", SUBTREE_FORMAT) != SUBTREE_FORMAT:
        raise EditRefused(
            f"{source}: {MANIFEST} says format {manifest.get('format')!r}; this version of "
            f"olx-spark reads {SUBTREE_FORMAT!r} subtree exports."
        )
    return manifest


def load_replacement(path: Path, root_file: str, limits: Limits) -> Replacement:
    """Read a replacement folder or archive; `root_file` is the replaced block's file (how a
    tar with one top-level folder is recognised)."""
    errors: list[ArchiveError] = []
    if path.is_dir():
        contents = _collect_dir(path, limits, errors)
    elif path.exists():
        contents = _collect_archive(path, limits, errors)
    else:
        raise EditRefused(f"the replacement {path} does not exist; give a folder or a .tar.gz.")
    if errors:
        details = "; ".join(f"{e.path}: {e.message}" for e in errors)
        raise EditRefused(f"the replacement {path} was refused: {details}")
    prefix = _replacement_prefix(contents, root_file)
    texts = {p[len(prefix) :]: b for p, b in contents.texts.items() if p.startswith(prefix)}
    relative = [
        MemberFile(f.path[len(prefix) :], f.size, f.sha256)
        for f in contents.files
        if f.path.startswith(prefix)
    ]
    static = [f for f in relative if f.path.split("/")[0] in ("static", "static_import")]
    others = [f.path for f in relative if f.path not in texts and f not in static]
    others += [f.path for f in contents.files if not f.path.startswith(prefix)]
    manifest = _manifest(texts, path)
    return Replacement(path, prefix, texts, static, sorted(others), manifest)


# ---------------------------------------------------------------------------------------------
# Streaming the members of an archive (for the copy into the new archive)
# ---------------------------------------------------------------------------------------------


@dataclass
class Member:
    """One member of an input archive, as met while streaming it. `stream` is readable
    only until the next member is taken."""

    info: tarfile.TarInfo
    path: str | None  # normalized path; None for an unsafe member (not copied)
    kind: str  # file, dir, link, device, other
    stream: IO[bytes] | None


def _tar_members(reader: HashingReader) -> Iterator[Member]:
    with tarfile.open(
        fileobj=reader,  # type: ignore[arg-type]
        mode="r|*",
        encoding="utf-8",
        errors="replace",
    ) as tar:
        while (info := tar.next()) is not None:
            tar.members.clear()
            kind = tar_member_kind(info)
            path, unsafe = normalize_member_name(info.name)
            stream = tar.extractfile(info) if kind == "file" else None
            yield Member(info, None if unsafe else path, kind, stream)


def _zip_members(archive: zipfile.ZipFile) -> Iterator[Member]:
    for entry in archive.infolist():
        kind = zip_member_kind(entry)
        path, unsafe = normalize_member_name(entry.filename)
        info = tarfile.TarInfo(entry.filename.rstrip("/") if kind == "dir" else entry.filename)
        info.type = tarfile.DIRTYPE if kind == "dir" else tarfile.REGTYPE
        info.size = entry.file_size if kind == "file" else 0
        info.mode = (entry.external_attr >> 16) & 0o7777 or (0o755 if kind == "dir" else 0o644)
        info.mtime = int(_zip_mtime(entry))
        if kind != "file" or unsafe:
            yield Member(info, None if unsafe else path, kind, None)
            continue
        with archive.open(entry) as stream:
            yield Member(info, path, kind, stream)


def _zip_mtime(entry: zipfile.ZipInfo) -> float:
    try:
        return dt.datetime(*entry.date_time, tzinfo=dt.UTC).timestamp()
    except ValueError:
        return 0.0


@dataclass
class MemberStream:
    """Iterates an archive's members once; `sha256()` afterwards is the hash of its bytes."""

    path: Path
    _reader: HashingReader | None = None

    def __iter__(self) -> Iterator[Member]:
        with ExitStack() as stack:
            stream = stack.enter_context(_open_input(self.path, "archive"))
            reader = HashingReader(stream)
            self._reader = reader
            if reader.peek(4).startswith(ZIP_MAGICS):
                archive = stack.enter_context(zipfile.ZipFile(self.path))
                yield from _zip_members(archive)
            else:
                yield from _tar_members(reader)
            reader.drain()

    def sha256(self) -> str | None:
        return self._reader.hexdigest() if self._reader is not None else None
