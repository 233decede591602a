"""The executors' side of the xAPI job without Spark: actors (mapping, pseudonyms), skip
reasons, the org, and one output row per statement or skipped event."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from typing import Any

import pytest

from olx_spark.xapi.actor import Pseudonyms, actor_id
from olx_spark.xapi.batch import BatchSettings, org_of, transform_rows
from olx_spark.xapi.validate import problems

LMS = "https://lms.example.org"
PSEUDO = BatchSettings(LMS, "olx-spark@test", salt="s3cret", mapping=False)
MAPPED = BatchSettings(LMS, "olx-spark@test", salt="", mapping=True)
COURSE = "course-v1:ExampleX+CS101+2026_T1"


def _row(line: int, name: str | None, **values: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "file_sha256": "a" * 64,
        "line_number": line,
        "name": name,
        "event_source": "server",
        "event_time_raw": "2026-03-02T10:15:30.123456+00:00",
        "session": "s1",
        "course_id": COURSE,
        "org_id": "ExampleX",
        "event_json": json.dumps({"course_id": COURSE, "mode": "audit"}),
        "context_json": json.dumps({"course_id": COURSE, "user_id": 42}),
        "actor_user_id": 42,
        "actor_username": "alice",
    }
    row.update(values)
    return row


def test_pseudonyms_are_salted_hmacs_shaped_as_uuids() -> None:
    names = Pseudonyms("s3cret")
    digest = hmac.new(b"s3cret", b"42", hashlib.sha256).digest()
    assert names.for_user_id(42) == str(uuid.UUID(bytes=digest[:16], version=4))
    assert uuid.UUID(names.for_user_id(42)).version == 4
    assert names.for_user_id(42) != Pseudonyms("other").for_user_id(42)
    assert names.for_username("42") != names.for_user_id(42)
    assert actor_id(names, "ext-1", 42, "alice") == "ext-1"
    assert actor_id(names, None, None, "alice") == names.for_username("alice")
    assert actor_id(names, None, None, None) is None
    with pytest.raises(ValueError):
        Pseudonyms("")


def test_org_of_both_course_key_forms() -> None:
    assert org_of(COURSE, None) == "ExampleX"
    assert org_of("MITx/6.002x/2012_Fall", None) == "MITx"
    assert org_of(None, "ctxorg") == "ctxorg"
    assert org_of(None, "") is None


def test_rows_out_statements_and_skips() -> None:
    rows = [
        _row(1, "edx.course.enrollment.activated"),
        _row(2, "edx.course.enrollment.activated", actor_user_id=None, actor_username=None),
        _row(3, "page_view_without_transformer"),
        _row(4, None),
        _row(5, "edx.course.enrollment.activated", course_id=None, event_json="{}"),
        _row(6, "edx.course.enrollment.activated", event_time_raw=None),
    ]
    out = transform_rows(rows, PSEUDO).to_pylist()
    assert [(r["source_line_number"], r["reason"]) for r in out] == [
        (1, None),
        (2, "no_user"),
        (3, "no_transformer"),
        (4, "no_transformer"),
        (5, "incomplete"),
        (6, "incomplete"),
    ]
    first = out[0]
    stmt = json.loads(first["statement"])
    assert problems(stmt) == []
    assert first["statement_id"] == stmt["id"]
    assert first["actor_id"] == Pseudonyms("s3cret").for_user_id(42)
    assert first["verb_id"] == stmt["verb"]["id"] == "http://adlnet.gov/expapi/verbs/registered"
    assert first["object_id"] == f"{LMS}/course/{COURSE}"
    assert (first["course_id"], first["org"]) == (COURSE, "ExampleX")
    assert first["timestamp"] == "2026-03-02T10:15:30.123456+00:00"
    assert "alice" not in first["statement"]


def test_with_a_mapping_unmapped_users_are_skipped() -> None:
    rows = [
        _row(1, "edx.course.enrollment.activated", external_user_id="ext-42"),
        _row(2, "edx.course.enrollment.activated", external_user_id=None),
    ]
    out = transform_rows(rows, MAPPED).to_pylist()
    assert [(r["actor_id"], r["reason"]) for r in out] == [
        ("ext-42", None),
        (None, "user_not_in_mapping"),
    ]
