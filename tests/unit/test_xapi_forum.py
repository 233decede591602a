"""Forum family: posts, edits, deletions, reports, views and votes, as ERB writes them."""

from __future__ import annotations

import json
from typing import Any

import pytest

from olx_spark.xapi.event import Event, parse_payload
from olx_spark.xapi.registry import SKIP_INCOMPLETE, transform_event
from olx_spark.xapi.statement import statement_id
from olx_spark.xapi.vocabulary import (
    DELETED,
    EDITED,
    POSTED,
    REPORTED,
    UNREPORTED,
    VIEWED,
    VOTED,
)
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

THREAD = "65f1c2d3e4f5a6b7c8d9e0f1"
RESPONSE = "65f1c2d3e4f5a6b7c8d9e0f2"
COMMENT = "65f1c2d3e4f5a6b7c8d9e0f3"
TOPIC = "0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e"
TITLE = "Why does my recursion never stop?"
BODY = "My function calls itself forever; my email is someone@example.org"
TYPE_EXT = "https://w3id.org/xapi/acrossx/extensions/type"
DISCUSSION = "http://id.tincanapi.com/activitytype/discussion"
ROLES = {"user_forums_roles": ["Student"], "user_course_roles": []}


def forum_event(name: str, path: str, payload: dict[str, Any]) -> Event:
    """The event as the job sees a tracking-log line of the forum (a server event)."""
    line = {
        "event_type": name,
        "event": {"commentable_id": TOPIC, "category_name": "Week 1", **ROLES, **payload},
        "context": {"course_id": COURSE, "org_id": "ExampleX", "user_id": 42, "path": path},
        "username": "learner42",
        "ip": "203.0.113.9",
        "session": SESSION,
        "event_source": "server",
        "time": TIME,
    }
    return event(
        line["event_type"],
        parse_payload(json.dumps(line["event"])),
        context=line["context"],
        timestamp=line["time"],
        session=line["session"],
        course_id=COURSE,
    )


def assert_private(stmt: dict[str, Any]) -> None:
    text = json.dumps(stmt)
    for secret in ("learner42", "author7", "203.0.113.9", BODY, "someone@example.org"):
        assert secret not in text


def thread_grouping() -> dict[str, Any]:
    return {
        "grouping": [
            {
                "id": f"{LMS}/api/discussion/v1/threads/{THREAD}",
                "objectType": "Activity",
                "definition": {"type": DISCUSSION},
            }
        ]
    }


def test_thread_created_exact_statement() -> None:
    ev = forum_event(
        "edx.forum.thread.created",
        f"/courses/{COURSE}/discussion/{TOPIC}/threads/create",
        {
            "group_id": None,
            "thread_type": "question",
            "title": TITLE,
            "title_truncated": False,
            "anonymous": False,
            "anonymous_to_peers": False,
            "options": {"followed": True},
            "id": THREAD,
            "truncated": False,
            "body": BODY,
            "url": f"{LMS}/courses/{COURSE}/discussion/forum/{TOPIC}/threads/{THREAD}",
        },
    )
    [stmt] = transform(ev)
    assert stmt == {
        "id": statement_id(POSTED, ACTOR, TIME, SETTINGS),
        "actor": {"objectType": "Agent", "account": {"homePage": LMS, "name": ACTOR}},
        "verb": {"id": "https://w3id.org/xapi/acrossx/verbs/posted", "display": {"en": "posted"}},
        "object": {
            # The request path, then the thread id (ERB's rule).
            "id": f"{LMS}/courses/{COURSE}/discussion/{TOPIC}/threads/create/{THREAD}",
            "objectType": "Activity",
            # The title is the author's text; ERB (9.2.0 on) names the thread with it.
            "definition": {"type": DISCUSSION, "name": {"en": TITLE}},
        },
        "context": {
            "contextActivities": course_parent(),
            "extensions": {**common_extensions(), TYPE_EXT: "question"},
        },
        "timestamp": TIME,
        "version": "1.0.3",
    }
    assert_private(stmt)


def test_response_created_exact_statement() -> None:
    ev = forum_event(
        "edx.forum.response.created",
        "/api/discussion/v1/comments/",
        {
            "discussion": {"id": THREAD},
            "id": RESPONSE,
            "truncated": False,
            "body": BODY,
            "options": {"followed": False},
            "url": f"{LMS}/courses/{COURSE}/discussion/forum/{TOPIC}/threads/{THREAD}",
        },
    )
    [stmt] = transform(ev)
    assert stmt == {
        "id": statement_id(POSTED, ACTOR, TIME, SETTINGS),
        "actor": {"objectType": "Agent", "account": {"homePage": LMS, "name": ACTOR}},
        "verb": {"id": "https://w3id.org/xapi/acrossx/verbs/posted", "display": {"en": "posted"}},
        "object": {
            "id": f"{LMS}/api/discussion/v1/comments/{RESPONSE}",
            "objectType": "Activity",
            "definition": {"type": DISCUSSION},
        },
        "context": {
            "contextActivities": {**course_parent(), **thread_grouping()},
            "extensions": common_extensions(),
        },
        "timestamp": TIME,
        "version": "1.0.3",
    }
    assert_private(stmt)


def test_comment_created_is_grouped_with_its_thread() -> None:
    ev = forum_event(
        "edx.forum.comment.created",
        "/api/discussion/v1/comments/",
        {"discussion": {"id": THREAD}, "response": {"id": RESPONSE}, "id": COMMENT, "body": BODY},
    )
    [stmt] = transform(ev)
    assert stmt["verb"] == POSTED.as_dict()
    assert stmt["object"] == {
        "id": f"{LMS}/api/discussion/v1/comments/{COMMENT}",
        "objectType": "Activity",
        "definition": {"type": DISCUSSION},
    }
    assert stmt["context"]["contextActivities"] == {**course_parent(), **thread_grouping()}
    assert stmt["context"]["extensions"] == common_extensions()
    assert_private(stmt)


def test_thread_viewed_exact_statement() -> None:
    ev = forum_event(
        "edx.forum.thread.viewed",
        f"/api/discussion/v1/threads/{THREAD}/",
        {
            "id": THREAD,
            "title": TITLE,
            "title_truncated": False,
            "target_username": "author7",
            "team_id": None,
            "url": f"{LMS}/courses/{COURSE}/discussion/forum/{TOPIC}/threads/{THREAD}",
        },
    )
    [stmt] = transform(ev)
    assert stmt == {
        "id": statement_id(VIEWED, ACTOR, TIME, SETTINGS),
        "actor": {"objectType": "Agent", "account": {"homePage": LMS, "name": ACTOR}},
        "verb": {"id": "http://id.tincanapi.com/verb/viewed", "display": {"en": "viewed"}},
        "object": {
            # The id in the path is taken out and put back once at the end.
            "id": f"{LMS}/api/discussion/v1/threads/{THREAD}",
            "objectType": "Activity",
            "definition": {"type": DISCUSSION, "name": {"en": TITLE}},
        },
        "context": {"contextActivities": course_parent(), "extensions": common_extensions()},
        "timestamp": TIME,
        "version": "1.0.3",
    }
    assert_private(stmt)


@pytest.mark.parametrize(
    ("name", "path", "post_id", "vote", "iri"),
    [
        (
            "edx.forum.thread.voted",
            f"/api/discussion/v1/threads/{THREAD}/",
            THREAD,
            "up",
            f"{LMS}/api/discussion/v1/threads/{THREAD}",
        ),
        (
            # The legacy UI's path keeps its tail; removing the id leaves `//` (as in ERB).
            "edx.forum.response.voted",
            f"/courses/{COURSE}/discussion/comments/{RESPONSE}/downvote",
            RESPONSE,
            "down",
            f"{LMS}/courses/{COURSE}/discussion/comments//downvote/{RESPONSE}",
        ),
    ],
)
def test_votes_carry_the_vote_direction(
    name: str, path: str, post_id: str, vote: str, iri: str
) -> None:
    payload = {"id": post_id, "undo_vote": False, "vote_value": vote, "target_username": "author7"}
    [stmt] = transform(forum_event(name, path, payload))
    assert stmt["id"] == statement_id(VOTED, ACTOR, TIME, SETTINGS)
    assert stmt["verb"] == {
        "id": "https://w3id.org/xapi/openedx/verb/voted",
        "display": {"en": "voted"},
    }
    assert stmt["object"] == {
        "id": iri,
        "objectType": "Activity",
        "definition": {"type": DISCUSSION},
    }
    assert stmt["context"]["extensions"] == {**common_extensions(), TYPE_EXT: vote}
    assert_private(stmt)


VERBS = {
    "edited": ("https://w3id.org/xapi/acrossx/verbs/edited", EDITED),
    "deleted": ("https://w3id.org/xapi/dod-isd/verbs/deleted", DELETED),
    "reported": ("https://w3id.org/xapi/acrossx/verbs/reported", REPORTED),
    "unreported": ("https://w3id.org/xapi/openedx/verb/unreported", UNREPORTED),
}
POSTS = {
    "thread": (THREAD, f"/api/discussion/v1/threads/{THREAD}/", "threads"),
    "response": (RESPONSE, f"/api/discussion/v1/comments/{RESPONSE}/", "comments"),
    "comment": (COMMENT, f"/api/discussion/v1/comments/{COMMENT}/", "comments"),
}


@pytest.mark.parametrize("action", sorted(VERBS))
@pytest.mark.parametrize("post", sorted(POSTS))
def test_edit_delete_report_unreport(post: str, action: str) -> None:
    post_id, path, collection = POSTS[post]
    payload: dict[str, Any] = {"id": post_id, "body": BODY, "target_username": "author7"}
    if post != "thread":
        payload["discussion"] = {"id": THREAD}
    [stmt] = transform(forum_event(f"edx.forum.{post}.{action}", path, payload))
    iri, verb = VERBS[action]
    assert stmt["id"] == statement_id(verb, ACTOR, TIME, SETTINGS)
    assert stmt["verb"] == {"id": iri, "display": {"en": action}}
    assert stmt["object"] == {
        "id": f"{LMS}/api/discussion/v1/{collection}/{post_id}",
        "objectType": "Activity",
        "definition": {"type": DISCUSSION},
    }
    grouping = thread_grouping() if post != "thread" else {}
    assert stmt["context"] == {
        "contextActivities": {**course_parent(), **grouping},
        "extensions": common_extensions(),
    }
    assert_private(stmt)


def test_missing_thread_type_or_title_leaves_them_out() -> None:
    ev = forum_event(
        "edx.forum.thread.created",
        "/api/discussion/v1/threads/",
        {"id": THREAD, "thread_type": "", "title": ""},
    )
    [stmt] = transform(ev)
    assert stmt["object"] == {
        "id": f"{LMS}/api/discussion/v1/threads/{THREAD}",
        "objectType": "Activity",
        "definition": {"type": DISCUSSION},
    }
    assert stmt["context"]["extensions"] == common_extensions()


def test_every_forum_event_name_is_registered() -> None:
    names = [f"edx.forum.{post}.{action}" for post in POSTS for action in (*VERBS, "created")]
    names += ["edx.forum.thread.viewed", "edx.forum.thread.voted", "edx.forum.response.voted"]
    for name in names:
        ev = forum_event(name, "/api/discussion/v1/threads/", {"id": THREAD})
        assert len(transform(ev)) == 1, name


@pytest.mark.parametrize(
    "ev",
    [
        forum_event("edx.forum.thread.created", "/api/discussion/v1/threads/", {"title": TITLE}),
        forum_event("edx.forum.comment.deleted", "", {"id": COMMENT}),
        event("edx.forum.thread.viewed", {"id": THREAD}),  # no request path in the context
        event("edx.forum.response.voted", "id=65f1"),  # not a payload object
        forum_event("edx.forum.thread.edited", "/api/discussion/v1/threads/", {"id": ["x"]}),
        event("edx.forum.thread.viewed", {"id": THREAD}, context={"path": 7}),
    ],
)
def test_incomplete_forum_events_are_skipped(ev: Event) -> None:
    assert transform_event(ev, SETTINGS) == ([], SKIP_INCOMPLETE)


def test_whitespace_in_a_path_is_encoded() -> None:
    ev = forum_event(
        "edx.forum.thread.viewed", "/courses/x/discussion/week 1/threads", {"id": THREAD}
    )
    [stmt] = transform(ev)
    assert stmt["object"]["id"] == f"{LMS}/courses/x/discussion/week%201/threads/{THREAD}"
