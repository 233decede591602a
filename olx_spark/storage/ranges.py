"""Byte ranges of a source file, local or S3: one range as a stream, or a whole object as a
seekable file that fetches only the ranges it is asked for.

A data package is a zip; its central directory (at the end) says where each member's bytes are.
The driver reads just that directory through `SeekableObject`, and each executor streams only
its own member's bytes with `open_range`, so one member is one Spark task and nobody downloads a
whole package to read part of it.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, BinaryIO, cast

from olx_spark.config import S3Config
from olx_spark.storage.listing import is_s3
from olx_spark.storage.reading import local_path
from olx_spark.storage.s3 import s3_client, split_s3_uri

BLOCK_BYTES = 1024 * 1024


class _Limited(io.RawIOBase):
    """At most `length` bytes of `handle`, from where it stands."""

    def __init__(self, handle: BinaryIO, length: int) -> None:
        super().__init__()
        self._handle = handle
        self._left = length

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._left <= 0:
            return 0
        view = memoryview(buffer).cast("B")
        n = self._handle.readinto(view[: min(len(view), self._left)])  # type: ignore[attr-defined]
        if not n:
            raise EOFError(f"the file ended {self._left} bytes before the range did")
        self._left -= n
        return int(n)


@contextmanager
def open_range(uri: str, start: int, length: int, s3: S3Config) -> Iterator[BinaryIO]:
    """Bytes [start, start + length) of `uri` as a stream (S3: one ranged GET, streamed)."""
    if length <= 0:
        yield io.BytesIO(b"")
        return
    if is_s3(uri):
        bucket, key = split_s3_uri(uri)
        body = s3_client(s3).get_object(
            Bucket=bucket, Key=key, Range=f"bytes={start}-{start + length - 1}"
        )["Body"]
        try:
            yield cast(BinaryIO, body)
        finally:
            body.close()
    else:
        with open(local_path(uri), "rb") as handle:
            handle.seek(start)
            yield cast(BinaryIO, io.BufferedReader(_Limited(handle, length)))


class SeekableObject(io.RawIOBase):
    """A read-only, seekable view of an S3 object that GETs 1 MiB blocks as they are needed
    (for `zipfile`, which seeks to the end for the central directory and reads only that)."""

    def __init__(self, uri: str, size: int, s3: S3Config) -> None:
        super().__init__()
        self._bucket, self._key = split_s3_uri(uri)
        self._client = s3_client(s3)
        self._size = size
        self._pos = 0
        self._block_start = -1
        self._block = b""

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self._pos, os.SEEK_END: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def _load(self, position: int, wanted: int) -> None:
        end = min(self._size, position + max(wanted, BLOCK_BYTES)) - 1
        body = self._client.get_object(
            Bucket=self._bucket, Key=self._key, Range=f"bytes={position}-{end}"
        )["Body"]
        try:
            self._block = body.read()
        finally:
            body.close()
        self._block_start = position

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        if self._pos >= self._size or not len(view):
            return 0
        offset = self._pos - self._block_start
        if self._block_start < 0 or not 0 <= offset < len(self._block):
            self._load(self._pos, len(view))
            offset = 0
        n = min(len(view), len(self._block) - offset)
        view[:n] = self._block[offset : offset + n]
        self._pos += n
        return n


@contextmanager
def open_seekable(uri: str, size: int, s3: S3Config) -> Iterator[BinaryIO]:
    """The whole file, seekable: a local file as it is, an S3 object as a `SeekableObject`."""
    if is_s3(uri):
        yield cast(BinaryIO, io.BufferedReader(SeekableObject(uri, size, s3), BLOCK_BYTES))
    else:
        with open(local_path(uri), "rb") as handle:
            yield handle
