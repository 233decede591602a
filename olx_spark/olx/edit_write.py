"""Write the edited archive: stream the old one through, swap the changed files, verify.

Memory follows the course's text, not its static files: the input archive is read again
member by member and every member the edit does not touch is copied straight into the new
`.tar.gz` (`tarfile.addfile` copies it in small chunks), so a static file is never held.
Untouched members keep their bytes (their names too; tar headers may be re-encoded). The new
archive is written to a temporary file beside `out`, parsed with `parse_course_archive`
(the ingest's own reader, so the reported `course_version` is what ingest will compute, by
construction) and only then renamed to `out`: a failure at any point leaves no `out` behind.
Static members are stored rather than deflated when they are media (deflating random bytes
costs ~30 ms/MiB for nothing), as `storage.segmented_gzip.SegmentedGzip` allows per member.
"""

from __future__ import annotations

import copy
import io
import os
import secrets
import tarfile
import time
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from olx_spark.olx.archive import MemberFile, SourceReadError
from olx_spark.olx.edit_model import EditRefused, FilePlan
from olx_spark.olx.edit_source import LoadedCourse, Member, MemberStream, Replacement
from olx_spark.olx.edit_xml import unsafe_path
from olx_spark.olx.model import Limits, ParsedArchive
from olx_spark.olx.parse import parse_course_archive
from olx_spark.storage.segmented_gzip import ARCHIVE_TEXT_LEVEL as TEXT_LEVEL
from olx_spark.storage.segmented_gzip import SegmentedGzip, member_level


@dataclass
class Written:
    """What the copy did: text files written (relative to the course), static files added,
    members not copied (links, devices, unsafe names: ingest skips them too)."""

    files_written: list[str] = field(default_factory=list)
    static_added: list[str] = field(default_factory=list)
    members_dropped: list[str] = field(default_factory=list)


class _Writer:
    def __init__(self, tar: tarfile.TarFile, gz: SegmentedGzip) -> None:
        self.tar = tar
        self.gz = gz

    def add_bytes(self, info: tarfile.TarInfo, data: bytes) -> None:
        self.gz.set_level(TEXT_LEVEL)
        self.tar.addfile(info, io.BytesIO(data))

    def add_stream(self, info: tarfile.TarInfo, stream: IO[bytes], path: str) -> None:
        self.gz.set_level(member_level(path, TEXT_LEVEL))
        self.tar.addfile(info, stream)


def _new_info(name: str, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mtime = int(time.time())
    info.mode = 0o644
    return info


def _changed_info(old: tarfile.TarInfo, size: int) -> tarfile.TarInfo:
    info = copy.copy(old)
    info.pax_headers = {k: v for k, v in old.pax_headers.items() if k not in ("size", "mtime")}
    info.size = size
    info.mtime = int(time.time())
    return info


def _copy_course(course: LoadedCourse, plan: FilePlan, writer: _Writer, done: Written) -> None:
    members = MemberStream(course.path)
    try:
        for member in members:
            _copy_member(course, plan, writer, done, member)
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, zlib.error, SourceReadError) as exc:
        raise EditRefused(
            f"{course.path} could not be read a second time ({exc}); nothing was written. "
            "Was it replaced or truncated during the edit? Run the edit again."
        ) from None
    if members.sha256() != course.sha256:
        raise EditRefused(
            f"{course.path} changed while it was being edited (its sha256 is not what was "
            "read first); nothing was written. Run the edit again."
        )


def _copy_member(
    course: LoadedCourse, plan: FilePlan, writer: _Writer, done: Written, member: Member
) -> None:
    if member.path is None or member.kind not in ("file", "dir"):
        done.members_dropped.append(member.info.name)
        return
    if member.kind == "dir":
        writer.tar.addfile(member.info)
        return
    prefix = course.prefix
    relative = member.path[len(prefix) :] if member.path.startswith(prefix) else None
    if relative is not None and relative in plan.removes:
        return
    if relative is not None and relative in plan.writes:
        data = plan.writes[relative]
        writer.add_bytes(_changed_info(member.info, len(data)), data)
        done.files_written.append(relative)
        return
    assert member.stream is not None
    writer.add_stream(member.info, member.stream, member.path)


def _add_new_texts(course: LoadedCourse, plan: FilePlan, writer: _Writer, done: Written) -> None:
    for relative in sorted(set(plan.writes) - set(done.files_written)):
        reason = unsafe_path(relative)
        if reason is not None:  # the edit's own checks name the block; this is the backstop
            raise EditRefused(
                f"the edit would create {relative!r}, which is not a safe relative path (it "
                f"{reason}); nothing was written."
            )
        data = plan.writes[relative]
        writer.add_bytes(_new_info(course.prefix + relative, len(data)), data)
        done.files_written.append(relative)


def _add_static(
    course: LoadedCourse,
    replacement: Replacement | None,
    static: list[MemberFile],
    writer: _Writer,
    done: Written,
) -> None:
    """Static files the replacement brings that the archive lacks, streamed from it."""
    if replacement is None or not static:
        return
    wanted = {replacement.prefix + f.path: f for f in static}
    for path, stream in _replacement_streams(replacement, set(wanted)):
        item = wanted[path]
        writer.add_stream(_new_info(course.prefix + item.path, item.size), stream, item.path)
        done.static_added.append(item.path)


def _replacement_streams(
    replacement: Replacement, paths: set[str]
) -> Iterator[tuple[str, IO[bytes]]]:
    if replacement.is_dir:
        for path in sorted(paths):
            with (replacement.source / path).open("rb") as stream:
                yield path, stream
        return
    for member in MemberStream(replacement.source):
        if member.path in paths and member.stream is not None:
            yield member.path, member.stream


@contextmanager
def _temporary_beside(out: Path) -> Iterator[Path]:
    """A temporary file name next to `out`, removed unless it was renamed."""
    temporary = out.with_name(f".{out.name}.{os.getpid()}.{secrets.token_hex(4)}.part")
    try:
        yield temporary
    finally:
        temporary.unlink(missing_ok=True)


def _parse_written(path: Path, name: str, limits: Limits) -> ParsedArchive:
    with path.open("rb") as stream:
        parsed = parse_course_archive(stream, name, limits)
    if parsed.rejection is not None:
        raise EditRefused(
            f"the edited archive would be rejected by ingest ({parsed.rejection.message}); "
            "nothing was written. This is a bug in olx-spark: please report it."
        )
    return parsed


def write_edited_archive(
    course: LoadedCourse,
    plan: FilePlan,
    out: Path,
    limits: Limits,
    expected_version: str,
    replacement: Replacement | None = None,
    static: list[MemberFile] | None = None,
) -> tuple[ParsedArchive, Written]:
    """Write the edited archive to `out` (atomically) and return it as ingest parses it."""
    done = Written()
    try:
        return _write(course, plan, out, limits, expected_version, replacement, static, done)
    except OSError as exc:
        raise EditRefused(f"writing {out} failed ({exc}); nothing was written.") from None


def _write(
    course: LoadedCourse,
    plan: FilePlan,
    out: Path,
    limits: Limits,
    expected_version: str,
    replacement: Replacement | None,
    static: list[MemberFile] | None,
    done: Written,
) -> tuple[ParsedArchive, Written]:
    with _temporary_beside(out) as temporary:
        with temporary.open("wb") as raw:
            gz = SegmentedGzip(raw, TEXT_LEVEL)
            with tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar:  # type: ignore[call-overload]
                writer = _Writer(tar, gz)
                _copy_course(course, plan, writer, done)
                _add_new_texts(course, plan, writer, done)
                _add_static(course, replacement, static or [], writer, done)
            gz.finish()
        parsed = _parse_written(temporary, out.name, limits)
        if parsed.course_version != expected_version:
            raise EditRefused(
                "the written archive does not parse to the planned course_version "
                f"({parsed.course_version} != {expected_version}); nothing was written. This "
                "is a bug in olx-spark: please report it with the archive."
            )
        os.replace(temporary, out)
    done.files_written.sort()
    return parsed, done
