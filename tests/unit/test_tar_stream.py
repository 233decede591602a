"""The streaming tar reader lists what the standard library's `tarfile` lists: the same names,
sizes, kinds and bytes in every format exporters write, and the same outcome (an error, or the
members before the damage) for every way a stream can be cut short or corrupted."""

from __future__ import annotations

import io
import tarfile
from typing import Any

import pytest

from olx_spark.olx.archive import tar_member_kind
from olx_spark.olx.tar_stream import BLOCK, TarMember, iter_members

LONG = "course/" + "/".join(f"folder_{i:02d}_with_a_long_name" for i in range(6)) + "/x.xml"
UNICODE = "course/static/été - ünïcødé 文件.txt"


def _archive(fmt: int) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=fmt) as tar:
        for name, data in [
            ("course/course.xml", b'<course url_name="r" org="O" course="C"/>'),
            ("course/empty.xml", b""),
            (LONG, b"<x/>" * 300),
            (UNICODE, "é".encode() * 700),
            ("course/static/big.bin", bytes(range(256)) * 40),  # 10,240 bytes: whole blocks
        ]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        folder = tarfile.TarInfo("course/static")
        folder.type = tarfile.DIRTYPE
        tar.addfile(folder)
        link = tarfile.TarInfo("course/static/link.png")
        link.type, link.linkname = tarfile.SYMTYPE, "../../etc/passwd"
        tar.addfile(link)
        fifo = tarfile.TarInfo("course/fifo")
        fifo.type = tarfile.FIFOTYPE
        tar.addfile(fifo)
    return out.getvalue()


def _listing_by_tarfile(data: bytes) -> list[tuple[TarMember, bytes | None]]:
    found = []
    with tarfile.open(fileobj=io.BytesIO(data), mode="r|", encoding="utf-8", errors="replace") as t:
        while (info := t.next()) is not None:
            kind = tar_member_kind(info)
            member = t.extractfile(info) if kind == "file" else None
            body = member.read() if member is not None else None
            found.append((TarMember(info.name, info.size, kind), body))
    return found


def _listing_by_stream(data: bytes) -> list[tuple[TarMember, bytes | None]]:
    return [
        (member, reader.read() if member.kind == "file" else None)
        for member, reader in iter_members(io.BytesIO(data))
    ]


def _outcome(listing: Any, data: bytes) -> tuple[str, Any]:
    try:
        return "listed", listing(data)
    except tarfile.TarError:
        return "error", None


@pytest.mark.parametrize(
    "fmt",
    [tarfile.USTAR_FORMAT, tarfile.GNU_FORMAT, tarfile.PAX_FORMAT],
    ids=["ustar", "gnu", "pax"],
)
def test_every_format_lists_like_tarfile(fmt: int):
    data = _archive(fmt)
    listed = _listing_by_stream(data)
    assert listed == _listing_by_tarfile(data)
    names = [m.name for m, _ in listed]
    assert LONG in names and UNICODE in names and "course/static" in names
    assert {m.kind for m, _ in listed} == {"file", "dir", "link", "device"}


def test_a_ustar_name_prefix_is_joined():
    name = "course/" + "p" * 120 + "/problem.xml"  # > 100 characters: split into prefix + name
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        info = tarfile.TarInfo(name)
        info.size = 3
        tar.addfile(info, io.BytesIO(b"abc"))
    assert _listing_by_stream(out.getvalue()) == [(TarMember(name, 3, "file"), b"abc")]


@pytest.mark.parametrize(
    "fmt",
    [tarfile.USTAR_FORMAT, tarfile.GNU_FORMAT, tarfile.PAX_FORMAT],
    ids=["ustar", "gnu", "pax"],
)
def test_every_cut_and_every_flipped_header_byte_ends_as_tarfile_does(fmt: int):
    data = _archive(fmt)
    cuts = sorted({*range(0, len(data), 97), *range(0, len(data), BLOCK), len(data) - 1})
    for cut in cuts:
        short = data[:cut]
        assert _outcome(_listing_by_stream, short) == _outcome(_listing_by_tarfile, short), cut
    for pos in range(0, 4 * BLOCK, 7):  # the first headers (a long-name block among them)
        damaged = bytearray(data)
        damaged[pos] ^= 0x5A
        bad = bytes(damaged)
        assert _outcome(_listing_by_stream, bad) == _outcome(_listing_by_tarfile, bad), pos


def test_not_a_tar_and_an_empty_stream_are_errors():
    for data in (b"", b"not a tar at all" * 40, bytes(100)):
        with pytest.raises(tarfile.ReadError):
            _listing_by_stream(data)


def test_an_unread_member_is_skipped_and_a_partly_read_one_too():
    data = _archive(tarfile.PAX_FORMAT)
    names = []
    for member, reader in iter_members(io.BytesIO(data)):
        names.append(member.name)
        if member.name == LONG:
            assert reader.read(5) == b"<x/><"  # the rest is skipped before the next header
    assert names == [m.name for m, _ in _listing_by_tarfile(data)]


def test_a_base256_size_is_read():
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.GNU_FORMAT) as tar:
        info = tarfile.TarInfo("course/a.xml")
        info.size = 5
        tar.addfile(info, io.BytesIO(b"12345"))
    data = bytearray(out.getvalue())
    data[124:136] = b"\x80" + (5).to_bytes(11, "big")  # the size field in GNU base-256
    data[148:156] = b"\0" * 8
    checksum = sum(data[:BLOCK]) + 8 * 32
    data[148:156] = f"{checksum:06o}\0 ".encode()
    assert _listing_by_stream(bytes(data)) == [(TarMember("course/a.xml", 5, "file"), b"12345")]
