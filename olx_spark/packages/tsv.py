"""The `.sql` dumps' format, decoded one value at a time: the reference the Spark job is held to.

A dump is tab-separated UTF-8 text, one row per `\\n`-ended line, the first line the header; no
quoting; a SQL NULL is the four letters `NULL`; inside a value `\\\\` is a backslash and `\\t`,
`\\n`, `\\r` are a tab, a newline and a carriage return. Any other backslash is kept as it is.
Decoding is one left-to-right pass, so `\\\\t` is a backslash and a `t` (never a tab): that is what
keeps `courseware_studentmodule.state` (JSON, whose backslashes were doubled) intact.

The Spark job does the same with built-in functions (`olx_spark.spark.data_packages_land`);
this module decodes in Python for the tests, for a dump's header and for the first row the executor
peeks at. It also decides the column names a header lands as (`landed_columns`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

NULL = "NULL"
SEPARATOR = "\t"
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)
_ESCAPES = {"\\": "\\", "t": "\t", "n": "\n", "r": "\r"}
# Characters Delta refuses in column names (without column mapping), and what replaces them.
_UNSAFE_COLUMN = re.compile(r"[ ,;{}()\n\t=]+")


def decode_value(value: str) -> str | None:
    """One field as it appears in a dump -> its value (None for `NULL`)."""
    if value == NULL:
        return None
    if "\\" not in value:
        return value
    return _ESCAPE.sub(lambda m: _ESCAPES.get(m[1], m[0]), value)


def split_line(line: str) -> list[str]:
    """A line (without its `\\n`) -> its raw fields. Escaped tabs are `\\t`, so every real tab
    separates two fields."""
    return line.split(SEPARATOR)


def decode_line(line: str) -> list[str | None]:
    return [decode_value(v) for v in split_line(line)]


def parse_header(line: str) -> list[str]:
    """The header line -> the column names as the file gives them (decoded, never NULL)."""
    return [decode_value(v) or "" for v in split_line(line)]


def decode_dump(text: str) -> tuple[list[str], list[list[str | None]], list[tuple[int, str]]]:
    """A whole dump -> (header, rows, bad lines as (line number, reason)). For tests and small
    files; the job never holds a dump in memory."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if not lines:
        return [], [], []
    header = parse_header(lines[0])
    rows: list[list[str | None]] = []
    bad: list[tuple[int, str]] = []
    for number, line in enumerate(lines[1:], start=2):
        fields = split_line(line)
        if len(fields) != len(header):
            bad.append((number, field_count_reason(len(fields), len(header))))
        else:
            rows.append([decode_value(v) for v in fields])
    return header, rows, bad


def field_count_reason(found: int | str, expected: int) -> str:
    return f"{found} fields where the header has {expected}"


def landed_columns(header: Iterable[str], reserved: Iterable[str]) -> list[str]:
    """The column names a header lands as, in order, one per header field.

    Names are kept as the file gives them except that characters Delta refuses become `_`, an
    empty name becomes `column_{n}`, a name equal (ignoring case) to one of the `reserved`
    columns the job adds (`course_id`, `file_uri`, ...) gets a `source_` prefix, and a repeated
    name gets `_2`, `_3`, ... (Spark compares names ignoring case).
    """
    reserved_lower = {r.lower() for r in reserved}
    taken = set(reserved_lower)
    out: list[str] = []
    for number, raw in enumerate(header, start=1):
        name = _UNSAFE_COLUMN.sub("_", raw.strip()) or f"column_{number}"
        if name.lower() in reserved_lower:
            name = f"source_{name}"
        candidate, n = name, 1
        while candidate.lower() in taken:
            n += 1
            candidate = f"{name}_{n}"
        taken.add(candidate.lower())
        out.append(candidate)
    return out
