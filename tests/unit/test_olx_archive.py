"""Reading archives: formats, hostile members, limits, bombs, bad input, stream hashing."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import resource
import tarfile
import time
import zipfile
import zlib
from collections.abc import Iterator

import pytest

from olx_spark.olx import archive
from olx_spark.olx.archive import SourceReadError
from olx_spark.olx.model import MIB, Limits, ParsedArchive
from olx_spark.olx.parse import parse_course_archive
from tests.olx_fixtures import (
    OneShotStream,
    error_kinds,
    file_info,
    make_tar,
    make_zip,
    minimal_course,
    one_shot,
    parse_bytes,
)

GOOD = make_tar(minimal_course())


def assert_identity(parsed: ParsedArchive, data: bytes) -> None:
    assert parsed.archive_sha256 == hashlib.sha256(data).hexdigest()
    assert parsed.archive_size_bytes == len(data)


def assert_rejected(parsed: ParsedArchive, kind: str, data: bytes) -> None:
    assert parsed.rejection is not None, parsed.errors
    assert parsed.rejection.kind == kind, parsed.rejection
    assert parsed.rows == {}
    assert parsed.status == "rejected"
    assert_identity(parsed, data)


def test_good_archive_hash_and_size() -> None:
    parsed = parse_bytes(GOOD)
    assert parsed.rejection is None and parsed.errors == []
    assert parsed.status == "loaded" and parsed.block_count == 2
    assert_identity(parsed, GOOD)


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("c.tar.gz", GOOD),
        ("c.tgz", GOOD),
        ("c.tar", make_tar(minimal_course(), gzip_level=None)),
        ("c.zip", make_zip(minimal_course(), prefix="course/")),
    ],
)
def test_formats_give_the_same_course(name: str, data: bytes) -> None:
    parsed = parse_bytes(data, name)
    assert parsed.rejection is None
    assert parsed.course_version == parse_bytes(GOOD).course_version
    assert_identity(parsed, data)


def test_stream_is_read_once_and_never_seeked() -> None:
    stream = OneShotStream([GOOD[:10], GOOD[10:]])
    parsed = parse_course_archive(stream, "c.tar.gz")  # type: ignore[arg-type]
    assert parsed.rejection is None
    with pytest.raises(io.UnsupportedOperation):
        stream.seek(0)


def test_not_a_gzip() -> None:
    data = b"this is plain text, not an archive at all\n" * 20
    parsed = parse_bytes(data, "notes.tar.gz")
    assert_rejected(parsed, "not_an_archive", data)
    assert "notes.tar.gz" in parsed.rejection.message  # type: ignore[union-attr]


def test_empty_stream() -> None:
    assert_rejected(parse_bytes(b""), "not_an_archive", b"")


def test_gzip_of_garbage() -> None:
    data = gzip.compress(os.urandom(5000))
    assert_rejected(parse_bytes(data), "not_an_archive", data)


def test_truncated_gzip() -> None:
    data = GOOD[: len(GOOD) // 2]
    parsed = parse_bytes(data)
    assert_rejected(parsed, "truncated", data)
    assert "truncated" in parsed.rejection.message  # type: ignore[union-attr]


def test_truncated_plain_tar() -> None:
    data = make_tar(minimal_course(), gzip_level=None)[:700]
    assert_rejected(parse_bytes(data, "c.tar"), "truncated", data)


def test_corrupt_gzip_data() -> None:
    data = bytearray(GOOD)
    data[len(data) // 2] ^= 0xFF
    parsed = parse_bytes(bytes(data))
    assert parsed.rejection is not None
    assert parsed.rejection.kind in ("corrupt", "not_an_archive", "truncated")
    assert_identity(parsed, bytes(data))


def test_bad_zip() -> None:
    data = b"PK\x03\x04" + b"\x00" * 100
    assert_rejected(parse_bytes(data, "c.zip"), "not_an_archive", data)


def test_no_course_xml() -> None:
    data = make_tar({"readme.txt": "hello", "static/a.png": b"x"})
    parsed = parse_bytes(data)
    assert_rejected(parsed, "no_course", data)
    assert "course.xml" in parsed.rejection.message  # type: ignore[union-attr]


def test_malformed_course_xml_rejects() -> None:
    data = make_tar({"course.xml": "<course url_name='R'"})
    parsed = parse_bytes(data)
    assert_rejected(parsed, "bad_xml", data)
    assert parsed.rejection.path == "course.xml"  # type: ignore[union-attr]


def hostile(name: str, kind: bytes = tarfile.REGTYPE, data: bytes | None = b"x") -> tuple:
    info = file_info(name, len(data) if data is not None else 0)
    info.type = kind
    if kind in (tarfile.SYMTYPE, tarfile.LNKTYPE):
        info.linkname = "/etc/passwd"
    return info, data if kind == tarfile.REGTYPE else None


@pytest.mark.parametrize(
    ("member", "path"),
    [
        (hostile("/etc/cron.d/evil"), "/etc/cron.d/evil"),
        (hostile("../../escape.xml"), "../../escape.xml"),
        (hostile("course/../../../x"), "course/../../../x"),
        (hostile("static/link.png", tarfile.SYMTYPE), "static/link.png"),
        (hostile("static/hard.png", tarfile.LNKTYPE), "static/hard.png"),
        (hostile("dev/null", tarfile.CHRTYPE), "dev/null"),
        (hostile("dev/sda", tarfile.BLKTYPE), "dev/sda"),
        (hostile("fifo", tarfile.FIFOTYPE), "fifo"),
    ],
)
def test_unsafe_members_are_refused_and_the_rest_loads(member: tuple, path: str) -> None:
    parsed = parse_bytes(make_tar(minimal_course(), extra=[member]))
    assert parsed.rejection is None
    assert error_kinds(parsed) == ["unsafe_member"]
    assert parsed.errors[0].path == path
    assert parsed.block_count == 2
    assert parsed.rows["static_files"] == []


def test_a_sparse_member_is_a_recorded_error_and_the_rest_loads() -> None:
    info = file_info("course/static/disk.img", 3)
    info.type = tarfile.GNUTYPE_SPARSE  # written as a plain header: no holes, 3 bytes of data
    parsed = parse_bytes(make_tar(minimal_course(), prefix="course/", extra=[(info, b"abc")]))
    assert parsed.rejection is None
    assert error_kinds(parsed) == ["unsupported_member"]
    assert parsed.errors[0].path == "course/static/disk.img"
    assert parsed.block_count == 2


def test_unsafe_zip_members() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for path, content in minimal_course().items():
            z.writestr(path, content)
        z.writestr("../evil.xml", "<x/>")
        link = zipfile.ZipInfo("static/link.png")
        link.external_attr = (0o120777) << 16
        z.writestr(link, "/etc/passwd")
    parsed = parse_bytes(buffer.getvalue(), "c.zip")
    assert error_kinds(parsed) == ["unsafe_member", "unsafe_member"]
    assert parsed.block_count == 2 and parsed.rows["static_files"] == []


def test_junk_files_are_ignored() -> None:
    files = minimal_course(
        {
            "._course.xml": b"\x00\x05\x16\x07",
            "problem/._p.xml": b"\x00\x05\x16\x07 not xml",
            "static/.DS_Store": b"\x00",
            "static/a.png~": b"x",
            "__MACOSX/static/._a.png": b"x",
            "chapter/ch.xml~": b"<broken",
        }
    )
    parsed = parse_bytes(make_tar(files))
    assert parsed.errors == [] and parsed.rejection is None
    assert parsed.rows["static_files"] == []


def test_too_many_members() -> None:
    data = make_tar(minimal_course({f"static/{i}.txt": b"x" for i in range(10)}))
    parsed = parse_bytes(data, limits=Limits(max_members=5))
    assert_rejected(parsed, "too_many_members", data)


def test_member_over_size_limit() -> None:
    data = make_tar(minimal_course({"static/big.bin": b"\x01" * 5000}))
    parsed = parse_bytes(data, limits=Limits(max_member_bytes=4000))
    assert_rejected(parsed, "member_too_large", data)
    assert parsed.rejection.path == "static/big.bin"  # type: ignore[union-attr]


def test_total_over_size_limit() -> None:
    data = make_tar(minimal_course({f"static/{i}.bin": os.urandom(3000) for i in range(5)}))
    parsed = parse_bytes(data, limits=Limits(max_total_bytes=10_000))
    assert_rejected(parsed, "too_large", data)


def test_text_member_over_text_limit_is_not_held() -> None:
    files = minimal_course(
        {
            "chapter/ch.xml": '<chapter><html url_name="big"/></chapter>',
            "html/big.xml": '<html filename="big"/>',
            "html/big.html": "<p>" + "x" * 5000 + "</p>",
        }
    )
    parsed = parse_bytes(make_tar(files), limits=Limits(max_text_member_bytes=1000))
    assert error_kinds(parsed) == ["text_too_large", "missing_file"]
    assert parsed.errors[0].path == "html/big.html"
    assert rows_content(parsed, "html") == [None]


def rows_content(parsed: ParsedArchive, block_type: str) -> list[str | None]:
    return [b["content"] for b in parsed.rows["blocks"] if b["block_type"] == block_type]


def test_ratio_bomb_is_rejected_early(monkeypatch: pytest.MonkeyPatch) -> None:
    zeros = make_tar(minimal_course({"static/zeros.bin": bytes(50 * MIB)}), gzip_level=9)
    inflated: list[int] = []
    original = archive._Meter.add

    def spy(self: archive._Meter, size: int) -> None:
        original(self, size)
        inflated.append(self.total)

    monkeypatch.setattr(archive._Meter, "add", spy)
    limits = Limits(max_ratio=10, ratio_grace_bytes=MIB)
    parsed = parse_bytes(zeros, limits=limits)
    assert_rejected(parsed, "bomb", zeros)
    assert max(inflated) < 3 * MIB


def test_zip_ratio_bomb() -> None:
    data = make_zip(minimal_course({"static/zeros.bin": bytes(20 * MIB)}))
    parsed = parse_bytes(data, "c.zip", Limits(max_ratio=10, ratio_grace_bytes=MIB))
    assert_rejected(parsed, "bomb", data)


def test_big_ratio_within_grace_is_fine() -> None:
    data = make_tar(minimal_course({"static/zeros.bin": bytes(2 * MIB)}))
    parsed = parse_bytes(data, limits=Limits(max_ratio=10, ratio_grace_bytes=4 * MIB))
    assert parsed.rejection is None


class FailingStream(io.RawIOBase):
    def readable(self) -> bool:
        return True

    def read(self, size: int = -1, /) -> bytes:
        raise ConnectionError("connection reset by peer")


def test_source_read_errors_propagate() -> None:
    with pytest.raises(SourceReadError, match="connection reset"):
        parse_course_archive(FailingStream(), "c.tar.gz")  # type: ignore[arg-type]


def _tar_header(path: str, size: int) -> bytes:
    return file_info(path, size).tobuf(format=tarfile.PAX_FORMAT)


def _big_static_archive(size: int) -> Iterator[bytes]:
    """A .tar.gz whose static file is `size` zero bytes, generated and gzipped on the fly."""
    compressor = zlib.compressobj(1, zlib.DEFLATED, 31)
    for path, content in minimal_course().items():
        data = content.encode() if isinstance(content, str) else content
        yield compressor.compress(_tar_header(path, len(data)) + data + bytes(-len(data) % 512))
    yield compressor.compress(_tar_header("static/video.mp4", size))
    chunk = bytes(4 * MIB)
    for _ in range(size // len(chunk)):
        yield compressor.compress(chunk)
    yield compressor.compress(bytes(1024)) + compressor.flush()


def test_big_static_file_streams_with_bounded_memory() -> None:
    size = 200 * MIB
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    started = time.monotonic()
    parsed = parse_course_archive(
        OneShotStream(_big_static_archive(size)),  # type: ignore[arg-type]
        "big.tar.gz",
        Limits(max_ratio=1e9),
    )
    elapsed = time.monotonic() - started
    growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - before
    assert parsed.rejection is None, parsed.rejection
    [video] = parsed.rows["static_files"]
    assert video["size_bytes"] == size
    assert video["sha256"] == hashlib.sha256(bytes(size)).hexdigest()
    assert video["mime_type"] == "video/mp4"
    assert growth < 64 * MIB, f"max RSS grew by {growth / MIB:.0f} MiB"
    assert elapsed < 10


def test_hashing_reader_peek_read_and_drain() -> None:
    data = bytes(range(256)) * 10
    reader = archive.HashingReader(one_shot(data, chunk=7))
    assert reader.peek(4) == data[:4]
    assert reader.read(2) == data[:2]
    assert reader.read(-1)[:3] == data[2:5]
    reader.drain()
    assert (reader.size, reader.hexdigest()) == (len(data), hashlib.sha256(data).hexdigest())
