"""Plaintext from plain and gzip streams (damage recorded, not raised) and lines in bulk, blank
lines skipped with the other lines keeping their numbers."""

from __future__ import annotations

import gzip
import hashlib
import io

import pytest

from olx_spark.tracking.lines import (
    ERROR_CUT_OFF,
    ERROR_NOT_UTF8,
    LineSplitter,
    Plaintext,
    read_lines,
)


def _plain(data: bytes, chunk: int = 7) -> Plaintext:
    return Plaintext(io.BytesIO(data), chunk)


def _read(data: bytes, chunk: int = 7, max_line: int = 1000, keep: int = 4):
    plaintext = _plain(data, chunk)
    batches = list(read_lines(plaintext, max_line, keep))
    rows = [
        (n, line, err)
        for b in batches
        for n, line, err in zip(
            b.numbers.to_pylist(), b.lines.to_pylist(), b.errors.to_pylist(), strict=True
        )
    ]
    return sorted(rows), plaintext


TEXT = b'{"a": 1}\n{"b": 2}\r\n\nlast line without newline'
LINES = [(1, '{"a": 1}', None), (2, '{"b": 2}\r', None)]  # line 3 is blank: not a line
LAST = (4, "last line without newline", None)


@pytest.mark.parametrize("chunk", [1, 3, 7, 1000])
def test_plain_lines_whatever_the_chunk_size(chunk):
    rows, plaintext = _read(TEXT, chunk)
    assert rows == [*LINES, LAST]
    assert plaintext.compression == "none" and plaintext.damage is None
    assert (plaintext.size, plaintext.sha256) == (len(TEXT), hashlib.sha256(TEXT).hexdigest())


@pytest.mark.parametrize("chunk", [1, 5, 64 * 1024])
def test_gzip_members_and_zero_padding(chunk):
    data = gzip.compress(TEXT[:20]) + gzip.compress(TEXT[20:]) + b"\0" * 10
    rows, plaintext = _read(data, chunk)
    assert rows == [*LINES, LAST]
    assert plaintext.compression == "gzip" and plaintext.damage is None
    assert plaintext.sha256 == hashlib.sha256(TEXT).hexdigest()


def test_empty_and_tiny_files():
    assert _read(b"")[0] == []
    assert _read(b"\x1f")[0] == [(1, "\x1f", None)]
    rows, plaintext = _read(gzip.compress(b""))
    assert rows == [] and plaintext.damage is None


def _big_text() -> bytes:
    return b"".join(b'{"n": %d, "pad": "%s"}\n' % (i, b"x" * (i % 50)) for i in range(5000))


def test_truncated_gzip_keeps_the_lines_before_the_damage():
    text = _big_text()
    whole = gzip.compress(text)
    rows, plaintext = _read(whole[: len(whole) // 2], chunk=4096, max_line=10_000, keep=1000)
    assert plaintext.damage is not None and plaintext.damage.kind == "truncated"
    assert "truncated" in plaintext.damage.message
    good = [r for r in rows if r[2] is None]
    assert len(good) > 1000
    assert [line for _, line, _ in good] == text.decode().split("\n")[: len(good)]
    (last,) = [r for r in rows if r[2] is not None]
    assert last[0] == len(good) + 1 and last[2] == ERROR_CUT_OFF
    assert text.decode().split("\n")[len(good)].startswith(last[1])
    assert plaintext.size == sum(len(line) + 1 for _, line, _ in good) + len(last[1].encode())


def test_corrupt_gzip_and_trailing_garbage_are_damage_not_exceptions():
    whole = bytearray(gzip.compress(_big_text()))
    whole[len(whole) // 2] ^= 0xFF
    _, plaintext = _read(bytes(whole), chunk=4096)
    assert plaintext.damage is not None and plaintext.damage.kind in ("corrupt", "truncated")

    rows, plaintext = _read(gzip.compress(b"one\ntwo\n") + b"garbage")
    assert rows == [(1, "one", None), (2, "two", None)]
    assert plaintext.damage is not None and plaintext.damage.kind == "trailing_data"

    bad_crc = bytearray(gzip.compress(b"one\ntwo\n"))
    bad_crc[-8] ^= 0xFF
    rows, plaintext = _read(bytes(bad_crc))
    assert plaintext.damage is not None and plaintext.damage.kind == "corrupt"
    assert rows[:2] == [(1, "one", None), (2, "two", None)]


def test_invalid_utf8_and_too_long_lines_are_flagged_and_the_rest_loads():
    data = b"ok\n\xff\xfebad\n" + b"L" * 50 + b"\nafter\n" + b"M" * 30
    rows, _ = _read(data, chunk=8, max_line=20, keep=4)
    assert rows[0] == (1, "ok", None)
    assert rows[1] == (2, "\ufffd\ufffdbad", ERROR_NOT_UTF8)
    assert rows[2][:2] == (3, "LLLL") and "50 bytes, longer than 20" in rows[2][2]
    assert rows[3] == (4, "after", None)
    assert rows[4][:2] == (5, "MMMM") and "30 bytes" in rows[4][2]
    assert len(rows) == 5


def test_a_long_line_inside_one_chunk_is_flagged_too():
    splitter = LineSplitter(max_line_bytes=5, keep_bytes=2)
    (batch,) = list(splitter.feed(b"abcdefgh\nab\nc"))
    assert batch.lines.to_pylist() == ["ab", "ab"]
    assert batch.errors.to_pylist()[1] is None and "8 bytes" in batch.errors.to_pylist()[0]
    (last,) = list(splitter.finish())
    assert (last.numbers.to_pylist(), last.lines.to_pylist()) == ([3], ["c"])


BLANKY = b'\n{"a": 1}\n\n   \n\t\r\n# a comment\r\n \x0b\x0c \n{"b": 2}\n\n'


@pytest.mark.parametrize("chunk", [1, 4, 1000])
def test_blank_lines_are_skipped_and_the_others_keep_their_numbers(chunk):
    rows, plaintext = _read(BLANKY, chunk)
    assert rows == [(2, '{"a": 1}', None), (6, "# a comment\r", None), (8, '{"b": 2}', None)]
    assert plaintext.size == len(BLANKY)  # skipped, yet hashed and counted as plaintext


def test_blank_lines_are_skipped_beside_a_line_that_is_not_utf8():
    # The slow path (Python looks at each line) skips them as the fast one does.
    rows, _ = _read(b"  \n\xffx\n\n\r\nok\n \t", chunk=1000)
    assert rows == [(2, "\ufffdx", ERROR_NOT_UTF8), (5, "ok", None)]


@pytest.mark.parametrize("chunk", [3, 1000])
def test_a_blank_line_longer_than_the_limit_is_skipped_not_flagged(chunk):
    data = b"a\n" + b" " * 50 + b"\t\nb\n" + b"x" + b" " * 49 + b"\nc\n" + b"\r" * 40
    rows, _ = _read(data, chunk=chunk, max_line=20, keep=4)
    assert rows[:2] == [(1, "a", None), (3, "b", None)]
    assert rows[2][:2] == (4, "x   ") and "50 bytes, longer than 20" in rows[2][2]
    assert rows[3:] == [(5, "c", None)]


def test_a_blank_last_line_cut_off_by_damage_is_skipped():
    whole = gzip.compress(b"one\ntwo\n" + b" " * 5000)
    rows, plaintext = _read(whole[:-12], chunk=64)
    assert plaintext.damage is not None and plaintext.damage.kind == "truncated"
    assert rows == [(1, "one", None), (2, "two", None)]
