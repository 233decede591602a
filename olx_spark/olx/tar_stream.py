"""A minimal streaming tar reader: headers and member bytes, one pass, no per-member layers.

The standard library's `tarfile` in stream mode costs ~35 µs of Python per member before a
byte of it is read (a `TarInfo` with a dozen parsed fields, a `_Stream` that re-slices its
buffer, an `ExFileObject` and a `BufferedReader` per member), which on course exports of
hundreds of thousands of small XML files was over a third of the parser's time
(benchmarks/RESULTS.md, issue 19). This reader keeps one buffer filled in 1 MiB reads from the
decompressed stream (so the caller's meter sees every MiB inflated) and parses only what the
parser needs: a member's name, size and kind.

It reads the formats exporters write (POSIX ustar with its name prefix, GNU long names, PAX and
Solaris `path` and `size` records) and lists them as `tarfile` does; so it does for damaged
streams: an empty stream or a first header that is not a tar header is a `tarfile.ReadError`,
as is a stream that ends inside a member's bytes or padding (read or not) ("unexpected end of
data") or right after a long-name or PAX header; a later header that fails its checksum or has
a non-numeric numeric field, or a stream that ends exactly between members, ends the listing
(a truncated gzip is still caught when the rest of the stream is drained). tests/unit/
test_tar_stream.py compares the two. Where it differs from `tarfile`, on purpose:
- a long-name or PAX header over `MAX_META_BYTES` is an error (tarfile holds it in memory);
- a sparse member (GNU `S`, or PAX `GNU.sparse.*`) is listed as kind `sparse`, its bytes
  skipped (tarfile rebuilds it with its holes; course exports never hold one);
- a global PAX header's `size` is ignored (its `path` applies, as in tarfile), a negative size
  counts as 0, and of stacked long-name / PAX headers the first name wins.
"""

from __future__ import annotations

import re
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

BLOCK = 512
READ_BYTES = 1024 * 1024  # one read from the decompressed stream
MAX_META_BYTES = 1024 * 1024  # a long name or a PAX header larger than this is an error
_ZERO_BLOCK = bytes(BLOCK)

_FILE_TYPES = frozenset({b"0", b"\0", b"7"})
_LINK_TYPES = frozenset({b"1", b"2"})
_DEVICE_TYPES = frozenset({b"3", b"4", b"6"})
_GNU_LONGNAME, _GNU_LONGLINK, _GNU_SPARSE = b"L", b"K", b"S"
_PAX_MEMBERS, _PAX_GLOBAL = frozenset({b"x", b"X"}), b"g"  # X: Solaris' older PAX type
_META_TYPES = frozenset({_GNU_LONGNAME, _GNU_LONGLINK, _PAX_GLOBAL, *_PAX_MEMBERS})
# The numeric fields tarfile parses (mode, uid, gid, size, mtime, chksum; devmajor, devminor)
# hold only these bytes when written in octal: `_numbers_ok` checks them all at once.
_OCTAL_FIELD_BYTES = b"01234567 \0"


class _Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


@dataclass(frozen=True)
class TarMember:
    """One member as listed: its name (as written), size in bytes and kind: `file`, `dir`,
    `link`, `device`, `sparse` or `other` (volume labels, unknown types...)."""

    name: str
    size: int
    kind: str


class _Buffer:
    """The decompressed stream, read in `READ_BYTES` pieces and handed out by slicing."""

    def __init__(self, stream: _Readable) -> None:
        self._stream = stream
        self._data = b""
        self._pos = 0
        self.offset = 0  # bytes handed out so far

    def take(self, size: int) -> bytes:
        """The next `size` bytes, fewer only at the end of the stream."""
        if len(self._data) - self._pos < size:
            self._fill(size)
        return self._hand_out(size)

    def take_some(self, most: int) -> bytes:
        """Up to `most` bytes (at least one unless the stream has ended)."""
        if self._pos == len(self._data):
            self._fill(1)
        return self._hand_out(most)

    def _hand_out(self, most: int) -> bytes:
        data = self._data[self._pos : self._pos + most]
        self._pos += len(data)
        self.offset += len(data)
        return data

    def _fill(self, size: int) -> None:
        parts = [self._data[self._pos :]]
        have = len(parts[0])
        while have < size:
            chunk = self._stream.read(READ_BYTES)
            if not chunk:
                break
            parts.append(chunk)
            have += len(chunk)
        self._data = b"".join(parts)
        self._pos = 0


class MemberReader:
    """A member's bytes, read in chunks like a file, while the listing is at this member;
    raises if the stream ends inside them."""

    def __init__(self, buffer: _Buffer, size: int) -> None:
        self._buffer = buffer
        self._left = size
        self._passed = False

    def read(self, size: int = -1, /) -> bytes:
        if self._passed:
            raise ValueError("a member's bytes are read before the listing moves on")
        if self._left == 0 or size == 0:
            return b""
        want = self._left if size < 0 else min(size, self._left)
        data = self._buffer.take_some(want)
        if not data:
            raise tarfile.ReadError("unexpected end of data")
        self._left -= len(data)
        return data

    def skip(self, padding: int) -> None:
        """Pass over the unread rest of the member and the `padding` after it."""
        while self._left:
            self.read(READ_BYTES)
        self._passed = True
        if len(self._buffer.take(padding)) < padding:
            raise tarfile.ReadError("unexpected end of data")


def _text(field: bytes) -> str:
    return field.split(b"\0", 1)[0].decode("utf-8", "replace")


def _number(field: bytes) -> int:
    """A numeric header field: octal text, or GNU base-256 (first byte 0x80 or 0xff)."""
    if field[0] in (0x80, 0xFF):
        value = int.from_bytes(field[1:], "big")
        return value - (256 ** (len(field) - 1)) if field[0] == 0xFF else value
    text = field.split(b"\0", 1)[0].strip()
    try:
        return int(text or b"0", 8)
    except ValueError:
        raise tarfile.InvalidHeaderError("invalid header") from None


def _checksum_ok(block: bytes) -> bool:
    stored = _number(block[148:156])
    unsigned = sum(block) - sum(block[148:156]) + 8 * 32
    if stored == unsigned:
        return True
    high = sum(1 for b in block[:148] if b > 127) + sum(1 for b in block[156:] if b > 127)
    return stored == unsigned - 256 * high  # old tars summed signed bytes


def _numbers_ok(block: bytes) -> None:
    """Raise `InvalidHeaderError` where tarfile would: a numeric field that is not a number."""
    fields = block[100:156] + block[329:345]
    if fields.translate(None, _OCTAL_FIELD_BYTES):  # something else than octal text: look closer
        for start, end in ((100, 108), (108, 116), (116, 124), (136, 148), (329, 337), (337, 345)):
            _number(block[start:end])


_PAX_RECORD = re.compile(rb"(\d+) ([^=]+)=")


def _pax_records(data: bytes) -> dict[str, str]:
    """`length key=value\\n` records, read as tarfile reads them (up to the first that does
    not parse): `path` (without a trailing `/`), `size`, and `sparse` if any `GNU.sparse.*` key
    is there (the others are not used here)."""
    records: dict[str, str] = {}
    pos = 0
    while match := _PAX_RECORD.match(data, pos):
        length, key = int(match.group(1)), match.group(2)
        if length == 0:
            raise tarfile.InvalidHeaderError("invalid header")
        value = data[match.end(2) + 1 : match.start(1) + length - 1]
        if key == b"path":
            records["path"] = value.decode("utf-8", "replace").rstrip("/")
        elif key == b"size":
            records["size"] = value.decode("utf-8", "replace")
        elif key.startswith(b"GNU.sparse."):
            records["sparse"] = "1"
        pos += length
    return records


def _size_record(value: str) -> int:
    try:
        return max(0, int(value))
    except ValueError:
        return 0  # as tarfile


def _kind(typeflag: bytes, header_name: str) -> str:
    """A member's kind from its own header (as tarfile: a V7 file named `.../` is a folder)."""
    if typeflag in _FILE_TYPES:
        return "dir" if typeflag == b"\0" and header_name.endswith("/") else "file"
    if typeflag == b"5":
        return "dir"
    if typeflag in _LINK_TYPES:
        return "link"
    if typeflag in _DEVICE_TYPES:
        return "device"
    if typeflag == _GNU_SPARSE:
        return "sparse"
    return "other"


def _padding(size: int) -> int:
    return -size % BLOCK


def _skip_sparse_extensions(buffer: _Buffer, header: bytes) -> None:
    """An old GNU sparse header may be followed by blocks of more sparse entries."""
    extended = header[482]
    while extended:
        block = buffer.take(BLOCK)
        if len(block) < BLOCK:
            raise tarfile.ReadError("unexpected end of data")
        extended = block[504]


def iter_members(stream: _Readable) -> Iterator[tuple[TarMember, MemberReader]]:
    """Each member with a reader of its bytes. Whatever of a member the caller does not read
    is skipped before the next header is read."""
    buffer = _Buffer(stream)
    global_path: str | None = None
    pending: dict[str, str] = {}  # from long-name / PAX headers, for the next member
    after_meta = False
    while True:
        start = buffer.offset
        block = buffer.take(BLOCK)
        if len(block) < BLOCK or block == _ZERO_BLOCK:
            if after_meta:
                raise tarfile.ReadError("missing or bad subsequent header")
            if start == 0 and len(block) < BLOCK:
                raise tarfile.ReadError("empty file" if not block else "truncated header")
            return
        try:
            if not _checksum_ok(block):
                raise tarfile.InvalidHeaderError("bad checksum")
            _numbers_ok(block)
            size = max(0, _number(block[124:136]))
            typeflag = block[156:157]
            if typeflag in _META_TYPES:
                if size > MAX_META_BYTES:
                    raise tarfile.ReadError(
                        f"a long-name or pax header of {size} bytes (at most {MAX_META_BYTES})"
                    )
                padded = size + _padding(size)
                data = buffer.take(padded)
                if len(data) < padded:
                    raise tarfile.ReadError("unexpected end of data")
                body = data[:size]
                records = {} if typeflag in (_GNU_LONGNAME, _GNU_LONGLINK) else _pax_records(body)
        except tarfile.InvalidHeaderError as exc:
            if start == 0:
                raise tarfile.ReadError(str(exc)) from None
            if after_meta:
                raise tarfile.ReadError("missing or bad subsequent header") from None
            return
        after_meta = typeflag in _META_TYPES
        if after_meta:
            if typeflag == _GNU_LONGNAME:
                pending.setdefault("path", _text(body))
            elif typeflag == _PAX_GLOBAL:
                global_path = records.get("path", global_path)
            elif typeflag in _PAX_MEMBERS:
                for key, value in records.items():
                    pending.setdefault(key, value)
            continue
        header_name = _text(block[0:100])
        prefix = _text(block[345:500])
        if prefix and typeflag != _GNU_SPARSE:  # (long-name headers never get here)
            header_name = f"{prefix}/{header_name}"
        kind = _kind(typeflag, header_name)
        if kind == "file" and "sparse" in pending:
            kind = "sparse"
        name = pending.get("path") or global_path or header_name
        if "size" in pending:
            size = _size_record(pending["size"])
        pending = {}
        if typeflag == _GNU_SPARSE:
            _skip_sparse_extensions(buffer, block)
        # Like tarfile, only file-like and unknown members have data blocks; a directory, link
        # or device is its header alone, whatever its size field says.
        data_size = size if kind in ("file", "sparse", "other") else 0
        reader = MemberReader(buffer, data_size)
        yield TarMember(name.rstrip("/") if kind == "dir" else name, size, kind), reader
        reader.skip(_padding(data_size))
