"""Grading family: course passed/failed, subsection and course grades, as ERB writes them."""

from __future__ import annotations

import json
from typing import Any

import pytest

from olx_spark.xapi.event import Event, parse_payload
from olx_spark.xapi.registry import SKIP_INCOMPLETE, transform_event
from olx_spark.xapi.statement import statement_id
from olx_spark.xapi.vocabulary import EARNED, FAILED, PASSED
from tests.xapi_fixtures import (
    ACTOR,
    COURSE,
    COURSE_NAME,
    LMS,
    SESSION,
    SETTINGS,
    TIME,
    common_extensions,
    course_parent,
    event,
    transform,
)

SUBSECTION = (
    "block-v1:ExampleX+CS101+2026_T1+type@sequential+block@3b2b9f1c0e5d4a4c8f1a2b3c4d5e6f70"
)
GRADE_CONTEXT = {
    "course_id": COURSE,
    "org_id": "ExampleX",
    "user_id": 42,
    "path": f"/courses/{COURSE}/xblock/{SUBSECTION}/handler/xmodule_handler/problem_check",
    "enterprise_uuid": "",
}


def logged(line: dict[str, Any]) -> Event:
    """The event as the job sees a tracking-log line: payload as JSON text, name, time."""
    payload = line["event"] if isinstance(line["event"], str) else json.dumps(line["event"])
    return event(
        line.get("name") or line["event_type"],
        parse_payload(payload),
        context=line["context"],
        timestamp=line["time"],
        session=line.get("session"),
        event_source=line.get("event_source"),
        course_id=line["context"].get("course_id"),
    )


def grade_line(event_type: str) -> dict[str, Any]:
    return {
        "event_type": event_type,
        "event": {
            "user_id": "42",
            "course_id": COURSE,
            "event_transaction_id": "6f0c8c1e-6d52-4c38-9a53-1d8c1f0a9b11",
            "event_transaction_type": "edx.grades.problem.submitted",
        },
        "context": GRADE_CONTEXT,
        "username": "learner42",
        "ip": "203.0.113.9",
        "session": SESSION,
        "event_source": "server",
        "time": TIME,
        "page": None,
    }


def course_object(extensions: dict[str, Any] | None = None) -> dict[str, Any]:
    definition: dict[str, Any] = {
        "type": "http://adlnet.gov/expapi/activities/course",
        "name": {"en": COURSE_NAME},
    }
    if extensions is not None:
        definition["extensions"] = extensions
    return {"id": f"{LMS}/course/{COURSE}", "objectType": "Activity", "definition": definition}


def test_passed_first_time_exact_statement() -> None:
    [stmt] = transform(logged(grade_line("edx.course.grade.passed.first_time")))
    assert stmt == {
        "id": statement_id(PASSED, ACTOR, TIME, SETTINGS),
        "actor": {"objectType": "Agent", "account": {"homePage": LMS, "name": ACTOR}},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/passed", "display": {"en": "passed"}},
        "object": course_object(extensions={}),
        "context": {"extensions": common_extensions()},
        "timestamp": TIME,
        "version": "1.0.3",
    }
    text = json.dumps(stmt)
    assert "learner42" not in text and "203.0.113.9" not in text


@pytest.mark.parametrize(
    ("name", "verb"),
    [("edx.course.grade.now_passed", PASSED), ("edx.course.grade.now_failed", FAILED)],
)
def test_now_passed_and_now_failed(name: str, verb: Any) -> None:
    [stmt] = transform(logged(grade_line(name)))
    assert stmt["id"] == statement_id(verb, ACTOR, TIME, SETTINGS)
    assert stmt["verb"] == verb.as_dict()
    assert stmt["object"] == course_object(extensions={})
    assert stmt["context"] == {"extensions": common_extensions()}
    assert "result" not in stmt


def test_pass_fail_mode_and_unknown_course_name() -> None:
    ev = event("edx.course.grade.now_passed", {"course_id": COURSE, "mode": "verified"})
    [stmt] = transform(ev)
    assert stmt["object"]["definition"]["extensions"] == {
        "https://w3id.org/xapi/acrossx/extensions/type": "verified"
    }
    [nameless] = transform(event("edx.course.grade.now_failed", course_name=None))
    assert "name" not in nameless["object"]["definition"]


def test_subsection_grade_calculated_exact_statement() -> None:
    ev = event(
        "edx.grades.subsection.grade_calculated",
        {
            "user_id": "42",
            "course_id": COURSE,
            "block_id": SUBSECTION,
            "course_version": "65f0a1b2c3d4e5f601234567",
            "weighted_total_earned": 3,
            "weighted_total_possible": 3,
            "weighted_graded_earned": 3,
            "weighted_graded_possible": 3,
            "first_attempted": "2026-03-02 10:15:29.981234+00:00",
            "subtree_edited_timestamp": "2026-02-20 08:00:00+00:00",
            "event_transaction_id": "6f0c8c1e-6d52-4c38-9a53-1d8c1f0a9b11",
            "event_transaction_type": "edx.grades.problem.submitted",
            "visible_blocks_hash": "Ss0MskKq0ZlFH2yW7p5VJyq8lG4=",
        },
        context=GRADE_CONTEXT,
    )
    [stmt] = transform(ev)
    assert stmt == {
        "id": statement_id(EARNED, ACTOR, TIME, SETTINGS),
        "actor": {"objectType": "Agent", "account": {"homePage": LMS, "name": ACTOR}},
        "verb": {"id": "http://id.tincanapi.com/verb/earned", "display": {"en": "earned"}},
        "object": {
            "id": f"{LMS}/xblock/{SUBSECTION}",
            "objectType": "Activity",
            "definition": {"type": "http://id.tincanapi.com/activitytype/resource"},
        },
        "result": {
            "score": {"scaled": 1.0, "raw": 3.0, "min": 0.0, "max": 3.0},
            "success": True,
        },
        "context": {"contextActivities": course_parent(), "extensions": common_extensions()},
        "timestamp": TIME,
        "version": "1.0.3",
    }
    assert all(isinstance(v, float) for v in stmt["result"]["score"].values())


@pytest.mark.parametrize(
    ("earned", "possible", "score", "success"),
    [
        (2, 3, {"scaled": 2 / 3, "raw": 2.0, "min": 0.0, "max": 3.0}, False),
        (0, 0, {"scaled": 0.0, "raw": 0.0, "min": 0.0, "max": 0.0}, True),
        (None, 4.0, {"scaled": 0.0, "raw": 0.0, "min": 0.0, "max": 4.0}, False),
    ],
)
def test_subsection_score_rules(
    earned: float | None, possible: float, score: dict[str, float], success: bool
) -> None:
    data = {
        "block_id": SUBSECTION,
        "weighted_total_earned": earned,
        "weighted_total_possible": possible,
    }
    [stmt] = transform(event("edx.grades.subsection.grade_calculated", data))
    assert stmt["result"] == {"score": score, "success": success}


def course_grade_data(**changes: Any) -> dict[str, Any]:
    data = {
        "user_id": "42",
        "course_id": COURSE,
        "course_version": "65f0a1b2c3d4e5f601234567",
        "percent_grade": 0.87,
        "letter_grade": "Pass",
        "course_edited_timestamp": "2026-02-20 08:00:00+00:00",
        "event_transaction_id": "6f0c8c1e-6d52-4c38-9a53-1d8c1f0a9b11",
        "event_transaction_type": "edx.grades.problem.submitted",
        "grading_policy_hash": "ChVp0lHGQGCevD0t4njna/C44zQ=",
    }
    data.update(changes)
    return data


def test_course_grade_calculated_exact_statement() -> None:
    ev = event("edx.grades.course.grade_calculated", course_grade_data(), context=GRADE_CONTEXT)
    [stmt] = transform(ev)
    assert stmt == {
        "id": statement_id(EARNED, ACTOR, TIME, SETTINGS),
        "actor": {"objectType": "Agent", "account": {"homePage": LMS, "name": ACTOR}},
        "verb": {"id": "http://id.tincanapi.com/verb/earned", "display": {"en": "earned"}},
        "object": course_object(),
        "result": {
            "score": {"scaled": 0.87, "raw": 0.87, "min": 0.0, "max": 1.0},
            "extensions": {"http://www.tincanapi.co.uk/activitytypes/grade_classification": "Pass"},
        },
        # ERB keeps the course parent on this one, although the object is the course.
        "context": {"contextActivities": course_parent(), "extensions": common_extensions()},
        "timestamp": TIME,
        "version": "1.0.3",
    }


@pytest.mark.parametrize(
    ("changes", "score", "letter"),
    [
        ({"letter_grade": "", "percent_grade": 0.02}, 0.02, "Fail"),
        ({"letter_grade": None, "percent_grade": None}, 0.0, "Fail"),
        ({"letter_grade": "A", "percent_grade": 1}, 1.0, "A"),
    ],
)
def test_course_grade_letter_and_percent(
    changes: dict[str, Any], score: float, letter: str
) -> None:
    [stmt] = transform(event("edx.grades.course.grade_calculated", course_grade_data(**changes)))
    assert stmt["result"] == {
        "score": {"scaled": score, "raw": score, "min": 0.0, "max": 1.0},
        "extensions": {"http://www.tincanapi.co.uk/activitytypes/grade_classification": letter},
    }


@pytest.mark.parametrize(
    "ev",
    [
        event("edx.course.grade.passed.first_time", course_id=None, context={}),
        event("edx.course.grade.now_failed", course_id=None, context={}),
        event(
            "edx.grades.subsection.grade_calculated",
            {"weighted_total_earned": 1, "weighted_total_possible": 2},
        ),
        event(
            "edx.grades.subsection.grade_calculated",
            {"block_id": SUBSECTION, "weighted_total_earned": 1},
        ),
        event(
            "edx.grades.subsection.grade_calculated",
            {"block_id": SUBSECTION, "weighted_total_earned": "n/a", "weighted_total_possible": 2},
        ),
        event("edx.grades.course.grade_calculated", {"letter_grade": "Pass"}),
        event(
            "edx.grades.course.grade_calculated",
            course_grade_data(course_id=None),
            course_id=None,
            context={},
        ),
        # Identifiers that cannot go into an IRI.
        event("edx.course.grade.now_passed", course_id="course-v1:Example X+CS101+2026"),
        event(
            "edx.grades.subsection.grade_calculated",
            {"block_id": {"id": 1}, "weighted_total_earned": 1, "weighted_total_possible": 2},
        ),
        # Numbers no valid xAPI score can hold (ERB would send them; an LRS would refuse).
        event("edx.grades.course.grade_calculated", course_grade_data(percent_grade=1.5)),
        event("edx.grades.course.grade_calculated", course_grade_data(percent_grade=float("nan"))),
        event(
            "edx.grades.subsection.grade_calculated",
            {"block_id": SUBSECTION, "weighted_total_earned": 1, "weighted_total_possible": 0},
        ),
        event(
            "edx.grades.subsection.grade_calculated",
            {"block_id": SUBSECTION, "weighted_total_earned": -1, "weighted_total_possible": 2},
        ),
    ],
)
def test_incomplete_grading_events_are_skipped(ev: Event) -> None:
    assert transform_event(ev, SETTINGS) == ([], SKIP_INCOMPLETE)
