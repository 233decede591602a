"""course_structure JSON, forum extended JSON and the email opt-in CSV, decoded exactly."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime

import pytest

from olx_spark.packages.course_structure import (
    CourseStructureError,
    course_id_of_usage_key,
    parse_course_structure,
)
from olx_spark.packages.email_opt_in import read_csv
from olx_spark.packages.forum import ForumDocumentError, decode_extended_json, parse_forum_line
from tests.packages_fixtures import COURSE_ID, COURSE_STRUCTURE, EMAIL_OPT_IN, FORUM

B = "block-v1:MITx+6.00x+2024_T1+type@"


def test_course_structure_rows_with_parents_and_positions():
    rows, hint = parse_course_structure(COURSE_STRUCTURE.encode())
    assert hint == COURSE_ID
    assert [(r["block_id"], r["category"], r["parent_block_id"], r["position"]) for r in rows] == [
        (B + "course+block@course", "course", None, None),
        (B + "chapter+block@ch1", "chapter", B + "course+block@course", 0),
        (B + "chapter+block@ch2", "chapter", B + "course+block@course", 1),
    ]
    assert rows[0]["children"] == [B + "chapter+block@ch1", B + "chapter+block@ch2"]
    assert json.loads(rows[2]["metadata_json"]) == {"display_name": "Week 2", "graded": True}
    assert json.loads(rows[0]["block_json"]) == json.loads(COURSE_STRUCTURE)[rows[0]["block_id"]]


def test_old_style_course_structure_gives_the_slash_course_id():
    doc = {
        "i4x://MITx/6.002x/chapter/ch1": {"category": "chapter", "children": [], "metadata": {}},
        "i4x://MITx/6.002x/course/2012_Fall": {
            "category": "course",
            "children": ["i4x://MITx/6.002x/chapter/ch1"],
            "metadata": {},
        },
    }
    rows, hint = parse_course_structure(json.dumps(doc).encode())
    assert hint == "MITx/6.002x/2012_Fall"
    assert rows[0]["parent_block_id"] == "i4x://MITx/6.002x/course/2012_Fall"
    assert course_id_of_usage_key("i4x://MITx/6.002x/chapter/ch1") is None


def test_course_structure_that_is_not_an_object_is_an_error():
    with pytest.raises(CourseStructureError, match="JSON object"):
        parse_course_structure(b"[1, 2]")
    with pytest.raises(CourseStructureError, match="not valid JSON"):
        parse_course_structure(b"{nope")


def test_forum_documents_decode_extended_json():
    thread_line, comment_line, bad_line = FORUM.splitlines()
    thread = parse_forum_line(thread_line)
    assert thread["document_id"] == "65a000000000000000000001"
    assert (thread["document_type"], thread["document_course_id"]) == ("CommentThread", COURSE_ID)
    assert (thread["author_id"], thread["author_username"], thread["title"]) == (
        "1",
        "alice",
        "Hello",
    )
    assert thread["created_at"] == datetime(2024, 1, 1, tzinfo=UTC)
    assert thread["updated_at"] == datetime(2024, 1, 1, 0, 0, 1, 500_000, tzinfo=UTC)
    doc = json.loads(thread["document_json"])
    assert doc["_id"] == "65a000000000000000000001"
    assert doc["created_at"] == "2024-01-01T00:00:00.000Z"
    assert doc["votes"] == {"up_count": 3}

    comment = parse_forum_line(comment_line)
    assert comment["comment_thread_id"] == "65a000000000000000000001"
    assert comment["created_at"] == datetime(2024, 1, 2, tzinfo=UTC)
    assert comment["title"] is None

    with pytest.raises(ForumDocumentError, match="not valid JSON"):
        parse_forum_line(bad_line)


def test_extended_json_forms():
    assert decode_extended_json({"$numberDouble": "NaN"}) == "NaN"
    assert decode_extended_json({"$numberDecimal": "1.10"}) == "1.10"
    assert decode_extended_json({"$regex": "a", "$options": "i"}) == {
        "$regex": "a",
        "$options": "i",
    }
    assert decode_extended_json([{"$numberInt": "5"}]) == [5]


def test_email_opt_in_csv_records_with_quotes_and_bad_rows():
    text = EMAIL_OPT_IN + '3,carol,"multi\nline name"\n4,dave,d@example.org,Dave,x,True,\n'
    header, chunks = read_csv(io.BytesIO(text.encode()), chunk_rows=2)
    assert header[:3] == ["user_id", "username", "email"]
    got = list(chunks)
    records = [r for c in got for r in c.records]
    numbers = [n for c in got for n in c.numbers]
    bad = [b for c in got for b in c.bad]
    assert records[0] == [
        "1",
        "alice",
        "alice@example.org",
        "Alice, A.",
        COURSE_ID,
        "True",
        "2024-01-01 00:00:00",
    ]
    assert records[1][3] == 'Bob "B" Jones' and records[1][6] == ""
    assert numbers == [2, 3, 6]
    assert bad == [(4, '3,carol,"multi\nline name"', "3 fields where the header has 7")]
