"""Navigation events -> xAPI statements (families/navigation.py): links, outline selections and
sequence moves, each statement shape compared whole, the variants, and the skip cases."""

from __future__ import annotations

from typing import Any

import pytest

from olx_spark.xapi.registry import SKIP_INCOMPLETE, transform_event, transformer_for
from olx_spark.xapi.statement import statement_id
from olx_spark.xapi.vocabulary import NAVIGATED
from tests.xapi_fixtures import (
    ACTOR,
    COURSE,
    LMS,
    SETTINGS,
    TIME,
    common_extensions,
    course_parent,
    event,
    transform,
)

SEQUENCE = "block-v1:ExampleX+CS101+2026_T1+type@sequential+block@19a30717eff543078a5d94ae9d6c18a5"
JUMP_URL = f"{LMS}/courses/{COURSE}/jump_to/{SEQUENCE}"
NAVIGATED_VERB = {
    "id": "https://w3id.org/xapi/dod-isd/verbs/navigated",
    "display": {"en": "navigated"},
}
ACTOR_JSON = {"objectType": "Agent", "account": {"homePage": LMS, "name": ACTOR}}
STARTING = "http://id.tincanapi.com/extension/starting-position"
ENDING = "http://id.tincanapi.com/extension/ending-point"
TOTAL = "https://w3id.org/xapi/acrossx/extensions/total-items"


def browser(name: str, data: Any, **fields: Any) -> Any:
    """A browser event (its JSON string payload already parsed into `data`)."""
    values: dict[str, Any] = {
        "event_source": "browser",
        "page": f"{LMS}/courses/{COURSE}/courseware/week1/",
    }
    values.update(fields)
    return event(name, data, **values)


def test_link_clicked_exact_statement() -> None:
    ev = browser(
        "edx.ui.lms.link_clicked",
        {"current_url": f"{LMS}/courses/{COURSE}/courseware/week1/", "target_url": JUMP_URL},
    )
    [stmt] = transform(ev)
    assert stmt == {
        "id": statement_id(NAVIGATED, ACTOR, TIME, SETTINGS),
        "actor": ACTOR_JSON,
        "verb": NAVIGATED_VERB,
        "object": {
            "id": JUMP_URL,
            "objectType": "Activity",
            "definition": {"type": "http://adlnet.gov/expapi/activities/link"},
        },
        "context": {"contextActivities": course_parent(), "extensions": common_extensions()},
        "timestamp": TIME,
        "version": "1.0.3",
    }


def test_link_clicked_outside_a_course_has_no_parent() -> None:
    ev = browser(
        "edx.ui.lms.link_clicked",
        {"current_url": f"{LMS}/dashboard", "target_url": "https://docs.example.org/guide"},
        course_id=None,
        context={"user_id": 42},
    )
    [stmt] = transform(ev)
    assert stmt["object"]["id"] == "https://docs.example.org/guide"
    assert stmt["context"] == {"extensions": common_extensions()}


@pytest.mark.parametrize(
    "name", ["edx.ui.lms.outline.selected", "edx.ui.lms.sequence.outline.selected"]
)
def test_outline_selected_exact_statement(name: str) -> None:
    data = {
        "target_name": "Lesson 3 - Be Social",
        "target_url": JUMP_URL,
        "widget_placement": "accordion",
    }
    [stmt] = transform(browser(name, data))
    assert stmt == {
        "id": statement_id(NAVIGATED, ACTOR, TIME, SETTINGS),
        "actor": ACTOR_JSON,
        "verb": NAVIGATED_VERB,
        "object": {
            "id": JUMP_URL,
            "objectType": "Activity",
            "definition": {
                "type": "http://adlnet.gov/expapi/activities/module",
                "name": {"en": "Lesson 3 - Be Social"},
            },
        },
        "context": {"contextActivities": course_parent(), "extensions": common_extensions()},
        "timestamp": TIME,
        "version": "1.0.3",
    }


def test_next_selected_exact_statement() -> None:
    data = {"current_tab": 4, "tab_count": 10, "id": SEQUENCE, "widget_placement": "top"}
    [stmt] = transform(browser("edx.ui.lms.sequence.next_selected", data))
    assert stmt == {
        "id": statement_id(NAVIGATED, ACTOR, TIME, SETTINGS),
        "actor": ACTOR_JSON,
        "verb": NAVIGATED_VERB,
        "object": {
            "id": f"{LMS}/xblock/{SEQUENCE}",
            "objectType": "Activity",
            "definition": {
                "type": "http://id.tincanapi.com/activitytype/resource",
                "extensions": {"https://w3id.org/xapi/acrossx/extensions/total-items": 10},
            },
        },
        "context": {
            "contextActivities": course_parent(),
            "extensions": {
                **common_extensions(),
                "http://id.tincanapi.com/extension/starting-position": 4,
                "http://id.tincanapi.com/extension/ending-point": "next unit",
            },
        },
        "timestamp": TIME,
        "version": "1.0.3",
    }


@pytest.mark.parametrize(
    ("name", "data", "positions"),
    [
        (
            "edx.ui.lms.sequence.previous_selected",
            {"current_tab": 4, "tab_count": 10, "id": SEQUENCE},
            {STARTING: 4, ENDING: "previous unit"},
        ),
        (
            "edx.ui.lms.sequence.tab_selected",
            {"current_tab": 4, "target_tab": 7, "tab_count": 10, "id": SEQUENCE},
            {STARTING: 4, ENDING: 7},
        ),
        (
            # A tab selected without its target: the ending point is left out, as ERB does.
            "edx.ui.lms.sequence.tab_selected",
            {"current_tab": 1, "tab_count": 10, "id": SEQUENCE},
            {STARTING: 1},
        ),
    ],
)
def test_previous_and_tab_selected_positions(
    name: str, data: dict[str, Any], positions: dict[str, Any]
) -> None:
    [stmt] = transform(browser(name, data))
    assert stmt["verb"] == NAVIGATED_VERB
    assert stmt["object"]["id"] == f"{LMS}/xblock/{SEQUENCE}"
    assert stmt["object"]["definition"]["extensions"] == {TOTAL: 10}
    assert stmt["context"]["extensions"] == {**common_extensions(), **positions}


def test_sequence_without_tab_facts_keeps_empty_definition_extensions() -> None:
    # Zero is a value (ERB keeps it); a missing count leaves ERB's empty extensions object.
    [stmt] = transform(browser("edx.ui.lms.sequence.next_selected", {"id": SEQUENCE}))
    assert stmt["object"]["definition"] == {
        "type": "http://id.tincanapi.com/activitytype/resource",
        "extensions": {},
    }
    assert stmt["context"]["extensions"] == {**common_extensions(), ENDING: "next unit"}
    data = {"current_tab": 0, "tab_count": 0, "id": SEQUENCE}
    [zero] = transform(browser("edx.ui.lms.sequence.previous_selected", data))
    assert zero["object"]["definition"]["extensions"] == {TOTAL: 0}
    assert zero["context"]["extensions"][STARTING] == 0


def test_every_navigation_event_of_the_spec_is_registered_here() -> None:
    for name in (
        "edx.ui.lms.link_clicked",
        "edx.ui.lms.outline.selected",
        "edx.ui.lms.sequence.outline.selected",
        "edx.ui.lms.sequence.next_selected",
        "edx.ui.lms.sequence.previous_selected",
        "edx.ui.lms.sequence.tab_selected",
    ):
        func = transformer_for(name)
        assert func is not None and func.__module__ == "olx_spark.xapi.families.navigation"


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("edx.ui.lms.link_clicked", {"current_url": JUMP_URL}),  # no target
        ("edx.ui.lms.link_clicked", {"target_url": "/courses/relative/"}),  # not absolute
        ("edx.ui.lms.link_clicked", {"target_url": "javascript:void(0)"}),
        ("edx.ui.lms.outline.selected", {"target_url": JUMP_URL}),  # no name
        ("edx.ui.lms.outline.selected", {"target_url": JUMP_URL, "target_name": ""}),
        ("edx.ui.lms.sequence.outline.selected", {"target_name": "Week 1"}),  # no target
        ("edx.ui.lms.sequence.next_selected", {"current_tab": 1, "tab_count": 3}),  # no id
        ("edx.ui.lms.sequence.tab_selected", '{"id": "truncated'),  # payload did not parse
    ],
)
def test_incomplete_events_are_skipped(name: str, data: Any) -> None:
    assert transform_event(browser(name, data), SETTINGS) == ([], SKIP_INCOMPLETE)


@pytest.mark.parametrize(
    ("target", "context"),
    [
        ("mailto:instructor@example.org", {}),
        (f"{LMS}/u/learner42", {}),  # the LMS learner profile
        ("https://profile.example.org/u/learner42?tab=about", {}),  # the profile MFE
        ("https://forms.example.org/survey?email=learner%40example.org", {}),
        ("https://learner42:secret@files.example.org/notes.pdf", {}),
        ("https://wiki.example.org/people/learner42", {"username": "learner42"}),
    ],
)
def test_links_that_name_a_person_are_skipped(target: str, context: dict[str, Any]) -> None:
    # ERB would copy these targets into the object id; no statement here carries a username
    # or an email.
    ev = browser(
        "edx.ui.lms.link_clicked",
        {"target_url": target},
        context={"course_id": COURSE, "user_id": 42, **context},
    )
    assert transform_event(ev, SETTINGS) == ([], SKIP_INCOMPLETE)


def test_a_short_username_inside_other_words_does_not_skip_a_link() -> None:
    ev = browser(
        "edx.ui.lms.link_clicked",
        {"target_url": JUMP_URL},
        context={"course_id": COURSE, "user_id": 42, "username": "ex"},
    )
    [stmt] = transform(ev)
    assert stmt["object"]["id"] == JUMP_URL
