"""Whole statements, one family after the other, from hand-written tracking-log lines: each line
goes the way the xAPI job takes it (the landed columns, `transform_rows`) and the statement is
compared whole to the one event-routing-backends (ERB) emits for it, written out here, with
the valid-xAPI forms of the README ("Where the statements differ from ERB's") in place of
ERB's. Lines are in both shapes logs have: legacy (top-level `session`, `event`, `time`;
browser payloads as JSON text) and event-bus (`data`, `timestamp`, the session in `context`).
"""

from __future__ import annotations

import json
from typing import Any

from olx_spark.xapi.batch import BatchSettings, transform_rows
from olx_spark.xapi.event import find_nested
from tests.xapi_fixtures import (
    ACTOR,
    COURSE,
    LMS,
    SESSION,
    SETTINGS,
    common_extensions,
    course_parent,
    input_row,
    line_statements,
)

SEQUENCE = "block-v1:ExampleX+CS101+2026_T1+type@sequential+block@7c1e5a3d9b2f4e8a6c0d2b4f6a8e0c1d"
VIDEO_ID = "9f3b1d5e7a2c4f6b8d0e2a4c6b8d0f1e"
PROBLEM_HASH = "2b4d6f8a0c1e3a5c7e9b1d3f5a7c9e0b"
PROBLEM = f"block-v1:ExampleX+CS101+2026_T1+type@problem+block@{PROBLEM_HASH}"
CCX = "ccx-v1:ExampleX+CS101+2026_T1+ccx@3"
PAGE = f"{LMS}/courses/{COURSE}/courseware/week1/seq1/"
ACTOR_JSON = {"objectType": "Agent", "account": {"homePage": LMS, "name": ACTOR}}
INTERACTION = "http://adlnet.gov/expapi/activities/cmi.interaction"
RESOURCE = "http://id.tincanapi.com/activitytype/resource"
DISCUSSION = "http://id.tincanapi.com/activitytype/discussion"
COURSE_TYPE = "http://adlnet.gov/expapi/activities/course"


def verb(iri: str) -> dict[str, Any]:
    return {"id": iri, "display": {"en": iri.rsplit("/", 1)[-1]}}


def browser_line(name: str, payload: Any, time: str, course: str = COURSE) -> dict[str, Any]:
    """A legacy browser event: the payload is JSON text, the session is top-level."""
    page = PAGE.replace(COURSE, course)
    return {
        "name": name,
        "event_type": name,
        "event_source": "browser",
        "username": "ada",
        "session": SESSION,
        "ip": "203.0.113.9",
        "agent": "Mozilla/5.0",
        "host": "lms.example.org",
        "referer": page,
        "page": page,
        "context": {"course_id": course, "org_id": "ExampleX", "user_id": 42, "path": "/event"},
        "event": json.dumps(payload),
        "time": time,
    }


def bus_line(name: str, data: dict[str, Any], time: str, **context: Any) -> dict[str, Any]:
    """An event-bus style event: `data`, `timestamp`, and the session in the context."""
    ctx: dict[str, Any] = {
        "course_id": COURSE,
        "org_id": "ExampleX",
        "user_id": 42,
        "username": "ada",
        "session": SESSION,
        "path": "/courses/x",
        "event_source": "server",
    }
    ctx.update(context)
    return {"name": name, "timestamp": time, "context": ctx, "data": data}


def statement(
    stmt_id: str,
    verb_iri: str,
    obj: dict[str, Any],
    time: str,
    *,
    result: dict[str, Any] | None = None,
    activities: dict[str, Any] | None = None,
    extensions: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A whole statement as ERB writes it, from the parts that vary."""
    context: dict[str, Any] = {} if activities is None else {"contextActivities": activities}
    context["extensions"] = {**common_extensions(), **(extensions or {})}
    stmt: dict[str, Any] = {
        "id": stmt_id,
        "actor": ACTOR_JSON,
        "verb": verb(verb_iri),
        "object": obj,
        "context": context,
        "timestamp": time,
        "version": "1.0.3",
    }
    if result is not None:
        stmt["result"] = result
    return stmt


def activity(iri: str, definition: dict[str, Any]) -> dict[str, Any]:
    return {"id": iri, "objectType": "Activity", "definition": definition}


def ccx_parent() -> dict[str, Any]:
    # No course table names the CCX here: the parent has no name.
    return {"parent": [activity(f"{LMS}/course/{CCX}", {"type": COURSE_TYPE})]}


# --- navigation -------------------------------------------------------------------------------


def test_navigation_next_selected() -> None:
    time = "2026-03-02T10:00:01.000001+00:00"
    payload = {"current_tab": 2, "tab_count": 5, "id": SEQUENCE, "widget_placement": "bottom"}
    [stmt] = line_statements(browser_line("edx.ui.lms.sequence.next_selected", payload, time))
    assert stmt == statement(
        "e1fe1047-fe65-5b0c-a81d-22cd1e13c221",
        "https://w3id.org/xapi/dod-isd/verbs/navigated",
        activity(
            f"{LMS}/xblock/{SEQUENCE}",
            {
                "type": RESOURCE,
                "extensions": {"https://w3id.org/xapi/acrossx/extensions/total-items": 5},
            },
        ),
        time,
        activities=course_parent(),
        extensions={
            "http://id.tincanapi.com/extension/starting-position": 2,
            "http://id.tincanapi.com/extension/ending-point": "next unit",
        },
    )


# --- video ------------------------------------------------------------------------------------


def test_video_paused() -> None:
    time = "2026-03-02T10:00:02.000002+00:00"
    payload = {"id": VIDEO_ID, "currentTime": 61.2345, "code": "html5", "duration": 195.0}
    [stmt] = line_statements(browser_line("pause_video", payload, time))
    assert stmt == statement(
        "741d1b6b-fdca-51e1-911f-a57a04d6f6e2",
        "https://w3id.org/xapi/video/verbs/paused",
        activity(
            f"{LMS}/xblock/block-v1:ExampleX+CS101+2026_T1+type@video+block@{VIDEO_ID}",
            {"type": "https://w3id.org/xapi/video/activity-type/video"},
        ),
        time,
        result={"extensions": {"https://w3id.org/xapi/video/extensions/time": 61.234}},
        activities=course_parent(),
        extensions={"https://w3id.org/xapi/video/extensions/length": 195.0},
    )


def test_video_played_in_a_ccx_course_is_a_ccx_block() -> None:
    # ERB spells a CCX course's blocks `ccx-block-v1:` (edx-platform's own usage keys).
    time = "2026-03-02T10:00:04.000004+00:00"
    payload = {"id": VIDEO_ID, "currentTime": 12, "code": "mobile"}
    line = browser_line("play_video", payload, time, course=CCX)
    [stmt] = line_statements(line, course_name=None)
    assert stmt == statement(
        "50e5f3ad-b08d-551b-97ec-2cec3bfb7b3b",
        "https://w3id.org/xapi/video/verbs/played",
        activity(
            f"{LMS}/xblock/ccx-block-v1:ExampleX+CS101+2026_T1+ccx@3+type@video+block@{VIDEO_ID}",
            {"type": "https://w3id.org/xapi/video/activity-type/video"},
        ),
        time,
        result={"extensions": {"https://w3id.org/xapi/video/extensions/time": 12.0}},
        activities=ccx_parent(),
    )


# --- problems ---------------------------------------------------------------------------------


def test_problem_check_from_the_server() -> None:
    time = "2026-03-02T10:00:05.000005+00:00"
    question = {
        "question": "How many hours between tides?",
        "answer": "6.2",
        "response_type": "numericalresponse",
        "input_type": "textline",
        "correct": True,
        "variant": "",
        "group_label": "",
    }
    line = {
        "name": "problem_check",
        "event_type": "problem_check",
        "event_source": "server",
        "username": "ada",
        "session": SESSION,
        "page": "x_module",
        "context": {
            "course_id": COURSE,
            "org_id": "ExampleX",
            "user_id": 42,
            "path": f"/courses/{COURSE}/xblock/{PROBLEM}/handler/xmodule_handler/problem_check",
            "module": {"display_name": "Tide tables", "usage_key": PROBLEM},
        },
        "event": {
            "problem_id": PROBLEM,
            "grade": 1,
            "max_grade": 1,
            "success": "correct",
            "attempts": 2,
            "answers": {f"{PROBLEM_HASH}_2_1": "6.2"},
            "submission": {f"{PROBLEM_HASH}_2_1": question},
        },
        "time": time,
    }
    [stmt] = line_statements(line)
    assert stmt == statement(
        "417111c9-4691-5cbc-bc13-b018f4aeecf7",
        "https://w3id.org/xapi/acrossx/verbs/evaluated",
        activity(
            f"{LMS}/xblock/{PROBLEM}",
            {
                "type": INTERACTION,
                "interactionType": "numeric",
                "description": {"en-US": "How many hours between tides?"},
                "extensions": {"http://id.tincanapi.com/extension/attempt-id": 2},
            },
        ),
        time,
        result={
            "score": {"min": 0.0, "max": 1.0, "raw": 1.0, "scaled": 1.0},
            "success": True,
            "response": "6.2",
        },
        activities=course_parent(),
    )


def test_problem_check_from_the_browser_in_a_ccx_course() -> None:
    # No activate_block_id in the page: the block comes from the input's name, CCX-spelled.
    time = "2026-03-02T10:00:06.000006+00:00"
    line = browser_line("problem_check", f"input_{PROBLEM_HASH}_2_1=6.2", time, course=CCX)
    [stmt] = line_statements(line, course_name=None)
    assert stmt == statement(
        "439ea045-03cb-5f30-b885-a4767ee8426b",
        "http://adlnet.gov/expapi/verbs/attempted",
        activity(
            f"{LMS}/xblock/ccx-block-v1:ExampleX+CS101+2026_T1+ccx@3+type@problem"
            f"+block@{PROBLEM_HASH}",
            {"type": INTERACTION, "interactionType": "other"},
        ),
        time,
        activities=ccx_parent(),
    )


# --- grading ----------------------------------------------------------------------------------


def test_subsection_grade_calculated() -> None:
    time = "2026-03-02T10:00:07.000007+00:00"
    data = {
        "user_id": 42,
        "course_id": COURSE,
        "block_id": SEQUENCE,
        "weighted_total_earned": 3.0,
        "weighted_total_possible": 4.0,
        "weighted_graded_earned": 3.0,
        "weighted_graded_possible": 4.0,
        "event_transaction_type": "edx.grades.problem.submitted",
    }
    [stmt] = line_statements(bus_line("edx.grades.subsection.grade_calculated", data, time))
    assert stmt == statement(
        "9c8f3367-fc48-5535-9d1d-7276ee95ac1c",
        "http://id.tincanapi.com/verb/earned",
        activity(f"{LMS}/xblock/{SEQUENCE}", {"type": RESOURCE}),
        time,
        result={
            "score": {"scaled": 0.75, "raw": 3.0, "min": 0.0, "max": 4.0},
            "success": False,
        },
        activities=course_parent(),
    )


def test_course_grade_passed_first_time() -> None:
    # The object is the course: no course parent; the definition keeps an empty extensions map.
    time = "2026-03-02T10:00:08.000008+00:00"
    data = {"user_id": 42, "course_id": COURSE}
    [stmt] = line_statements(bus_line("edx.course.grade.passed.first_time", data, time))
    assert stmt == statement(
        "d2c569c1-e612-53ef-8558-ef5ccb48a50d",
        "http://adlnet.gov/expapi/verbs/passed",
        activity(
            f"{LMS}/course/{COURSE}",
            {"type": COURSE_TYPE, "name": {"en": "Introduction to Examples"}, "extensions": {}},
        ),
        time,
    )


# --- completion -------------------------------------------------------------------------------


def test_block_completion_changed() -> None:
    time = "2026-03-02T10:00:09.000009+00:00"
    data = {"user_id": 42, "course_id": COURSE, "block_id": PROBLEM, "completion": 0.5}
    [stmt] = line_statements(bus_line("edx.completion.block_completion.changed", data, time))
    assert stmt == statement(
        "1a4b3328-a595-5313-93a5-ebdf9a7f103d",
        "http://adlnet.gov/expapi/verbs/progressed",
        activity(f"{LMS}/xblock/{PROBLEM}", {"type": RESOURCE}),
        time,
        result={
            "completion": False,
            "extensions": {"https://w3id.org/xapi/cmi5/result/extensions/progress": 50.0},
        },
        activities=course_parent(),
    )


# --- enrollment -------------------------------------------------------------------------------


def test_enrollment_activated() -> None:
    time = "2026-03-02T10:00:03.000003+00:00"
    data = {"course_id": COURSE, "user_id": 42, "mode": "verified"}
    [stmt] = line_statements(bus_line("edx.course.enrollment.activated", data, time))
    assert stmt == statement(
        "73ed4b47-6789-56c2-8765-51ff2e6b9468",
        "http://adlnet.gov/expapi/verbs/registered",
        activity(
            f"{LMS}/course/{COURSE}",
            {
                "type": COURSE_TYPE,
                "name": {"en": "Introduction to Examples"},
                "extensions": {"https://w3id.org/xapi/acrossx/extensions/type": "verified"},
            },
        ),
        time,
    )


# --- special exams ----------------------------------------------------------------------------


def test_timed_exam_attempt_submitted() -> None:
    # Valid-xAPI forms: the exam is its block's IRI, the attempt an IRI under it (ERB: the bare
    # usage key and the bare attempt code).
    time = "2026-03-02T10:00:10.000010+00:00"
    code = "5E7A1C3B-9D2F-4B6A-8C0E-1F3D5B7A9C2E"
    data = {
        "exam_id": 7,
        "exam_content_id": SEQUENCE,
        "exam_name": "Midterm",
        "exam_default_time_limit_mins": 90,
        "attempt_id": 12,
        "attempt_user_id": 42,
        "attempt_started_at": "2026-03-02T08:30:00+00:00",
        "attempt_completed_at": "2026-03-02T10:00:00+00:00",
        "attempt_code": code,
        "attempt_status": "submitted",
        "attempt_event_elapsed_time_secs": 5400.0,
    }
    [stmt] = line_statements(bus_line("edx.special_exam.timed.attempt.submitted", data, time))
    attempt = activity(
        f"{LMS}/xblock/{SEQUENCE}/attempt/{code}",
        {
            "type": "http://adlnet.gov/expapi/activities/attempt",
            "name": {"en": "Midterm"},
            "extensions": {
                "https://w3id.org/xapi/openedx/extension/attempt-started": (
                    "2026-03-02T08:30:00+00:00"
                ),
                "https://w3id.org/xapi/openedx/extension/attempt-completed": (
                    "2026-03-02T10:00:00+00:00"
                ),
                "http://id.tincanapi.com/extension/duration": 5400.0,
                "http://id.tincanapi.com/extension/attempt-id": 12,
            },
        },
    )
    assert stmt == statement(
        "d4364972-8f0e-54bc-8ba6-a8ffdc39e032",
        "http://adlnet.gov/expapi/verbs/terminated",
        activity(
            f"{LMS}/xblock/{SEQUENCE}",
            {
                "type": "https://w3id.org/xapi/openedx/activity/timed-assessment",
                "name": {"en": "Midterm"},
                "extensions": {"https://w3id.org/xapi/acrossx/extensions/time-limit": 90},
            },
        ),
        time,
        activities={**course_parent(), "grouping": [attempt]},
    )


# --- forum ------------------------------------------------------------------------------------


def test_forum_response_created() -> None:
    time = "2026-03-02T10:00:11.000011+00:00"
    thread, response = "65e19f00c3d4e5f6a7b8c9aa", "65e1a0b2c3d4e5f6a7b8c9d0"
    data = {
        "id": response,
        "body": "Low tide is at noon.",
        "truncated": False,
        "category_id": "c1",
        "category_name": "Week 1",
        "commentable_id": "c1",
        "discussion": {"id": thread},
        "user_forums_roles": ["Student"],
    }
    path = f"/courses/{COURSE}/discussion/threads/{thread}/reply"
    [stmt] = line_statements(bus_line("edx.forum.response.created", data, time, path=path))
    assert stmt == statement(
        "1ea55703-bfcd-5dab-94dd-da6d112c713e",
        "https://w3id.org/xapi/acrossx/verbs/posted",
        activity(f"{LMS}{path}/{response}", {"type": DISCUSSION}),
        time,
        activities={
            **course_parent(),
            "grouping": [
                activity(f"{LMS}/api/discussion/v1/threads/{thread}", {"type": DISCUSSION})
            ],
        },
    )


# --- the session, wherever ERB finds it -------------------------------------------------------

SESSION_ID = "https://w3id.org/xapi/openedx/extensions/session-id"
ENROLLED = {"course_id": COURSE, "user_id": 42, "mode": "audit"}
TIME = "2026-03-02T10:00:12.000012+00:00"


def _extensions(line: dict[str, Any]) -> dict[str, Any]:
    [stmt] = line_statements(line)
    return dict(stmt["context"]["extensions"])


def test_session_in_the_context_when_the_line_has_none_at_the_top() -> None:
    line = bus_line("edx.course.enrollment.activated", ENROLLED, TIME)
    assert "session" not in line
    assert _extensions(line)[SESSION_ID] == SESSION


def test_a_top_level_session_comes_first_even_when_empty() -> None:
    # ERB's lookup stops at the top-level key: an empty session there is no session, whatever
    # the context says.
    line = {**bus_line("edx.course.enrollment.activated", ENROLLED, TIME), "session": "top"}
    assert _extensions(line)[SESSION_ID] == "top"
    line["session"] = ""
    assert SESSION_ID not in _extensions(line)


def test_session_in_the_payload_or_nowhere() -> None:
    line = bus_line("edx.course.enrollment.activated", {**ENROLLED, "session": "in-data"}, TIME)
    del line["context"]["session"]
    assert _extensions(line)[SESSION_ID] == "in-data"
    del line["data"]["session"]
    assert _extensions(line) == {
        "https://w3id.org/xapi/openedx/extension/transformer-version": "olx-spark@test"
    }


def test_find_nested_is_erbs_depth_first_lookup() -> None:
    event = {"a": {"b": {"session": None, "c": {"session": "hidden"}}}, "d": {"session": "s"}}
    # An object holding the key with None is not searched further: the next one is.
    assert find_nested(event, "session") == "s"
    assert find_nested({"x": {"y": {"session": 0}}, "z": {"session": "later"}}, "session") == 0
    assert find_nested({"session": None, "c": {"session": "s"}}, "session") is None
    deep: dict[str, Any] = {"session": "bottom"}
    for _ in range(5000):  # deeper than Python's recursion limit
        deep = {"k": deep}
    assert find_nested(deep, "session") == "bottom"


# --- what ERB would emit and no LRS accepts ---------------------------------------------------


def test_problem_check_that_names_no_problem_gives_no_statement() -> None:
    # ERB emits a statement whose object has no id for this (an Activity needs one): counted
    # as incomplete here instead.
    line = {
        "name": "problem_check",
        "timestamp": TIME,
        "context": {"referer": f"{LMS}/xblock/{SEQUENCE}?view=student_view", "user_id": 42},
    }
    settings = BatchSettings(LMS, SETTINGS.transformer_version, salt="", mapping=True)
    [row] = transform_rows([input_row(line)], settings).to_pylist()
    assert (row["reason"], row["statement"]) == ("incomplete", None)
