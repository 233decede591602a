"""Exam family: special exam attempts started (`initialized`) and submitted (`terminated`)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from olx_spark.xapi.event import Event, parse_payload
from olx_spark.xapi.registry import SKIP_INCOMPLETE, transform_event
from olx_spark.xapi.statement import statement_id
from olx_spark.xapi.vocabulary import INITIALIZED, TERMINATED
from tests.xapi_fixtures import (
    ACTOR,
    COURSE,
    LMS,
    SESSION,
    SETTINGS,
    TIME,
    common_extensions,
    course_parent,
    event,
    transform,
)

EXAM = "block-v1:ExampleX+CS101+2026_T1+type@sequential+block@5b4bf8d7d41c4070b299abefed74155e"
CODE = "438AD672-DE2C-4F0B-8876-35444E7DD746"
EXAM_IRI = f"{LMS}/xblock/{EXAM}"
ATTEMPT_IRI = f"{EXAM_IRI}/attempt/{CODE}"
ASSESSMENT = "https://w3id.org/xapi/openedx/activity/{}-assessment"
ATTEMPT = "http://adlnet.gov/expapi/activities/attempt"
TIME_LIMIT = "https://w3id.org/xapi/acrossx/extensions/time-limit"
STARTED = "https://w3id.org/xapi/openedx/extension/attempt-started"
COMPLETED = "https://w3id.org/xapi/openedx/extension/attempt-completed"
DURATION = "http://id.tincanapi.com/extension/duration"
ATTEMPT_ID = "http://id.tincanapi.com/extension/attempt-id"


def exam_payload(kind: str, step: str) -> dict[str, Any]:
    """What edx-proctoring logs for an attempt, created (no times yet) or submitted."""
    submitted = step == "submitted"
    return {
        "exam_id": 7,
        "exam_content_id": EXAM,
        "exam_name": "Midterm",
        "exam_default_time_limit_mins": 60,
        "exam_is_proctored": kind == "proctored",
        "exam_is_practice_exam": kind == "practice",
        "exam_is_active": True,
        "attempt_id": 3,
        "attempt_user_id": 42,
        "attempt_started_at": "2026-03-02T09:52:41.700000+00:00" if submitted else None,
        "attempt_completed_at": "2026-03-02T10:15:30.100000+00:00" if submitted else None,
        "attempt_code": CODE,
        "attempt_allowed_time_limit_mins": 60 if submitted else None,
        "attempt_status": step,
        "attempt_event_elapsed_time_secs": 1368.4 if submitted else None,
    }


def exam_event(
    kind: str, step: str, payload: dict[str, Any] | None = None, event_type: str | None = None
) -> Event:
    """The event as the job sees a tracking-log line (`name` wins over `event_type`)."""
    name = f"edx.special_exam.{kind}.attempt.{step}"
    line = {
        "name": name,
        "event_type": event_type or name,
        "event": exam_payload(kind, step) if payload is None else payload,
        "context": {
            "course_id": COURSE,
            "org_id": "ExampleX",
            "user_id": 42,
            "path": "/api/edx_proctoring/v1/proctored_exam/attempt/3",
        },
        "username": "learner42",
        "ip": "203.0.113.9",
        "session": SESSION,
        "event_source": "server",
        "time": TIME,
    }
    return event(
        line["name"] or line["event_type"],
        parse_payload(json.dumps(line["event"])),
        context=line["context"],
        timestamp=line["time"],
        session=line["session"],
        course_id=COURSE,
    )


def test_timed_exam_submitted_exact_statement() -> None:
    [stmt] = transform(exam_event("timed", "submitted"))
    assert stmt == {
        "id": statement_id(TERMINATED, ACTOR, TIME, SETTINGS),
        "actor": {"objectType": "Agent", "account": {"homePage": LMS, "name": ACTOR}},
        "verb": {
            "id": "http://adlnet.gov/expapi/verbs/terminated",
            "display": {"en": "terminated"},
        },
        "object": {
            # ERB writes the bare usage key; xAPI needs an IRI, so the block's IRI it is.
            "id": EXAM_IRI,
            "objectType": "Activity",
            "definition": {
                "type": "https://w3id.org/xapi/openedx/activity/timed-assessment",
                "name": {"en": "Midterm"},
                "extensions": {TIME_LIMIT: 60},
            },
        },
        "context": {
            "contextActivities": {
                **course_parent(),
                "grouping": [
                    {
                        "id": ATTEMPT_IRI,
                        "objectType": "Activity",
                        "definition": {
                            "type": ATTEMPT,
                            "name": {"en": "Midterm"},
                            "extensions": {
                                STARTED: "2026-03-02T09:52:41.700000+00:00",
                                COMPLETED: "2026-03-02T10:15:30.100000+00:00",
                                DURATION: 1368.4,
                                ATTEMPT_ID: 3,
                            },
                        },
                    }
                ],
            },
            "extensions": common_extensions(),
        },
        "timestamp": TIME,
        "version": "1.0.3",
    }
    text = json.dumps(stmt)
    assert "learner42" not in text and "203.0.113.9" not in text


def test_proctored_exam_created_exact_statement() -> None:
    [stmt] = transform(exam_event("proctored", "created"))
    assert stmt == {
        "id": statement_id(INITIALIZED, ACTOR, TIME, SETTINGS),
        "actor": {"objectType": "Agent", "account": {"homePage": LMS, "name": ACTOR}},
        "verb": {
            "id": "http://adlnet.gov/expapi/verbs/initialized",
            "display": {"en": "initialized"},
        },
        "object": {
            "id": EXAM_IRI,
            "objectType": "Activity",
            "definition": {
                "type": "https://w3id.org/xapi/openedx/activity/proctored-assessment",
                "name": {"en": "Midterm"},
                "extensions": {TIME_LIMIT: 60},
            },
        },
        "context": {
            "contextActivities": {
                **course_parent(),
                # Not started yet: only the attempt's number is known.
                "grouping": [
                    {
                        "id": ATTEMPT_IRI,
                        "objectType": "Activity",
                        "definition": {
                            "type": ATTEMPT,
                            "name": {"en": "Midterm"},
                            "extensions": {ATTEMPT_ID: 3},
                        },
                    }
                ],
            },
            "extensions": common_extensions(),
        },
        "timestamp": TIME,
        "version": "1.0.3",
    }


@pytest.mark.parametrize("kind", ["timed", "practice", "proctored"])
@pytest.mark.parametrize(("step", "verb"), [("created", INITIALIZED), ("submitted", TERMINATED)])
def test_every_kind_and_step(kind: str, step: str, verb: Any) -> None:
    [stmt] = transform(exam_event(kind, step))
    assert stmt["id"] == statement_id(verb, ACTOR, TIME, SETTINGS)
    assert stmt["verb"] == verb.as_dict()
    assert stmt["object"]["id"] == EXAM_IRI
    assert stmt["object"]["definition"]["type"] == ASSESSMENT.format(kind)
    [attempt] = stmt["context"]["contextActivities"]["grouping"]
    assert attempt["id"] == ATTEMPT_IRI


def test_missing_values_leave_the_extension_maps_empty() -> None:
    payload = exam_payload("practice", "created")
    payload.update(exam_default_time_limit_mins=None, attempt_id=None, exam_name=None)
    [stmt] = transform(exam_event("practice", "created", payload))
    assert stmt["object"]["definition"] == {
        "type": ASSESSMENT.format("practice"),
        "extensions": {},
    }
    [attempt] = stmt["context"]["contextActivities"]["grouping"]
    assert attempt["definition"] == {"type": ATTEMPT, "extensions": {}}


def test_zero_elapsed_time_is_kept() -> None:
    payload = exam_payload("timed", "submitted")
    payload["attempt_event_elapsed_time_secs"] = 0
    [stmt] = transform(exam_event("timed", "submitted", payload))
    [attempt] = stmt["context"]["contextActivities"]["grouping"]
    assert attempt["definition"]["extensions"][DURATION] == 0


@pytest.mark.parametrize(
    "changes",
    [
        {"exam_content_id": None},
        {"attempt_code": None},
        {"exam_content_id": "block-v1:Example X+type@sequential+block@1"},
        {"attempt_code": ["438AD672"]},
    ],
)
def test_incomplete_exam_events_are_skipped(changes: dict[str, Any]) -> None:
    payload = exam_payload("timed", "created")
    payload.update(changes)
    ev = exam_event("timed", "created", {k: v for k, v in payload.items() if v is not None})
    assert transform_event(ev, SETTINGS) == ([], SKIP_INCOMPLETE)


def test_event_name_wins_over_event_type() -> None:
    # A line whose `name` and `event_type` disagree (ERB's own sample has one): the normalised
    # event takes `name`, so the proctored transformer runs.
    ev = exam_event("proctored", "created", event_type="edx.special_exam.timed.attempt.created")
    assert ev.name == "edx.special_exam.proctored.attempt.created"
    [stmt] = transform(ev)
    assert stmt["object"]["definition"]["type"] == ASSESSMENT.format("proctored")


def test_event_bus_shape() -> None:
    # `name`/`data` as the newer event bus emits them, no tracking-log wrapping.
    ev = event("edx.special_exam.practice.attempt.submitted", exam_payload("practice", "submitted"))
    [stmt] = transform(ev)
    assert stmt["verb"] == TERMINATED.as_dict()
