"""A minimal streaming tar reader: headers and member bytes, one pass, no per-member layers.

The standard library's `tarfile` in stream mode costs ~35 µs of Python per member before a
byte of it is read (a `TarInfo` with a dozen parsed fields, a `_Stream` that re-slices its
buffer, an `ExFileObject` and a `BufferedReader` per member), which on course exports of
hundreds of thousands of small XML files was over a third of the parser's time
(benchmarks/RESULTS.md, issue 19). This reader keeps one buffer filled in large reads from the
decompressed stream and parses only what the parser needs: a member's name, size and kind.

It reads the formats exporters write (POSIX ustar with its name prefix, GNU long names, PAX
`path` and `size` records, global or per member) and behaves like `tarfile` on damaged input,
which the hostile-archive tests pin: an empty stream or a first header that is not a tar header
is a `tarfile.ReadError`; a stream that ends inside a member's bytes or their padding (read or
not) is "unexpected end of data"; a later header that fails its checksum, or a stream that ends
exactly between members, ends the listing (a truncated gzip is still caught when the rest of the
stream is drained).
"""

from __future__ import annotations

import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

BLOCK = 512
READ_BYTES = 1024 * 1024  # one read from the decompressed stream
_ZERO_BLOCK = bytes(BLOCK)

_FILE_TYPES = frozenset({b"0", b"\0", b"7"})
_LINK_TYPES = frozenset({b"1", b"2"})
_DEVICE_TYPES = frozenset({b"3", b"4", b"6"})
_GNU_LONGNAME, _GNU_LONGLINK, _GNU_SPARSE = b"L", b"K", b"S"
_PAX_MEMBER, _PAX_GLOBAL = b"x", b"g"
_META_TYPES = frozenset({_GNU_LONGNAME, _GNU_LONGLINK, _PAX_MEMBER, _PAX_GLOBAL})


class _Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


@dataclass(frozen=True)
class TarMember:
    """One member as listed: its name (as written), size in bytes and kind: `file`, `dir`,
    `link`, `device` or `other` (sparse files, volume labels...)."""

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
        data = self._data[self._pos : self._pos + size]
        self._pos += len(data)
        self.offset += len(data)
        return data

    def take_some(self, most: int) -> bytes:
        """Up to `most` bytes (at least one unless the stream has ended)."""
        if self._pos == len(self._data):
            self._fill(1)
        data = self._data[self._pos : self._pos + most]
        self._pos += len(data)
        self.offset += len(data)
        return data

    def _fill(self, size: int) -> None:
        parts = [self._data[self._pos :]]
        have = len(parts[0])
        while have < size:
            chunk = self._stream.read(max(READ_BYTES, size - have))
            if not chunk:
                break
            parts.append(chunk)
            have += len(chunk)
        self._data = b"".join(parts)
        self._pos = 0


class MemberReader:
    """A member's bytes, read in chunks like a file; raises if the stream ends inside them."""

    def __init__(self, buffer: _Buffer, size: int) -> None:
        self._buffer = buffer
        self._left = size

    def read(self, size: int = -1, /) -> bytes:
        if self._left == 0:
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


def _pax_records(data: bytes) -> dict[str, str]:
    """`length key=value\\n` records (only those this reader uses are kept)."""
    records: dict[str, str] = {}
    pos = 0
    while pos < len(data):
        space = data.find(b" ", pos)
        if space < 0:
            break
        try:
            length = int(data[pos:space])
        except ValueError:
            raise tarfile.InvalidHeaderError("invalid pax header") from None
        if length <= 0:
            break
        key, _, value = data[space + 1 : pos + length - 1].partition(b"=")
        if key in (b"path", b"size"):
            records[key.decode()] = value.decode("utf-8", "replace")
        pos += length
    return records


def _kind(typeflag: bytes, name: str) -> str:
    if typeflag in _FILE_TYPES:
        return "dir" if typeflag == b"\0" and name.endswith("/") else "file"
    if typeflag == b"5":
        return "dir"
    if typeflag in _LINK_TYPES:
        return "link"
    if typeflag in _DEVICE_TYPES:
        return "device"
    return "other"


def _padding(size: int) -> int:
    return -size % BLOCK


def iter_members(stream: _Readable) -> Iterator[tuple[TarMember, MemberReader]]:
    """Each member with a reader of its bytes. Whatever of a member the caller does not read
    is skipped before the next header is read."""
    buffer = _Buffer(stream)
    global_records: dict[str, str] = {}
    pending: dict[str, str] = {}  # a GNU long name or PAX records for the next member
    while True:
        start = buffer.offset
        block = buffer.take(BLOCK)
        after_meta = bool(pending)
        if len(block) < BLOCK or block == _ZERO_BLOCK:
            if start == 0:
                raise tarfile.ReadError("empty file" if not block else "truncated header")
            if after_meta:
                raise tarfile.ReadError("missing or bad subsequent header")
            return
        try:
            if not _checksum_ok(block):
                raise tarfile.InvalidHeaderError("bad checksum")
            size = _number(block[124:136])
        except tarfile.InvalidHeaderError as exc:
            if start == 0:
                raise tarfile.ReadError(str(exc)) from None
            if after_meta:
                raise tarfile.ReadError("missing or bad subsequent header") from None
            return
        typeflag = block[156:157]
        if typeflag in _META_TYPES:
            padded = size + _padding(size)
            data = buffer.take(padded)
            if len(data) < padded:
                raise tarfile.ReadError("unexpected end of data")
            data = data[:size]
            if typeflag == _GNU_LONGNAME:
                pending["path"] = _text(data)
            elif typeflag == _PAX_MEMBER:
                pending.update(_pax_records(data))
            elif typeflag == _PAX_GLOBAL:
                global_records.update(_pax_records(data))
            pending.setdefault("", "")  # a header must follow, even for a long link or global
            continue
        name = _text(block[0:100])
        prefix = _text(block[345:500])
        if prefix and typeflag not in (_GNU_LONGNAME, _GNU_LONGLINK, _GNU_SPARSE):
            name = f"{prefix}/{name}"
        records = {**global_records, **pending}
        records.pop("", None)
        pending = {}
        name = records.get("path", name)
        if "size" in records:
            try:
                size = int(records["size"])
            except ValueError:
                raise tarfile.ReadError("invalid size in pax header") from None
        kind = _kind(typeflag, name)
        # Like tarfile, only regular and unknown members have data blocks; a directory, link or
        # device is its header alone, whatever its size field says.
        data_size = size if kind in ("file", "other") else 0
        reader = MemberReader(buffer, data_size)
        yield TarMember(name.rstrip("/") if kind == "dir" else name, size, kind), reader
        reader.skip(_padding(data_size))
