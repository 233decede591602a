"""The parts every statement shares: the id formula of specs/xapi.md, the actor, the context,
timestamps, and the enrollment family as the worked example of a whole statement."""

from __future__ import annotations

import json
import uuid

from olx_spark.xapi.event import Event, parse_payload
from olx_spark.xapi.registry import SKIP_INCOMPLETE, SKIP_NO_TRANSFORMER, transform_event
from olx_spark.xapi.statement import iso_timestamp, statement_id
from olx_spark.xapi.validate import problems
from olx_spark.xapi.vocabulary import REGISTERED
from tests.xapi_fixtures import (
    ACTOR,
    COURSE,
    COURSE_NAME,
    LMS,
    SETTINGS,
    TIME,
    common_extensions,
    event,
    transform,
)


def test_statement_id_is_the_spec_formula_spelled_out() -> None:
    verb_json = (
        '{"id": "http://adlnet.gov/expapi/verbs/registered", "display": {"en": "registered"}}'
    )
    actor_json = (
        '{"objectType": "Agent", "account": {"name": "' + ACTOR + '", "homePage": "' + LMS + '"}}'
    )
    namespace = uuid.uuid5(uuid.UUID("6ba7b810-9dad-11d1-80b4-00c04fd430c8"), verb_json)
    expected = str(uuid.uuid5(namespace, f"{actor_json}-{TIME}"))
    assert statement_id(REGISTERED, ACTOR, TIME, SETTINGS) == expected


def test_same_event_same_id_and_any_change_changes_it() -> None:
    first = transform(event("edx.course.enrollment.activated", {"mode": "audit"}))[0]
    again = transform(event("edx.course.enrollment.activated", {"mode": "audit"}))[0]
    assert first == again
    later = transform(event("edx.course.enrollment.activated", timestamp=TIME[:-6] + "9+00:00"))
    other_user = transform(event("edx.course.enrollment.activated", actor_id=str(uuid.uuid4())))
    other_verb = transform(event("edx.course.enrollment.deactivated"))
    ids = {first["id"], later[0]["id"], other_user[0]["id"], other_verb[0]["id"]}
    assert len(ids) == 4


def test_enrollment_activated_exact_statement() -> None:
    ev = event("edx.course.enrollment.activated", {"mode": "verified", "user_id": 42})
    [stmt] = transform(ev)
    assert stmt == {
        "id": statement_id(REGISTERED, ACTOR, TIME, SETTINGS),
        "actor": {"objectType": "Agent", "account": {"homePage": LMS, "name": ACTOR}},
        "verb": {
            "id": "http://adlnet.gov/expapi/verbs/registered",
            "display": {"en": "registered"},
        },
        "object": {
            "id": f"{LMS}/course/{COURSE}",
            "objectType": "Activity",
            "definition": {
                "type": "http://adlnet.gov/expapi/activities/course",
                "name": {"en": COURSE_NAME},
                "extensions": {"https://w3id.org/xapi/acrossx/extensions/type": "verified"},
            },
        },
        "context": {"extensions": common_extensions()},
        "timestamp": TIME,
        "version": "1.0.3",
    }


def test_unknown_event_and_incomplete_event_are_skipped_with_a_reason() -> None:
    assert transform_event(event("some.unknown.event"), SETTINGS) == ([], SKIP_NO_TRANSFORMER)
    no_course = event("edx.course.enrollment.activated", course_id=None, context={})
    assert transform_event(no_course, SETTINGS) == ([], SKIP_INCOMPLETE)


def test_timestamps_get_an_offset_and_keep_their_digits() -> None:
    assert iso_timestamp("2014-03-03T16:19:19.463812") == "2014-03-03T16:19:19.463812+00:00"
    assert iso_timestamp("2014-03-03 16:19:19") == "2014-03-03T16:19:19+00:00"
    assert iso_timestamp("2020-07-15T06:52:55Z") == "2020-07-15T06:52:55+00:00"
    assert iso_timestamp("2020-07-15T06:52:55.1-05:00") == "2020-07-15T06:52:55.1-05:00"


def test_payload_normalisation() -> None:
    assert parse_payload('{"a": 1}') == {"a": 1}
    assert parse_payload(json.dumps('{"a": 1}')) == {"a": 1}  # JSON inside a string
    assert parse_payload('"input_x=2&input_y=3"') == "input_x=2&input_y=3"
    assert parse_payload(None) == {}
    ev = Event(name="x", timestamp=TIME, actor_id=ACTOR, data={"a": {"b": 0}})
    assert ev.get("data.a.b") == 0
    assert ev.get("data.a.c", "d") == "d"
    assert ev.get("context.x") is None


def test_validator_catches_what_it_should() -> None:
    [good] = transform(event("edx.course.enrollment.activated"))
    assert problems(good) == []
    broken = json.loads(json.dumps(good))
    broken["id"] = "not-a-uuid"
    broken["object"]["id"] = "course-v1:relative"
    broken["actor"]["mbox"] = "mailto:a@b.c"
    broken["timestamp"] = "2020-07-15T06:52:55"
    broken["result"] = {"score": {"scaled": 1.5, "raw": 5, "max": 3}}
    found = "\n".join(problems(broken))
    for fragment in (
        "id:",
        "object.id",
        "exactly one identifier",
        "no offset",
        "scaled",
        "above max",
    ):
        assert fragment in found


def test_uuid5_text_is_uuid5() -> None:
    from olx_spark.xapi.statement import uuid5_text

    for name in ("", "a", "é-ü", "x" * 1000, '{"objectType": "Agent"}-2024-01-01T00:00:00+00:00'):
        for namespace in (uuid.NAMESPACE_DNS, REGISTERED.namespace):
            assert uuid5_text(namespace, name) == str(uuid.uuid5(namespace, name))
