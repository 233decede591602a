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
EVERY_FORMAT = pytest.mark.parametrize(
    "fmt",
    [tarfile.USTAR_FORMAT, tarfile.GNU_FORMAT, tarfile.PAX_FORMAT],
    ids=["ustar", "gnu", "pax"],
)


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


@EVERY_FORMAT
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


@EVERY_FORMAT
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


def _header(name: bytes, size: int, typeflag: bytes = b"0") -> bytes:
    """A ustar header with a valid checksum (fields as tarfile writes them)."""
    block = bytearray(BLOCK)
    block[0 : len(name)] = name
    block[100:108], block[108:116], block[116:124] = b"0000644\0", b"0000000\0", b"0000000\0"
    block[124:136] = f"{size:011o}\0".encode()
    block[136:148] = b"00000000000\0"
    block[156:157] = typeflag
    block[257:265] = b"ustar\x0000"
    block[148:156] = b" " * 8
    block[148:156] = f"{sum(block):06o}\0 ".encode()
    return bytes(block)


def _member(name: bytes, data: bytes, typeflag: bytes = b"0") -> bytes:
    return _header(name, len(data), typeflag) + data + bytes(-len(data) % BLOCK)


def _pax(records: dict[bytes, bytes], typeflag: bytes = b"x") -> bytes:
    body = b""
    for key, value in records.items():
        record = b" " + key + b"=" + value + b"\n"
        length = len(record) + 1
        while len(str(length)) + len(record) != length:
            length += 1
        body += str(length).encode() + record
    return _member(b"././@PaxHeader", body, typeflag)


END = bytes(2 * BLOCK)


def test_a_huge_long_name_header_is_an_error_read_a_mib_at_a_time():
    class Counting(io.BytesIO):
        largest = 0

        def read(self, size: int = -1, /) -> bytes:
            Counting.largest = max(Counting.largest, size)
            return super().read(size)

    data = _header(b"././@LongLink", 300 * 1024 * 1024, b"L") + bytes(4 * BLOCK)
    with pytest.raises(tarfile.ReadError, match="long-name or pax header"):
        list(iter_members(Counting(data)))
    name = b"course/" + b"n" * 2000 + b".xml"  # a long name of normal size reads fine
    listed = _listing_by_stream(_member(b"././@LongLink", name + b"\0", b"L") + _member(b"x", b"A"))
    assert listed == [(TarMember(name.decode(), 1, "file"), b"A")]
    assert Counting.largest <= 1024 * 1024


def test_sparse_members_are_listed_as_such_and_the_next_member_is_found():
    old_gnu = bytearray(_header(b"course/static/v.bin", 3, b"S"))
    old_gnu[482] = 1  # one extension block of sparse entries follows the header
    old_gnu[148:156] = b" " * 8
    old_gnu[148:156] = f"{sum(old_gnu):06o}\0 ".encode()
    extension = bytes(BLOCK)  # its own "extended" flag (offset 504) is 0: the last one
    data = bytes(old_gnu) + extension + b"abc" + bytes(BLOCK - 3)
    data += _pax({b"GNU.sparse.major": b"1", b"GNU.sparse.minor": b"0"})
    data += _member(b"course/static/w.bin", b"map+data")
    data += _member(b"course/course.xml", b"<course/>") + END
    assert _listing_by_stream(data) == [
        (TarMember("course/static/v.bin", 3, "sparse"), None),
        (TarMember("course/static/w.bin", 8, "sparse"), None),
        (TarMember("course/course.xml", 9, "file"), b"<course/>"),
    ]


def test_stacked_names_global_headers_and_odd_sizes():
    first, second = b"course/FIRST.xml", b"course/SECOND.xml"
    stacked = _pax({b"path": first}) + _pax({b"path": second}) + _member(b"course/h.xml", b"A")
    assert _listing_by_stream(stacked + END) == _listing_by_tarfile(stacked + END)
    assert _listing_by_stream(stacked + END)[0][0].name == first.decode()
    # A global path names every member after it (as in tarfile); a global size is ignored.
    glob = _pax({b"path": b"course/G.xml"}, b"g") + _member(b"a", b"A") + _member(b"b", b"B")
    assert _listing_by_stream(glob + END) == _listing_by_tarfile(glob + END)
    sized = _pax({b"size": b"0"}, b"g") + _member(b"course/a.xml", b"A" * 600)
    assert _listing_by_stream(sized + END) == [(TarMember("course/a.xml", 600, "file"), b"A" * 600)]
    # A size that is not a number counts as 0, as in tarfile; Solaris' X header is a PAX one.
    odd = _pax({b"size": b"abc"}) + _member(b"course/a.xml", b"") + _member(b"course/b.xml", b"B")
    assert _listing_by_stream(odd + END) == _listing_by_tarfile(odd + END)
    solaris = _pax({b"path": b"course/S.xml"}, b"X") + _member(b"course/h.xml", b"A") + END
    assert _listing_by_stream(solaris) == _listing_by_tarfile(solaris)


def test_an_empty_tar_lists_nothing_and_bytes_are_read_while_their_member_is_current():
    assert _listing_by_stream(END) == _listing_by_tarfile(END) == []
    data = _member(b"course/a.xml", b"AAA") + _member(b"course/b.xml", b"B") + END
    members = iter_members(io.BytesIO(data))
    _, first = next(members)
    assert first.read(0) == b"" and first.read(2) == b"AA"
    next(members)
    with pytest.raises(ValueError, match="before the listing moves on"):
        first.read()


def test_a_negative_size_counts_as_zero_and_the_next_member_is_found():
    negative = bytearray(_header(b"course/neg.xml", 0))
    negative[124:136] = b"\xff" * 12  # GNU base-256 for -1
    negative[148:156] = b" " * 8
    negative[148:156] = f"{sum(negative):06o}\0 ".encode()
    data = bytes(negative) + _member(b"course/course.xml", b"<course/>") + END
    assert _listing_by_stream(data) == [
        (TarMember("course/neg.xml", 0, "file"), b""),
        (TarMember("course/course.xml", 9, "file"), b"<course/>"),
    ]
