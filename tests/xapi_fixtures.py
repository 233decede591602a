"""Helpers for the xAPI tests: one settings object, an event builder, and a check that every
statement a transformer returns is valid xAPI 1.0.3 before its content is compared; and, for
whole tracking-log lines, `input_row` (the line as the xAPI job receives it from the landed
events table) and `line_statements` (the statements the job writes for it)."""

from __future__ import annotations

import json
from typing import Any

from olx_spark.xapi.batch import BatchSettings, transform_rows
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


def _text(value: Any) -> str | None:
    """A top-level value as the landing's `from_json` map gives it: a string as is, anything
    else as its JSON."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"))


def _payload_json(value: Any) -> str | None:
    """The payload as `event_json` keeps it (`olx_spark.spark.tracking_logs.json_text`)."""
    if value is None:
        return None
    if isinstance(value, str):
        return value if value.lstrip()[:1] in ("{", "[") else json.dumps(value)
    return json.dumps(value, separators=(",", ":"))


def input_row(line: dict[str, Any], course_name: str | None = COURSE_NAME) -> dict[str, Any]:
    """A tracking-log line (as a dict) -> the row the xAPI job's executors get for it: the
    columns the landing keeps (`olx_spark.spark.tracking_logs.parse_lines`) as
    `olx_spark.spark.xapi_statements.event_inputs` selects them, the actor mapped to ACTOR."""
    context = line.get("context") if isinstance(line.get("context"), dict) else {}
    payload = line["event"] if line.get("event") is not None else line.get("data")
    fields = payload if isinstance(payload, dict) else {}
    user_id = context.get("user_id", fields.get("user_id"))
    return {
        "file_sha256": "f" * 64,
        "line_number": 1,
        "name": line.get("name") or line.get("event_type"),
        "event_source": _text(line.get("event_source")),
        "event_time_raw": _text(line.get("time", line.get("timestamp"))),
        "session": _text(line.get("session")),
        "page": _text(line.get("page")),
        "referer": _text(line.get("referer")),
        "course_id": context.get("course_id"),
        "org_id": context.get("org_id"),
        "event_json": _payload_json(payload),
        "context_json": _text(line.get("context")),
        "actor_user_id": user_id if isinstance(user_id, int) else None,
        "actor_username": line.get("username") or fields.get("username"),
        "external_user_id": ACTOR,
        "course_name": course_name,
    }


def line_statements(line: dict[str, Any], course_name: str | None = COURSE_NAME) -> list[Any]:
    """The statements the xAPI job writes for one tracking-log line, each checked valid."""
    settings = BatchSettings(LMS, SETTINGS.transformer_version, salt="", mapping=True)
    rows = transform_rows([input_row(line, course_name)], settings).to_pylist()
    assert all(row["reason"] is None for row in rows), rows
    statements = [json.loads(row["statement"]) for row in rows]
    for stmt in statements:
        assert problems(stmt) == [], problems(stmt)
    return statements
