"""The `.sql` dump format: the reference decoder, column naming, and bulk line chunking."""

from __future__ import annotations

import io
import json

from olx_spark.packages.lines import line_chunks, read_header
from olx_spark.packages.tsv import decode_dump, decode_line, decode_value, landed_columns
from tests.packages_fixtures import COURSE_ID, STUDENTMODULE


def test_decode_values():
    assert decode_value("NULL") is None
    assert decode_value("") == ""
    assert decode_value("null") == "null"
    assert decode_value("NULLS") == "NULLS"
    assert decode_value(r"a\tb\nc\rd\\e") == "a\tb\nc\rd\\e"
    # One pass, left to right: an escaped backslash followed by `t` is not a tab.
    assert decode_value(r"\\t") == "\\t"
    assert decode_value(r"\\\t") == "\\\t"
    # Unknown escapes and a trailing backslash are kept as they are.
    assert decode_value(r"\x\N\0") == r"\x\N\0"
    assert decode_value("end\\") == "end\\"


def test_studentmodule_state_json_survives_decoding():
    header, rows, bad = decode_dump(STUDENTMODULE)
    assert header == ["id", "module_type", "module_id", "student_id", "state", "grade", "course_id"]
    assert bad == [(4, "4 fields where the header has 7")]
    assert [r[0] for r in rows] == ["10", "11", "13"]
    assert json.loads(rows[0][4]) == {"answer": "a\tb", "path": "C:\\temp"}
    assert rows[0][4] == '{"answer": "a\\tb", "path": "C:\\\\temp"}'
    assert json.loads(rows[1][4]) == {"say": '"hi"', "lines": "one\ntwo"}
    assert rows[1][5] == "tab\there\nnew\\line"
    assert rows[2][4:] == [None, "", COURSE_ID]


def test_landed_columns_rename_reserved_unsafe_empty_and_repeated_names():
    reserved = ["course_id", "file_uri", "line_number"]
    header = ["id", "course_id", "Course_ID", "a b", "", "id", "ID", "x=y"]
    assert landed_columns(header, reserved) == [
        "id",
        "source_course_id",
        "source_Course_ID_2",
        "a_b",
        "column_5",
        "id_2",
        "ID_3",
        "x_y",
    ]


def test_line_chunks_match_the_reference_split():
    text = STUDENTMODULE + "14\tlast\tline\twithout\tnewline\tat\tend"
    stream = io.BufferedReader(io.BytesIO(text.encode("utf-8")))
    header = read_header(stream, 1 << 20)
    assert header is not None
    n = len(header.split("\t"))
    got, bad = [], []
    # A tiny chunk size forces lines to straddle chunks.
    for chunk in line_chunks(stream, n, 2, 7, 1 << 20):
        got += list(zip(chunk.numbers.to_pylist(), chunk.lines.to_pylist(), strict=True))
        bad += list(zip(chunk.bad_numbers.to_pylist(), chunk.bad_reasons.to_pylist(), strict=True))
    lines = text.split("\n")
    assert got == [(i, lines[i - 1]) for i in (2, 3, 5, 6)]
    assert bad == [(4, "4 fields where the header has 7")]
    assert decode_line(got[0][1])[4] == '{"answer": "a\\tb", "path": "C:\\\\temp"}'


def test_line_chunks_flag_invalid_utf8_and_keep_going():
    data = b"a\tb\n1\t2\n\xff\xfe\t3\n4\t5\n"
    stream = io.BufferedReader(io.BytesIO(data))
    read_header(stream, 100)
    chunks = list(line_chunks(stream, 2, 2, 1 << 20, 100))
    assert [c.numbers.to_pylist() for c in chunks] == [[2, 4]]
    assert chunks[0].bad_numbers.to_pylist() == [3]
    assert chunks[0].bad_reasons.to_pylist() == ["the line is not valid UTF-8"]


def test_empty_dump_has_no_header():
    assert read_header(io.BufferedReader(io.BytesIO(b"")), 100) is None
