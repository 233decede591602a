"""Helpers for the xAPI tests: one settings object, an event builder, and a check that every
statement a transformer returns is valid xAPI 1.0.3 before its content is compared."""

from __future__ import annotations

from typing import Any

from olx_spark.xapi.event import Event
from olx_spark.xapi.registry import transform_event
from olx_spark.xapi.statement import Settings, Statement
from olx_spark.xapi.validate import problems

LMS = "https://lms.example.org"
SETTINGS = Settings(lms_root_url=LMS, transformer_version="olx-spark@test")
ACTOR = "5b0f3c3e-1f7e-4d7a-9c36-0d6c2a9f4e11"
COURSE = "course-v1:ExampleX+CS101+2026_T1"
COURSE_NAME = "Introduction to Examples"
TIME = "2026-03-02T10:15:30.123456+00:00"
SESSION = "c0ffee0c0ffee0c0ffee0c0ffee0c0f"


def event(name: str, data: Any = None, **fields: Any) -> Event:
    """An event of `name` by ACTOR in COURSE (override any `Event` field by keyword)."""
    values: dict[str, Any] = {
        "name": name,
        "timestamp": TIME,
        "actor_id": ACTOR,
        "data": {} if data is None else data,
        "context": {"course_id": COURSE, "user_id": 42, "org_id": "ExampleX"},
        "event_source": "server",
        "session": SESSION,
        "course_id": COURSE,
        "course_name": COURSE_NAME,
    }
    values.update(fields)
    return Event(**values)


def transform(ev: Event) -> list[Statement]:
    """The statements for `ev`, each checked against xAPI 1.0.3 first."""
    statements, skipped = transform_event(ev, SETTINGS)
    assert skipped is None, f"{ev.name} skipped: {skipped}"
    for stmt in statements:
        assert problems(stmt) == [], (ev.name, problems(stmt))
    return statements


def course_parent() -> dict[str, Any]:
    return {
        "parent": [
            {
                "id": f"{LMS}/course/{COURSE}",
                "objectType": "Activity",
                "definition": {
                    "type": "http://adlnet.gov/expapi/activities/course",
                    "name": {"en-US": COURSE_NAME},
                },
            }
        ]
    }


def common_extensions() -> dict[str, Any]:
    return {
        "https://w3id.org/xapi/openedx/extension/transformer-version": "olx-spark@test",
        "https://w3id.org/xapi/openedx/extensions/session-id": SESSION,
    }
