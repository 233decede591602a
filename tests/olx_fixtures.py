"""Build course archives in memory for the parser's tests.

The hand-written courses under `tests/data/courses/<name>/` are folder trees of OLX files;
these helpers read them (or take a dict of files), tar/gzip/zip them with chosen packing
details (member order, mtimes, gzip level, a root folder), add hostile members, and feed the
bytes to the parser through a non-seekable stream, like an S3 body.
"""

from __future__ import annotations

import gzip
import io
import tarfile
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from olx_spark.olx.model import Limits, ParsedArchive
from olx_spark.olx.parse import parse_course_archive

COURSES = Path(__file__).parent / "data" / "courses"

Files = Mapping[str, bytes | str]


def course_files(name: str) -> dict[str, bytes]:
    """The files of a hand-written test course, keyed by path relative to its folder."""
    root = COURSES / name
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _as_bytes(value: bytes | str) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else value


def file_info(path: str, size: int, mtime: int = 0) -> tarfile.TarInfo:
    info = tarfile.TarInfo(path)
    info.size = size
    info.mtime = mtime
    info.mode = 0o644
    return info


def make_tar(
    files: Files,
    *,
    prefix: str = "",
    order: Iterable[str] | None = None,
    mtime: int = 0,
    gzip_level: int | None = 6,
    extra: Iterable[tuple[tarfile.TarInfo, bytes | None]] = (),
) -> bytes:
    """A tar (gzip-compressed unless `gzip_level` is None) of `files` under `prefix`.

    `extra` adds raw members (links, devices, hostile names) after the files.
    """
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in order if order is not None else sorted(files):
            data = _as_bytes(files[path])
            tar.addfile(file_info(prefix + path, len(data), mtime), io.BytesIO(data))
        for info, data in extra:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    raw = buffer.getvalue()
    if gzip_level is None:
        return raw
    return gzip.compress(raw, compresslevel=gzip_level, mtime=mtime)


def make_zip(files: Files, *, prefix: str = "") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(files):
            archive.writestr(prefix + path, _as_bytes(files[path]))
    return buffer.getvalue()


class OneShotStream(io.RawIOBase):
    """A read-once, non-seekable binary stream over chunks (like a StreamingBody)."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks: Iterator[bytes] = iter(chunks)
        self._buffer = b""

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def read(self, size: int = -1, /) -> bytes:
        while size < 0 or len(self._buffer) < size:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self._buffer += chunk
        if size < 0:
            size = len(self._buffer)
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data


def one_shot(data: bytes, chunk: int = 64 * 1024) -> OneShotStream:
    return OneShotStream(data[i : i + chunk] for i in range(0, len(data), chunk))


def parse_bytes(
    data: bytes, name: str = "course.tar.gz", limits: Limits | None = None
) -> ParsedArchive:
    return parse_course_archive(one_shot(data), name, limits or Limits())  # type: ignore[arg-type]


def parse_files(files: Files, name: str = "course.tar.gz", **tar_options: Any) -> ParsedArchive:
    return parse_bytes(make_tar(files, **tar_options), name)


def rows_by(parsed: ParsedArchive, entity: str, key: str) -> dict[Any, dict[str, Any]]:
    return {row[key]: row for row in parsed.rows[entity]}


def error_kinds(parsed: ParsedArchive) -> list[str]:
    return [e.kind for e in parsed.errors]


def minimal_course(extra: Files | None = None) -> dict[str, bytes | str]:
    """A one-chapter course (org X, course C, run R), with `extra` files added or replaced."""
    files: dict[str, bytes | str] = {
        "course.xml": '<course url_name="R" org="X" course="C"/>',
        "course/R.xml": '<course display_name="Mini"><chapter url_name="ch"/></course>',
        "chapter/ch.xml": '<chapter display_name="Ch"/>',
    }
    files.update(extra or {})
    return files
