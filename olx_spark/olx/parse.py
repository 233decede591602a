"""The one entry point the Spark layer calls: archive bytes in, `ParsedArchive` out.

It reads the stream exactly once (hashing and counting every byte on the way), never raises
for bad input (a whole-archive failure becomes `ParsedArchive.rejection`, a bad part of a
course an entry in `errors`), and always reports the archive's sha256 and size, draining the
rest of the stream after a rejection so the hash covers all of it.
"""

from __future__ import annotations

import logging
from typing import BinaryIO

from olx_spark.olx.archive import HashingReader, SourceReadError, locate_course, read_archive
from olx_spark.olx.course import resolve_course
from olx_spark.olx.model import ArchiveError, ArchiveRejected, Limits, ParsedArchive

log = logging.getLogger(__name__)


def parse_course_archive(
    stream: BinaryIO,
    name: str,
    limits: Limits = Limits(),  # noqa: B008 (frozen dataclass: a shared default is safe)
) -> ParsedArchive:
    """Parse one course export archive (`.tar.gz`, `.tgz`, `.tar` or `.zip`) into rows.

    `stream` need not be seekable; `name` is the archive's file name (for messages and the
    default course code). Only a failure to read `stream` itself is raised (as
    `SourceReadError`): the archive is not at fault then, and reading it again may work.
    """
    reader = HashingReader(stream)
    errors: list[ArchiveError] = []
    try:
        contents = read_archive(reader, name, limits, errors)
        course = resolve_course(locate_course(contents, name), errors)
    except ArchiveRejected as rejected:
        return _rejected(reader, rejected.error, errors)
    except SourceReadError:
        raise
    except Exception as exc:  # a parser bug must not fail the run: reject, and say so
        log.exception("unexpected error while parsing %s", name)
        error = ArchiveError(
            None,
            "parser_error",
            f"unexpected {type(exc).__name__} while parsing {name}: {exc}. "
            "This is a bug in olx-spark; please report it with the archive if you can.",
        )
        return _rejected(reader, error, errors)
    reader.drain()
    identity = course.identity
    return ParsedArchive(
        archive_sha256=reader.hexdigest(),
        archive_size_bytes=reader.size,
        course_id=identity.course_id,
        org=identity.org,
        course=identity.course,
        run=identity.run,
        course_version=course.course_version,
        errors=errors,
        rows=course.rows,
    )


def _rejected(
    reader: HashingReader, rejection: ArchiveError, errors: list[ArchiveError]
) -> ParsedArchive:
    reader.drain()
    return ParsedArchive(
        archive_sha256=reader.hexdigest(),
        archive_size_bytes=reader.size,
        errors=errors,
        rejection=rejection,
    )
