"""Completion family: block completion changes become `progressed` on the block, as ERB does."""

from __future__ import annotations

import json
from typing import Any

import pytest

from olx_spark.xapi.event import Event, parse_payload
from olx_spark.xapi.registry import SKIP_INCOMPLETE, transform_event
from olx_spark.xapi.statement import statement_id
from olx_spark.xapi.vocabulary import PROGRESSED
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

PROBLEM = "block-v1:ExampleX+CS101+2026_T1+type@problem+block@8d1f2e3a4b5c4d6e9f0a1b2c3d4e5f60"
PROGRESS = "https://w3id.org/xapi/cmi5/result/extensions/progress"


def completion_line(completion: Any) -> dict[str, Any]:
    """A tracking-log line of the completion service (server event, payload as JSON text)."""
    return {
        "event_type": "edx.completion.block_completion.changed",
        "event": json.dumps(
            {
                "user_id": 42,
                "course_id": COURSE,
                "context_key": COURSE,
                "block_id": PROBLEM,
                "block_type": "problem",
                "completion": completion,
            }
        ),
        "context": {
            "course_id": COURSE,
            "org_id": "ExampleX",
            "user_id": 42,
            "path": f"/courses/{COURSE}/xblock/{PROBLEM}/handler/xmodule_handler/problem_check",
        },
        "username": "learner42",
        "ip": "203.0.113.9",
        "session": SESSION,
        "event_source": "server",
        "time": TIME,
    }


def logged(line: dict[str, Any]) -> Event:
    return event(
        line["event_type"],
        parse_payload(line["event"]),
        context=line["context"],
        timestamp=line["time"],
        session=line["session"],
        course_id=line["context"]["course_id"],
    )


def test_block_completion_changed_exact_statement() -> None:
    [stmt] = transform(logged(completion_line(1.0)))
    assert stmt == {
        "id": statement_id(PROGRESSED, ACTOR, TIME, SETTINGS),
        "actor": {"objectType": "Agent", "account": {"homePage": LMS, "name": ACTOR}},
        "verb": {
            "id": "http://adlnet.gov/expapi/verbs/progressed",
            "display": {"en": "progressed"},
        },
        "object": {
            "id": f"{LMS}/xblock/{PROBLEM}",
            "objectType": "Activity",
            "definition": {"type": "http://id.tincanapi.com/activitytype/resource"},
        },
        "result": {"completion": True, "extensions": {PROGRESS: 100.0}},
        "context": {"contextActivities": course_parent(), "extensions": common_extensions()},
        "timestamp": TIME,
        "version": "1.0.3",
    }
    text = json.dumps(stmt)
    assert "learner42" not in text and "203.0.113.9" not in text


@pytest.mark.parametrize(
    ("completion", "result"),
    [
        (0.5, {"completion": False, "extensions": {PROGRESS: 50.0}}),
        (0.0, {"completion": False, "extensions": {PROGRESS: 0.0}}),
        # Unrounded, as ERB multiplies: 0.29 * 100 is not exactly 29.
        (0.29, {"completion": False, "extensions": {PROGRESS: 0.29 * 100}}),
    ],
)
def test_partial_completion(completion: float, result: dict[str, Any]) -> None:
    [stmt] = transform(logged(completion_line(completion)))
    assert stmt["result"] == result


@pytest.mark.parametrize(
    "data",
    [
        {"block_id": PROBLEM},
        {"block_id": PROBLEM, "completion": None},
        {"block_id": PROBLEM, "completion": "1.0"},
        {"block_id": PROBLEM, "completion": True},
        {"completion": 1.0},
        {"block_id": {"usage_key": PROBLEM}, "completion": 1.0},
        {"block_id": "block v1", "completion": 1.0},
        {"block_id": PROBLEM, "completion": float("nan")},
        "not a payload",
    ],
)
def test_incomplete_completion_events_are_skipped(data: Any) -> None:
    ev = event("edx.completion.block_completion.changed", data)
    assert transform_event(ev, SETTINGS) == ([], SKIP_INCOMPLETE)
