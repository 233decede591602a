"""The org-level email opt-in CSV -> records (lists of strings), with line numbers.

Unlike the `.sql` dumps this is real CSV (comma separated, double quotes, quoted values may span
lines), so it is read with Python's C `csv` reader; values stay strings exactly as written (an
empty field is an empty string). Records whose field count differs from the header's are
returned apart, re-serialised as CSV, with their line number and a reason.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from olx_spark.packages.tsv import field_count_reason


@dataclass
class CsvChunk:
    numbers: list[int] = field(default_factory=list)  # line where each record starts
    records: list[list[str]] = field(default_factory=list)
    bad: list[tuple[int, str, str]] = field(default_factory=list)  # (line, text, reason)


def _as_line(record: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(record)  # quotes values holding newlines
    return out.getvalue().removesuffix("\n")


def read_csv(stream: BinaryIO, chunk_rows: int) -> tuple[list[str], Iterator[CsvChunk]]:
    """(header, chunks of records). Raises UnicodeDecodeError for text that is not UTF-8.

    The stream is left open (and positioned at its end once the chunks are consumed)."""
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    reader = csv.reader(text, strict=False)
    header = next(reader, None)
    if header is None:
        text.detach()
        return [], iter(())

    def chunks() -> Iterator[CsvChunk]:
        try:
            yield from _records(reader, header, chunk_rows)
        finally:
            text.detach()

    return header, chunks()


def _records(reader: Any, header: list[str], chunk_rows: int) -> Iterator[CsvChunk]:
    chunk = CsvChunk()
    previous_end = reader.line_num
    for record in reader:
        start, previous_end = previous_end + 1, reader.line_num
        if not record:
            continue  # a blank line holds nothing
        if len(record) != len(header):
            reason = field_count_reason(len(record), len(header))
            chunk.bad.append((start, _as_line(record), reason))
        else:
            chunk.numbers.append(start)
            chunk.records.append(record)
        if len(chunk.records) >= chunk_rows:
            yield chunk
            chunk = CsvChunk()
    if chunk.records or chunk.bad:
        yield chunk
