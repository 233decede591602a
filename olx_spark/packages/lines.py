"""Cut a `.sql` dump into Arrow arrays of raw lines, in bulk, while it streams past.

The decrypted stream is read in large chunks; each chunk up to its last newline becomes one Arrow
string array of lines (split by Arrow's C++ kernels, not line by line in Python) and its field
counts are checked the same way, so Python touches a chunk a handful of times whatever its number
of lines. Decoding the values is left to Spark. Lines that are not valid UTF-8 or have the wrong
number of fields come out separately, with their line numbers and a reason.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from olx_spark.packages.tsv import SEPARATOR, field_count_reason

NEWLINE = b"\n"


class LineTooLong(ValueError):
    """A line longer than the limit: the file is not a dump (or is damaged)."""


@dataclass(frozen=True)
class LineChunk:
    numbers: pa.Array  # int64 line numbers (the header is line 1) of `lines`
    lines: pa.Array  # string: lines whose field count matches the header
    bad_numbers: pa.Array
    bad_lines: pa.Array
    bad_reasons: pa.Array


def read_header(stream: BinaryIO, max_line_bytes: int) -> str | None:
    """The first line, decoded (None for an empty file)."""
    raw = stream.readline(max_line_bytes + 1)
    if not raw:
        return None
    if len(raw) > max_line_bytes and not raw.endswith(NEWLINE):
        raise LineTooLong(f"the header line is longer than {max_line_bytes} bytes")
    return raw.removesuffix(NEWLINE).decode("utf-8", errors="replace")


def _split(body: bytes) -> pa.Array:
    """`body` (lines joined by newlines, no final newline) -> a binary array of its lines."""
    binary = pa.array([body], pa.large_binary())
    return pc.split_pattern(binary, pattern=NEWLINE).flatten()


def raw_line_arrays(stream: BinaryIO, chunk_bytes: int, max_line_bytes: int) -> Iterator[pa.Array]:
    """Binary arrays of consecutive lines (without their newlines), chunk by chunk."""
    rest = b""
    while True:
        chunk = stream.read(chunk_bytes)
        if not chunk:
            break
        buffer = rest + chunk if rest else chunk
        cut = buffer.rfind(NEWLINE)
        if cut < 0:
            if len(buffer) > max_line_bytes:
                raise LineTooLong(f"a line is longer than {max_line_bytes} bytes")
            rest = buffer
            continue
        rest = buffer[cut + 1 :]
        if len(rest) > max_line_bytes:
            raise LineTooLong(f"a line is longer than {max_line_bytes} bytes")
        yield _split(buffer[:cut])
    if rest:
        yield _split(rest)


def _as_strings(raw: pa.Array) -> tuple[pa.Array, pa.Array]:
    """(string array, validity mask): invalid UTF-8 lines are replaced and flagged."""
    try:
        return raw.cast(pa.string()), pa.repeat(pa.scalar(True), len(raw))
    except pa.ArrowInvalid:
        values = raw.to_pylist()
        valid = []
        texts = []
        for v in values:
            try:
                texts.append(v.decode("utf-8"))
                valid.append(True)
            except UnicodeDecodeError:
                texts.append(v.decode("utf-8", errors="replace"))
                valid.append(False)
        return pa.array(texts, pa.string()), pa.array(valid, pa.bool_())


def line_chunks(
    stream: BinaryIO, field_count: int, first_number: int, chunk_bytes: int, max_line_bytes: int
) -> Iterator[LineChunk]:
    """The lines of `stream` (positioned after the header), checked against `field_count`."""
    number = first_number
    for raw in raw_line_arrays(stream, chunk_bytes, max_line_bytes):
        n = len(raw)
        numbers = pa.array(np.arange(number, number + n, dtype=np.int64))
        number += n
        lines, valid_utf8 = _as_strings(raw)
        counts = pc.add(pc.count_substring(lines, pattern=SEPARATOR), 1)
        good = pc.and_(valid_utf8, pc.equal(counts, field_count))
        if pc.all(good).as_py():
            empty = pa.array([], pa.string())
            yield LineChunk(numbers, lines, pa.array([], pa.int64()), empty, empty)
            continue
        bad = pc.invert(good)
        reasons = pc.if_else(
            valid_utf8,
            pc.binary_join_element_wise(
                pc.cast(counts, pa.string()),
                pa.scalar(field_count_reason("", field_count)),
                "",
            ),
            pa.scalar("the line is not valid UTF-8"),
        )
        yield LineChunk(
            numbers.filter(good),
            lines.filter(good),
            numbers.filter(bad),
            lines.filter(bad),
            reasons.filter(bad),
        )
