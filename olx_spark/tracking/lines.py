"""A tracking log's plaintext, and its lines as Arrow arrays, in bulk, while the file streams past.

`Plaintext` turns a stream into plaintext chunks: gzip is recognised by its magic bytes (one or
more gzip members, as `cat a.gz b.gz` makes) and inflated with `zlib`, anything else is passed
through. It hashes and counts the plaintext as it goes. A damaged gzip stream (truncated, corrupt,
followed by garbage) does not raise: the chunks end where the damage is and `damage` says what
happened, so the lines before it can still be loaded. Errors of the underlying stream (storage,
decryption) are not damage and propagate.

`LineSplitter` cuts chunks into Arrow arrays of lines with Arrow's kernels (Python touches a chunk
a handful of times, never a line, when the text is valid UTF-8). A line that cannot be read as
text comes out with a `read_error`: not UTF-8, longer than the limit (only its start is kept,
the rest is skipped without being held), or cut off by the damage that ended the file.

Blank lines (empty, or ASCII whitespace only: what a `\r\n` file, a trailing newline too many
or a padded log leaves) are not lines: they are skipped, neither emitted nor counted, and every
other line keeps its own number in the file (so the numbers skip the blank ones). Any other
text that is no event (a comment, a syslog header alone) is a line, and a bad one later.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

GZIP_MAGIC = b"\x1f\x8b"
NEWLINE = b"\n"
COMPRESSION_NONE = "none"
COMPRESSION_GZIP = "gzip"

DAMAGE_TRUNCATED = "truncated"
DAMAGE_CORRUPT = "corrupt"
DAMAGE_TRAILING = "trailing_data"

ERROR_NOT_UTF8 = "the line is not valid UTF-8 (invalid bytes shown as U+FFFD)"
ERROR_CUT_OFF = "the line is cut off where the file is damaged"


def too_long_error(limit: int, size: int) -> str:
    return f"the line is {size} bytes, longer than {limit} (tracking.max_line_bytes): only its start is kept"


@dataclass(frozen=True)
class Damage:
    kind: str  # truncated / corrupt / trailing_data
    message: str


class Plaintext:
    """The plaintext of `raw` (gzip or not) as chunks of about `chunk_bytes`."""

    def __init__(self, raw: BinaryIO, chunk_bytes: int) -> None:
        self._raw = raw
        self._chunk = max(chunk_bytes, 1)
        self._sha = hashlib.sha256()
        self.size = 0
        self.compression = COMPRESSION_NONE
        self.damage: Damage | None = None

    @property
    def sha256(self) -> str:
        return self._sha.hexdigest()

    def _emit(self, data: bytes) -> bytes:
        self._sha.update(data)
        self.size += len(data)
        return data

    def _read_start(self) -> bytes:
        """The first chunk, at least two bytes long unless the stream is shorter."""
        first = self._raw.read(self._chunk)
        while 0 < len(first) < len(GZIP_MAGIC):
            more = self._raw.read(self._chunk)
            if not more:
                break
            first += more
        return first

    def chunks(self) -> Iterator[bytes]:
        first = self._read_start()
        if first.startswith(GZIP_MAGIC):
            yield from self._gunzip(first)
            return
        if first:
            yield self._emit(first)
        while chunk := self._raw.read(self._chunk):
            yield self._emit(chunk)

    def drain(self) -> None:
        """Read the rest of the stream without using it (a decrypting stream reports its verdict
        only at its end)."""
        while self._raw.read(self._chunk):
            pass

    def _gunzip(self, pending: bytes) -> Iterator[bytes]:
        self.compression = COMPRESSION_GZIP
        inflater = zlib.decompressobj(31)
        while True:
            if not pending:
                pending = self._raw.read(self._chunk)
                if not pending:
                    break
            if inflater.eof:  # after a member: another member, padding, or garbage
                if not pending.strip(b"\0"):
                    pending = b""
                    continue
                if not GZIP_MAGIC.startswith(pending[:2]):
                    self.damage = Damage(
                        DAMAGE_TRAILING,
                        f"the gzip data is followed by bytes that are not gzip, after "
                        f"{self.size} plaintext bytes; they were not read",
                    )
                    return
                inflater = zlib.decompressobj(31)
            try:
                out = inflater.decompress(pending, self._chunk)
            except zlib.error as exc:
                self.damage = Damage(
                    DAMAGE_CORRUPT,
                    f"the gzip data is corrupt after {self.size} plaintext bytes ({exc}); "
                    "the rest of the file was not read",
                )
                return
            pending = inflater.unused_data if inflater.eof else inflater.unconsumed_tail
            if out:
                yield self._emit(out)
        if not inflater.eof:
            try:
                rest = inflater.flush()
            except zlib.error:
                rest = b""
            if rest:
                yield self._emit(rest)
            if not inflater.eof:
                self.damage = Damage(
                    DAMAGE_TRUNCATED,
                    f"the gzip stream ends early, after {self.size} plaintext bytes: the file "
                    "is truncated",
                )


@dataclass(frozen=True)
class LineBatch:
    numbers: pa.Array  # int64, 1-based line numbers
    lines: pa.Array  # string
    errors: pa.Array  # string: why the line could not be read as text, else null

    def __len__(self) -> int:
        return len(self.numbers)


def _split(body: bytes) -> pa.Array:
    """`body` (lines joined by newlines, no final newline) -> a binary array of its lines."""
    return pc.split_pattern(pa.array([body], pa.large_binary()), pattern=NEWLINE).flatten()


def _head(data: bytes, keep_bytes: int) -> str:
    return data[:keep_bytes].decode("utf-8", errors="replace")


def _blank(data: bytes) -> bool:
    """Whether `data` is a blank line: empty, or ASCII whitespace only."""
    return not data or data.isspace()


def _without_blanks(batch: LineBatch) -> LineBatch:
    """`batch` without its blank lines (the common case, none, costs one pass of a kernel that
    stops at a line's first non-blank byte)."""
    lines = batch.lines
    blank = pc.or_(pc.equal(pc.binary_length(lines), 0), pc.ascii_is_space(lines))
    if not pc.any(blank).as_py():
        return batch
    keep = pc.invert(blank)
    return LineBatch(batch.numbers.filter(keep), lines.filter(keep), batch.errors.filter(keep))


@dataclass
class LineSplitter:
    """Feed plaintext chunks, get `LineBatch`es; `finish()` flushes the last line."""

    max_line_bytes: int
    keep_bytes: int = 64 * 1024  # of a too-long line, the start kept as its text
    count: int = 0  # lines read so far, blank ones included: the last line's number
    _rest: bytes = b""
    _long_head: bytes | None = None  # start of the too-long line being skipped
    _long_size: int = 0
    _long_blank: bool = False  # the too-long line is whitespace so far
    _pending: list[tuple[int, str, str]] = field(default_factory=list)

    def _start_long(self, data: bytes) -> None:
        self._long_head = data[: self.keep_bytes]
        self._long_size = len(data)
        self._long_blank = _blank(data)

    def _end_long(self, tail_size: int) -> None:
        assert self._long_head is not None
        self.count += 1
        size = self._long_size + tail_size
        if not self._long_blank:
            self._pending.append(
                (
                    self.count,
                    _head(self._long_head, self.keep_bytes),
                    too_long_error(self.max_line_bytes, size),
                )
            )
        self._long_head = None
        self._long_size = 0

    def feed(self, chunk: bytes) -> Iterator[LineBatch]:
        if self._long_head is not None:
            cut = chunk.find(NEWLINE)
            tail = chunk if cut < 0 else chunk[:cut]
            self._long_blank = self._long_blank and _blank(tail)
            if cut < 0:
                self._long_size += len(chunk)
                return
            self._end_long(cut)
            chunk = chunk[cut + 1 :]
        buffer = self._rest + chunk if self._rest else chunk
        cut = buffer.rfind(NEWLINE)
        if cut < 0:
            self._rest = b""
            if len(buffer) > self.max_line_bytes:
                self._start_long(buffer)
            else:
                self._rest = buffer
            yield from self._flush_pending()
            return
        self._rest = buffer[cut + 1 :]
        if len(self._rest) > self.max_line_bytes:
            self._start_long(self._rest)
            self._rest = b""
        yield from self._flush_pending()
        batch = self._batch(_split(buffer[:cut]))
        if len(batch):
            yield batch

    def finish(self, cut_off: bool = False) -> Iterator[LineBatch]:
        """The last line (no newline after it). `cut_off`: the file ended in damage, so the last
        line is incomplete."""
        if self._long_head is not None:
            self._end_long(0)
        yield from self._flush_pending()
        if self._rest:
            rest, self._rest = self._rest, b""
            batch = self._batch(pa.array([rest], pa.large_binary()))
            if not len(batch):  # blank (even where the damage cut it off: nothing is lost)
                return
            if cut_off:
                batch = LineBatch(
                    batch.numbers, batch.lines, pa.array([ERROR_CUT_OFF], pa.string())
                )
            yield batch

    def _flush_pending(self) -> Iterator[LineBatch]:
        if not self._pending:
            return
        numbers, lines, errors = zip(*self._pending, strict=True)
        self._pending = []
        yield LineBatch(
            pa.array(numbers, pa.int64()),
            pa.array(lines, pa.string()),
            pa.array(errors, pa.string()),
        )

    def _batch(self, raw: pa.Array) -> LineBatch:
        """The lines `raw`, numbered on from `count`, blank ones left out."""
        n = len(raw)
        first = self.count + 1
        self.count += n
        lengths = pc.binary_length(raw)
        too_long = pc.greater(lengths, self.max_line_bytes)
        if not pc.any(too_long).as_py():
            try:
                lines = raw.cast(pa.string())
            except pa.ArrowInvalid:
                pass
            else:
                numbers = pa.array(np.arange(first, first + n, dtype=np.int64))
                return _without_blanks(LineBatch(numbers, lines, pa.nulls(n, pa.string())))
        # Rare: some line is not UTF-8 or too long. Only now does Python look at lines one by one.
        kept: list[int] = []
        texts: list[str] = []
        errors: list[str | None] = []
        for number, value in enumerate(raw.to_pylist(), first):
            if _blank(value):
                continue
            kept.append(number)
            if len(value) > self.max_line_bytes:
                texts.append(_head(value, self.keep_bytes))
                errors.append(too_long_error(self.max_line_bytes, len(value)))
                continue
            try:
                texts.append(value.decode("utf-8"))
                errors.append(None)
            except UnicodeDecodeError:
                texts.append(value.decode("utf-8", errors="replace"))
                errors.append(ERROR_NOT_UTF8)
        return LineBatch(
            pa.array(kept, pa.int64()), pa.array(texts, pa.string()), pa.array(errors, pa.string())
        )


def read_lines(
    plaintext: Plaintext, max_line_bytes: int, keep_bytes: int = 64 * 1024
) -> Iterator[LineBatch]:
    """Every line of `plaintext`, in batches of about one chunk; the last line of a damaged file
    is marked cut off. `plaintext.damage` tells afterwards whether the file was read to its end."""
    splitter = LineSplitter(max_line_bytes, keep_bytes)
    for chunk in plaintext.chunks():
        yield from splitter.feed(chunk)
    yield from splitter.finish(cut_off=plaintext.damage is not None)
