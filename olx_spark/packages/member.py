"""Read one data package file end to end, on an executor: open, decrypt, decode, emit batches.

A file is a zip member (read from its byte range of the package) or a loose file of an unzipped
package. It is decrypted as it streams if it is a `.gpg`, metered (size limits, sha256 of the
plaintext) and handed to the reader for its kind. Batches go out as they are made, in the staging
layout (`olx_spark.packages.staging`); the file's ledger row comes last and says whether
everything before it counts: a file that fails anywhere, even at its very end (gpg reports a
corrupt file there), is `rejected` and the Spark job writes none of its rows. Nothing here raises
for a bad file: every failure becomes a status and a reason.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, BinaryIO

import pyarrow as pa

from olx_spark.config import S3Config
from olx_spark.olx.archive import SourceReadError
from olx_spark.olx.arrow import ArchiveSource, parsed_to_batches
from olx_spark.olx.model import Limits
from olx_spark.packages import names
from olx_spark.packages.course_structure import CourseStructureError, parse_course_structure
from olx_spark.packages.email_opt_in import read_csv
from olx_spark.packages.forum import ForumDocumentError, parse_forum_line
from olx_spark.packages.gpg import DecryptError, GpgSettings, open_decrypted
from olx_spark.packages.lines import LineTooLong, line_chunks, read_header
from olx_spark.packages.staging import (
    KIND_FORUM,
    KIND_STRUCTURE,
    bad_lines_batch,
    course_batch,
    csv_batch,
    file_batch,
    lines_batch,
    struct_rows_batch,
)
from olx_spark.packages.tables import (
    BAD_LINES_TABLE,
    PARSER_VERSION,
    STATUS_LOADED,
    STATUS_REJECTED,
    STATUS_UNCHANGED,
    target_table,
)
from olx_spark.packages.tsv import decode_line, parse_header
from olx_spark.packages.zipmembers import ZipMember, ZipMemberError, open_member
from olx_spark.storage.ranges import open_range
from olx_spark.storage.reading import open_uri

log = logging.getLogger(__name__)

DRAIN_BYTES = 1024 * 1024
STRUCT_ROWS_PER_BATCH = 5000
CSV_ROWS_PER_BATCH = 50_000

Row = dict[str, Any]


@dataclass(frozen=True)
class MemberTask:
    """One file to read: where it is, and which package it belongs to."""

    file_uri: str  # `{package}!/{member}` for a zip member, else the file's own URI
    source_uri: str  # the object to read: the package zip, or the loose file
    source_size_bytes: int
    source_modified_at: datetime | None
    package_uri: str
    package_date: date | None
    org: str | None
    member_path: str
    # Where the member's bytes are inside the zip (None for a loose file).
    header_offset: int | None = None
    compress_size: int | None = None
    file_size: int | None = None
    compress_type: int | None = None
    crc: int | None = None
    flag_bits: int | None = None

    @property
    def stored_size(self) -> int:
        """Bytes read from storage for this file."""
        return self.compress_size if self.compress_size is not None else self.source_size_bytes

    def zip_member(self) -> ZipMember | None:
        if self.header_offset is None:
            return None
        return ZipMember(
            path=self.member_path,
            header_offset=self.header_offset,
            compress_size=self.compress_size or 0,
            file_size=self.file_size or 0,
            compress_type=self.compress_type or 0,
            crc=self.crc or 0,
            flag_bits=self.flag_bits or 0,
        )


TASK_SCHEMA = pa.schema(
    [
        pa.field("file_uri", pa.string()),
        pa.field("source_uri", pa.string()),
        pa.field("source_size_bytes", pa.int64()),
        pa.field("source_modified_at", pa.timestamp("us", tz="UTC")),
        pa.field("package_uri", pa.string()),
        pa.field("package_date", pa.date32()),
        pa.field("org", pa.string()),
        pa.field("member_path", pa.string()),
        pa.field("header_offset", pa.int64()),
        pa.field("compress_size", pa.int64()),
        pa.field("file_size", pa.int64()),
        pa.field("compress_type", pa.int64()),
        pa.field("crc", pa.int64()),
        pa.field("flag_bits", pa.int64()),
    ]
)


@dataclass(frozen=True)
class ReadSettings:
    """What every read needs (picklable: shipped to the executors once per run)."""

    gpg: GpgSettings
    limits: Limits
    s3: S3Config
    chunk_bytes: int
    max_line_bytes: int
    max_errors_per_file: int


class SourceUnreadable(Exception):
    """Reading the stored bytes failed (storage, network): the file may be fine; retried."""


class TooLarge(Exception):
    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


class _Guarded(io.RawIOBase):
    """The stored bytes; any failure to read them becomes `SourceUnreadable`."""

    def __init__(self, raw: BinaryIO) -> None:
        super().__init__()
        self._raw = raw

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        try:
            data = self._raw.read(len(buffer))
        except Exception as exc:  # storage clients raise many kinds
            raise SourceUnreadable(f"{type(exc).__name__}: {exc}") from exc
        n = len(data)
        memoryview(buffer).cast("B")[:n] = data
        return n


class _Plaintext(io.RawIOBase):
    """The decrypted bytes: hashed, counted and held to the limits as they pass."""

    def __init__(self, stream: BinaryIO, limits: Limits, stored_size: int) -> None:
        super().__init__()
        self._stream = stream
        self._limits = limits
        self._stored = max(stored_size, 1)
        self._sha = hashlib.sha256()
        self.size = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._stream.read(len(buffer))
        n = len(data)
        if not n:
            return 0
        memoryview(buffer).cast("B")[:n] = data
        self._sha.update(data)
        self.size += n
        limits = self._limits
        if self.size > limits.max_member_bytes:
            raise TooLarge(
                "too_large",
                f"the file decrypts to more than {limits.max_member_bytes} bytes "
                "(limit max_member_bytes); it was not read further",
            )
        if self.size > limits.ratio_grace_bytes and self.size > limits.max_ratio * self._stored:
            raise TooLarge(
                "bomb",
                f"the file inflates to more than {limits.max_ratio:g} times its stored size "
                f"({self._stored} bytes; limit max_ratio); it was not read further",
            )
        return n

    def hexdigest(self) -> str:
        return self._sha.hexdigest()


def _error(path: str | None, kind: str, message: str) -> dict[str, str | None]:
    return {"path": path, "kind": kind, "message": message}


def accepted_hint(value: str | None, name: names.MemberName) -> str | None:
    """`value` if it is this file's course id in either spelling (course-v1 or org/course/run)."""
    if not value:
        return None
    for form in (
        names.course_v1_id(name.org, name.course, name.run),
        names.slash_course_id(name.org, name.course, name.run),
    ):
        if form and value.lower() == form.lower():
            return value
    return None


def base_row(task: MemberTask, name: names.MemberName, retrieved_at: datetime) -> Row:
    return {
        "source_system": name.site,
        "course_id": name.course_id,
        "file_uri": task.file_uri,
        "retrieved_at": retrieved_at,
        "retrieved_date": retrieved_at.date(),
        "package_date": task.package_date,
        "package_uri": task.package_uri,
        "org": name.org or task.org,
        "source_uri": task.source_uri,
        "source_size_bytes": task.source_size_bytes,
        "source_modified_at": task.source_modified_at,
        "member_path": task.member_path,
        "file_kind": name.kind,
        "table_name": name.table,
        "target_table": target_table(name.kind, name.table),
        "course": name.course,
        "run": name.run,
        "encrypted": name.encrypted,
        "row_count": 0,
        "bad_line_count": 0,
        "status": STATUS_LOADED,
        "retryable": False,
        "errors": [],
        "parser_version": PARSER_VERSION,
    }


class _Reader:
    """Reads one file into batches, noting what it finds in the file's ledger `row`."""

    def __init__(
        self,
        task: MemberTask,
        name: names.MemberName,
        row: Row,
        settings: ReadSettings,
        known_course_shas: frozenset[str],
    ) -> None:
        self.task = task
        self.name = name
        self.row = row
        self.settings = settings
        self.known_course_shas = known_course_shas

    def note_bad(self, numbers: list[int], reasons: list[str]) -> None:
        self.row["bad_line_count"] += len(numbers)
        room = self.settings.max_errors_per_file - len(self.row["errors"])
        for number, reason in list(zip(numbers, reasons, strict=True))[: max(room, 0)]:
            self.row["errors"].append(
                _error(self.task.member_path, "bad_line", f"line {number}: {reason}")
            )

    def read(self, stream: io.BufferedReader, plain: _Plaintext) -> Iterator[pa.RecordBatch]:
        readers: dict[str, Callable[[io.BufferedReader, _Plaintext], Iterator[pa.RecordBatch]]]
        readers = {
            names.KIND_TABLE: self.dump,
            names.KIND_EMAIL_OPT_IN: self.email_opt_in,
            names.KIND_COURSE_STRUCTURE: self.course_structure,
            names.KIND_FORUM: self.forum,
            names.KIND_COURSE_XML: self.course_xml,
        }
        yield from readers[self.name.kind](stream, plain)

    def dump(self, stream: io.BufferedReader, plain: _Plaintext) -> Iterator[pa.RecordBatch]:
        s, table, uri = self.settings, self.name.table or "", self.task.file_uri
        header = read_header(stream, s.max_line_bytes)
        if header is None:
            self.row["header"] = []
            self.row["errors"].append(
                _error(self.task.member_path, "empty_file", "the file is empty (no header line)")
            )
            return
        columns = parse_header(header)
        self.row["header"] = columns
        hint_at = next((i for i, c in enumerate(columns) if c.lower() == "course_id"), None)
        for chunk in line_chunks(stream, len(columns), 2, s.chunk_bytes, s.max_line_bytes):
            if len(chunk.lines):
                if hint_at is not None and self.row.get("course_id_hint") is None:
                    first = decode_line(chunk.lines[0].as_py())
                    self.row["course_id_hint"] = accepted_hint(first[hint_at], self.name)
                self.row["row_count"] += len(chunk.lines)
                yield lines_batch(table, uri, chunk.numbers, chunk.lines)
            if len(chunk.bad_lines):
                self.note_bad(chunk.bad_numbers.to_pylist(), chunk.bad_reasons.to_pylist())
                yield bad_lines_batch(
                    table, uri, chunk.bad_numbers, chunk.bad_lines, chunk.bad_reasons
                )

    def email_opt_in(
        self, stream: io.BufferedReader, plain: _Plaintext
    ) -> Iterator[pa.RecordBatch]:
        table, uri = self.name.table or "email_opt_in", self.task.file_uri
        header, chunks = read_csv(stream, CSV_ROWS_PER_BATCH)
        self.row["header"] = header
        if not header:
            self.row["errors"].append(
                _error(self.task.member_path, "empty_file", "the file is empty (no header line)")
            )
        for chunk in chunks:
            if chunk.records:
                self.row["row_count"] += len(chunk.records)
                yield csv_batch(table, uri, chunk.numbers, chunk.records)
            if chunk.bad:
                numbers = [b[0] for b in chunk.bad]
                reasons = [b[2] for b in chunk.bad]
                self.note_bad(numbers, reasons)
                yield bad_lines_batch(
                    table,
                    uri,
                    pa.array(numbers, pa.int64()),
                    pa.array([b[1] for b in chunk.bad], pa.string()),
                    pa.array(reasons, pa.string()),
                )

    def course_structure(
        self, stream: io.BufferedReader, plain: _Plaintext
    ) -> Iterator[pa.RecordBatch]:
        limit = self.settings.limits.max_text_member_bytes
        data = stream.read(limit + 1)
        if len(data) > limit:
            raise TooLarge(
                "too_large",
                f"the course_structure file is larger than {limit} bytes "
                "(limit max_text_member_bytes)",
            )
        rows, hint = parse_course_structure(data)
        self.row["course_id_hint"] = accepted_hint(hint, self.name)
        self.row["row_count"] = len(rows)
        for start in range(0, len(rows), STRUCT_ROWS_PER_BATCH):
            part = rows[start : start + STRUCT_ROWS_PER_BATCH]
            yield struct_rows_batch(KIND_STRUCTURE, self.task.file_uri, part)

    def forum(self, stream: io.BufferedReader, plain: _Plaintext) -> Iterator[pa.RecordBatch]:
        uri, limit = self.task.file_uri, self.settings.max_line_bytes
        rows: list[Row] = []
        numbers: list[int] = []
        bad: list[tuple[int, str, str]] = []
        number = 0
        while raw := stream.readline(limit + 1):
            number += 1
            if len(raw) > limit and not raw.endswith(b"\n"):
                raise LineTooLong(f"line {number} is longer than {limit} bytes")
            try:
                text = raw.decode("utf-8").rstrip("\r\n")
                if not text.strip():
                    continue
                row = parse_forum_line(text)
            except UnicodeDecodeError:
                text = raw.decode("utf-8", errors="replace").rstrip("\r\n")
                bad.append((number, text, "the line is not valid UTF-8"))
                continue
            except ForumDocumentError as exc:
                bad.append((number, text, str(exc)))
                continue
            if self.row.get("course_id_hint") is None:
                self.row["course_id_hint"] = accepted_hint(row["document_course_id"], self.name)
            rows.append(row)
            numbers.append(number)
            if len(rows) >= STRUCT_ROWS_PER_BATCH:
                yield from self._forum_batches(uri, rows, numbers, bad)
                rows, numbers, bad = [], [], []
        yield from self._forum_batches(uri, rows, numbers, bad)

    def _forum_batches(
        self, uri: str, rows: list[Row], numbers: list[int], bad: list[tuple[int, str, str]]
    ) -> Iterator[pa.RecordBatch]:
        if rows:
            self.row["row_count"] += len(rows)
            yield struct_rows_batch(KIND_FORUM, uri, rows, numbers)
        if bad:
            self.note_bad([b[0] for b in bad], [b[2] for b in bad])
            yield bad_lines_batch(
                None,
                uri,
                pa.array([b[0] for b in bad], pa.int64()),
                pa.array([b[1] for b in bad], pa.string()),
                pa.array([b[2] for b in bad], pa.string()),
            )

    def course_xml(self, stream: io.BufferedReader, plain: _Plaintext) -> Iterator[pa.RecordBatch]:
        from olx_spark.olx.parse import parse_course_archive

        task = self.task
        parsed = parse_course_archive(stream, self.name.plain_name, self.settings.limits)
        status = parsed.status
        if status == STATUS_LOADED and parsed.archive_sha256 in self.known_course_shas:
            status = "duplicate"
        self.row["course_id"] = parsed.course_id or self.row["course_id"]
        self.row["course_id_hint"] = parsed.course_id
        self.row["row_count"] = parsed.block_count
        for e in parsed.all_errors():
            self.row["errors"].append(e.as_row())
        if parsed.rejection is not None:
            self.row["status"] = STATUS_REJECTED
        elif status == "duplicate":
            self.row["status"] = STATUS_UNCHANGED
        source = ArchiveSource(task.file_uri, plain.size, task.source_modified_at)
        for batch in parsed_to_batches(
            parsed,
            source,
            source_system=self.name.site or "",
            retrieved_at=self.row["retrieved_at"],
            status=status,
        ):
            yield course_batch(batch)


@contextmanager
def _guarded(opened: AbstractContextManager[BinaryIO]) -> Iterator[BinaryIO]:
    """`opened`, with every failure to open or read it turned into `SourceUnreadable`."""
    with ExitStack() as stack:
        try:
            raw = stack.enter_context(opened)
        except Exception as exc:  # storage clients raise many kinds
            raise SourceUnreadable(f"{type(exc).__name__}: {exc}") from exc
        yield io.BufferedReader(_Guarded(raw))


def _open_stored(task: MemberTask, s3: S3Config, stack: ExitStack) -> BinaryIO:
    member = task.zip_member()
    if member is None:
        return stack.enter_context(_guarded(open_uri(task.source_uri, s3)))

    def opener(start: int, length: int) -> AbstractContextManager[BinaryIO]:
        return _guarded(open_range(task.source_uri, start, length, s3))

    return stack.enter_context(open_member(opener, member))


def _failure(exc: BaseException) -> tuple[str, str, bool]:
    """(kind, message, retryable) for whatever stopped a file."""
    if isinstance(exc, SourceReadError) and exc.__cause__ is not None:
        return _failure(exc.__cause__)
    if isinstance(exc, DecryptError):
        return exc.kind, exc.message, exc.retryable
    if isinstance(exc, ZipMemberError | TooLarge):
        return exc.kind, exc.message, False
    if isinstance(exc, SourceUnreadable | SourceReadError | OSError):
        return "unreadable", f"the file could not be read ({exc}); it will be retried", True
    if isinstance(exc, LineTooLong):
        return "line_too_long", str(exc), False
    if isinstance(exc, CourseStructureError):
        return "bad_json", str(exc), False
    if isinstance(exc, UnicodeDecodeError | csv.Error):
        return "bad_text", f"the file is not UTF-8 text as expected ({exc})", False
    return (
        "reader_error",
        f"unexpected {type(exc).__name__} while reading the file: {exc}. This is a bug in "
        "olx-spark; the file will be retried by the next run (after an upgrade, say).",
        True,
    )


def read_member(
    task: MemberTask, settings: ReadSettings, known_course_shas: frozenset[str] = frozenset()
) -> Iterator[pa.RecordBatch]:
    """All the staging batches of one file, its ledger row last. Never raises for a bad file."""
    name = names.parse_member_name(task.member_path, task.org)
    retrieved_at = datetime.now(UTC)
    row = base_row(task, name, retrieved_at)
    path = task.member_path
    if name.kind == names.KIND_UNKNOWN:
        row["status"] = STATUS_REJECTED
        row["errors"].append(
            _error(
                path,
                "unknown_file",
                "not a data package file name this job knows (`...-{table}-{site}-analytics.sql`"
                ", `...-course_structure-{site}-analytics.json`, `...-{site}.mongo`, "
                "`...-email_opt_in-{site}-analytics.csv`, `...-course-{site}.xml.tar.gz`, "
                "each optionally `.gpg`)",
            )
        )
        yield file_batch(row)
        return
    if task.file_size is not None and task.file_size > settings.limits.max_member_bytes:
        row["status"] = STATUS_REJECTED
        row["errors"].append(
            _error(
                path,
                "too_large",
                f"the member is {task.file_size} bytes, more than max_member_bytes "
                f"({settings.limits.max_member_bytes}); not read",
            )
        )
        yield file_batch(row)
        return
    try:
        with ExitStack() as stack:
            stored = _open_stored(task, settings.s3, stack)
            source: BinaryIO = stored
            if name.encrypted:
                source = stack.enter_context(open_decrypted(stored, settings.gpg))
            plain = _Plaintext(source, settings.limits, task.stored_size)
            stream = io.BufferedReader(plain, DRAIN_BYTES)
            yield from _Reader(task, name, row, settings, known_course_shas).read(stream, plain)
            while stream.read(DRAIN_BYTES):  # to the end: the hash, and gpg's verdict
                pass
            row["file_sha256"] = plain.hexdigest()
            row["file_size_bytes"] = plain.size
    except Exception as exc:  # every failure becomes the file's status
        kind, message, retryable = _failure(exc)
        if kind == "reader_error":
            log.exception("unexpected error reading %s", task.file_uri)
        row["status"] = STATUS_REJECTED
        row["retryable"] = retryable
        row["errors"].insert(0, _error(path, kind, message))
    listed = sum(1 for e in row["errors"] if e["kind"] == "bad_line")
    if row["status"] == STATUS_LOADED and row["bad_line_count"] > listed:
        more = row["bad_line_count"] - listed
        row["errors"].append(
            _error(
                path, "bad_line", f"... and {more} more bad lines (all are in {BAD_LINES_TABLE})"
            )
        )
    yield file_batch(row)


def task_from_row(row: dict[str, Any]) -> MemberTask:
    return MemberTask(**{k: row[k] for k in TASK_SCHEMA.names})
