"""A package zip's members: listed from the central directory, each read from its own byte range.

`list_members` runs on the driver against a seekable file (only the central directory is read).
`open_member` runs on an executor: given where a member's local header is, it reads that header
and then only the member's compressed bytes, inflating as they stream and checking the size and
CRC-32 the directory declared. Nothing is extracted to disk. A member inflating past its declared
size is stopped at once (a zip bomb does not get to inflate).
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any, BinaryIO

CHUNK_BYTES = 1024 * 1024
LOCAL_HEADER = struct.Struct("<4sHHHHHIIIHH")
LOCAL_HEADER_SIGNATURE = b"PK\x03\x04"
STORED = zipfile.ZIP_STORED
DEFLATED = zipfile.ZIP_DEFLATED

RangeOpener = Callable[[int, int], AbstractContextManager[BinaryIO]]


class ZipMemberError(Exception):
    """A member that cannot be read (corrupt, unsupported, encrypted); the message says which."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


@dataclass(frozen=True)
class ZipMember:
    path: str
    header_offset: int
    compress_size: int
    file_size: int
    compress_type: int
    crc: int
    flag_bits: int


def list_members(fileobj: BinaryIO) -> list[ZipMember]:
    """Every file member of the zip (directories left out), in directory order."""
    with zipfile.ZipFile(fileobj) as archive:
        return [
            ZipMember(
                path=info.filename,
                header_offset=info.header_offset,
                compress_size=info.compress_size,
                file_size=info.file_size,
                compress_type=info.compress_type,
                crc=info.CRC,
                flag_bits=info.flag_bits,
            )
            for info in archive.infolist()
            if not info.is_dir()
        ]


class _MemberReader(io.RawIOBase):
    def __init__(self, raw: BinaryIO, member: ZipMember) -> None:
        super().__init__()
        self._raw = raw
        self._member = member
        self._inflater = zlib.decompressobj(-15) if member.compress_type == DEFLATED else None
        self._pending = b""
        self._crc = 0
        self._size = 0
        self._done = False

    def readable(self) -> bool:
        return True

    def _produce(self) -> bytes:
        if self._inflater is None:
            return self._raw.read(CHUNK_BYTES)
        if self._inflater.unconsumed_tail:
            return self._inflater.decompress(self._inflater.unconsumed_tail, CHUNK_BYTES)
        while True:
            chunk = self._raw.read(CHUNK_BYTES)
            if not chunk:
                return self._inflater.flush()
            data = self._inflater.decompress(chunk, CHUNK_BYTES)
            if data or self._inflater.unconsumed_tail:
                return data

    def _check_end(self) -> None:
        if self._size != self._member.file_size:
            raise ZipMemberError(
                "corrupt",
                f"{self._member.path} is truncated: {self._size} bytes where the zip directory "
                f"says {self._member.file_size}",
            )
        if self._crc != self._member.crc:
            raise ZipMemberError("corrupt", f"{self._member.path} fails its CRC-32 check")

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        while not self._pending:
            if self._done:
                return 0
            try:
                data = self._produce()
            except zlib.error as exc:
                raise ZipMemberError(
                    "corrupt", f"{self._member.path} cannot be inflated ({exc})"
                ) from None
            if not data:
                self._done = True
                self._check_end()
                return 0
            self._size += len(data)
            if self._size > self._member.file_size:
                raise ZipMemberError(
                    "too_large",
                    f"{self._member.path} inflates past the {self._member.file_size} bytes its "
                    "zip directory declares; it was not read further",
                )
            self._crc = zlib.crc32(data, self._crc)
            self._pending = data
        n = min(len(view), len(self._pending))
        view[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n


@contextmanager
def open_member(open_range: RangeOpener, member: ZipMember) -> Iterator[BinaryIO]:
    """The member's decompressed bytes as a stream; `open_range(start, length)` opens a byte
    range of the zip."""
    if member.flag_bits & 0x1:
        raise ZipMemberError("encrypted_zip", f"{member.path} is encrypted with zip encryption")
    if member.compress_type not in (STORED, DEFLATED):
        raise ZipMemberError(
            "unsupported",
            f"{member.path} uses zip compression method {member.compress_type}; "
            "only stored and deflated members are supported",
        )
    with open_range(member.header_offset, LOCAL_HEADER.size) as head_stream:
        head = head_stream.read(LOCAL_HEADER.size)
    if len(head) != LOCAL_HEADER.size or not head.startswith(LOCAL_HEADER_SIGNATURE):
        raise ZipMemberError("corrupt", f"{member.path}: no local file header where expected")
    fields = LOCAL_HEADER.unpack(head)
    name_length, extra_length = fields[9], fields[10]
    start = member.header_offset + LOCAL_HEADER.size + name_length + extra_length
    with open_range(start, member.compress_size) as raw:
        yield io.BufferedReader(_MemberReader(raw, member), CHUNK_BYTES)
