"""A gzip stream whose deflate level can change from one tar member to the next.

zlib spends about 30 ms per MiB trying to compress random bytes at any level, to save under
0.1 %: archives of courses carry mostly media (videos, images, PDFs) that do not compress. So a
writer deflates text members and stores media members, in one deflate stream of segments: each
switch of level ends the segment with a sync flush so the next starts on a byte boundary (how
pigz joins independently compressed blocks). Any gzip reader sees one ordinary gzip member. The
synthetic corpus, `olx export` and `olx replace` write their `.tar.gz` through it.
"""

from __future__ import annotations

import mimetypes
import struct
import zlib
from typing import BinaryIO

MEDIA_LEVEL = 0
# The text level of the archives olx-spark writes for people (exports, edited courses): close to
# Studio's 9 in size, several times faster.
ARCHIVE_TEXT_LEVEL = 6
_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"  # deflate, no flags, mtime 0, OS unknown
_COMPRESSIBLE_TYPES = (
    "text/",
    "application/json",
    "application/javascript",
    "application/xml",
    "application/xhtml",
    "image/svg",
)
_MIME_TYPES = mimetypes.MimeTypes()  # built-in table only: the same answer on every machine


def member_level(path: str, text_level: int) -> int:
    """The deflate level for a member: `text_level`, or stored (0) for a file whose type says
    it is compressed already (images, video, audio, PDF, archives)."""
    kind = _MIME_TYPES.guess_type(path, strict=False)[0]
    return text_level if kind is None or kind.startswith(_COMPRESSIBLE_TYPES) else MEDIA_LEVEL


class SegmentedGzip:
    """A write-only gzip stream whose deflate level can change between writes."""

    def __init__(self, raw: BinaryIO, level: int) -> None:
        self._raw = raw
        self._level = level
        self._deflate = zlib.compressobj(level, zlib.DEFLATED, -zlib.MAX_WBITS)
        self._crc = 0
        self._size = 0
        raw.write(_GZIP_HEADER)

    def set_level(self, level: int) -> None:
        """Deflate what follows at `level` (ends the current segment with a sync flush)."""
        if level != self._level:
            self._raw.write(self._deflate.flush(zlib.Z_SYNC_FLUSH))
            self._deflate = zlib.compressobj(level, zlib.DEFLATED, -zlib.MAX_WBITS)
            self._level = level

    def write(self, data: bytes | memoryview) -> None:
        self._crc = zlib.crc32(data, self._crc)
        self._size += len(data)
        self._raw.write(self._deflate.compress(data))

    def tell(self) -> int:
        """Uncompressed bytes written so far."""
        return self._size

    def finish(self) -> None:
        """End the deflate stream and write the gzip trailer (CRC-32 and size mod 2**32)."""
        self._raw.write(self._deflate.flush(zlib.Z_FINISH))
        self._raw.write(struct.pack("<II", self._crc, self._size & 0xFFFFFFFF))
