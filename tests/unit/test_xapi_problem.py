"""The problem family: problem_check (server, with one or several questions, and browser),
showanswer, demand hints, graded submissions and completions, each compared to the exact
statement ERB's problem transformers give, plus the events that cannot be transformed."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from olx_spark.xapi.event import parse_payload
from olx_spark.xapi.registry import SKIP_INCOMPLETE, transform_event
from olx_spark.xapi.statement import statement_id
from olx_spark.xapi.vocabulary import ASKED, ATTEMPTED, COMPLETED, EVALUATED
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

BLOCK_HASH = "5e1c0a7d9b3f4c2e8a6d4b2f0c9e7a51"
PROBLEM = f"block-v1:ExampleX+CS101+2026_T1+type@problem+block@{BLOCK_HASH}"
PROBLEM_IRI = f"{LMS}/xblock/{PROBLEM}"
VERTICAL = "block-v1:ExampleX+CS101+2026_T1+type@vertical+block@0d6a2c4e8f1b4d3a9c7e5b3a1f0e2d4c"
INTERACTION = "http://adlnet.gov/expapi/activities/cmi.interaction"
ATTEMPT_ID = "http://id.tincanapi.com/extension/attempt-id"


def actor() -> dict[str, Any]:
    return {"objectType": "Agent", "account": {"homePage": LMS, "name": ACTOR}}


def verb(name: str, iri: str) -> dict[str, Any]:
    return {"id": iri, "display": {"en": name}}


def server_context(display_name: str = "Ocean colours") -> dict[str, Any]:
    """The context of a server problem_check, as the LMS logs it (PII included, on purpose)."""
    return {
        "course_id": COURSE,
        "org_id": "ExampleX",
        "user_id": 42,
        "username": "ada_lovelace",
        "ip": "203.0.113.7",
        "path": f"/courses/{COURSE}/xblock/{PROBLEM}/handler/xmodule_handler/problem_check",
        "module": {"display_name": display_name, "usage_key": PROBLEM},
    }


def check_data(submission: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    """A server problem_check payload with `submission`, graded 1 of 2 on the first attempt."""
    data: dict[str, Any] = {
        "problem_id": PROBLEM,
        "answers": {key: value.get("answer") for key, value in submission.items()},
        "grade": 1,
        "max_grade": 2,
        "success": "incorrect",
        "attempts": 1,
        "state": {"seed": 1, "done": None, "student_answers": {}},
        "correct_map": {},
        "submission": submission,
    }
    data.update(overrides)
    return data


def question(
    text: str, answer: Any, response_type: str = "multiplechoiceresponse", correct: Any = True
) -> dict[str, Any]:
    return {
        "question": text,
        "answer": answer,
        "response_type": response_type,
        "input_type": "choicegroup",
        "correct": correct,
        "variant": "",
        "group_label": "",
    }


def server_check(data: dict[str, Any], **fields: Any) -> Any:
    return event("problem_check", data, context=server_context(), **fields)


# --- problem_check from the server: one question --------------------------------------------


def test_server_problem_check_one_question_exact_statement() -> None:
    data = check_data({f"{BLOCK_HASH}_2_1": question("What colour is the open sea?", "blue")})
    [stmt] = transform(server_check(data))
    assert stmt == {
        "id": statement_id(EVALUATED, ACTOR, TIME, SETTINGS),
        "actor": actor(),
        "verb": verb("evaluated", "https://w3id.org/xapi/acrossx/verbs/evaluated"),
        "object": {
            "id": PROBLEM_IRI,
            "objectType": "Activity",
            "definition": {
                "type": INTERACTION,
                "interactionType": "choice",
                "description": {"en-US": "What colour is the open sea?"},
                "extensions": {ATTEMPT_ID: 1},
            },
        },
        "result": {
            "score": {"min": 0.0, "max": 2.0, "raw": 1.0, "scaled": 0.5},
            "success": True,
            "response": "blue",
        },
        "context": {"contextActivities": course_parent(), "extensions": common_extensions()},
        "timestamp": TIME,
        "version": "1.0.3",
    }
    # Scores are floats, as tincan's Score writes them.
    assert all(isinstance(v, float) for v in stmt["result"]["score"].values())


def test_server_problem_check_list_answer_is_json_text_keeping_non_ascii() -> None:
    sub = question("Which are instruments?", ["a piano", "a cello — bowed"], "choiceresponse")
    [stmt] = transform(server_check(check_data({f"{BLOCK_HASH}_2_1": sub}, grade=0)))
    assert stmt["result"]["response"] == '["a piano", "a cello — bowed"]'
    assert stmt["result"]["score"] == {"min": 0.0, "max": 2.0, "raw": 0.0, "scaled": 0.0}
    assert stmt["object"]["definition"]["interactionType"] == "choice"


def test_server_problem_check_numeric_answer_and_false_correctness() -> None:
    sub = question("2 + 2?", "5", "numericalresponse", correct=False)
    [stmt] = transform(server_check(check_data({f"{BLOCK_HASH}_2_1": sub}, attempts=3)))
    assert stmt["result"]["success"] is False
    assert stmt["result"]["response"] == "5"
    definition = stmt["object"]["definition"]
    assert definition["interactionType"] == "numeric"
    assert definition["extensions"] == {ATTEMPT_ID: 3}


def test_server_problem_check_max_grade_zero_scales_to_zero() -> None:
    sub = question("Survey: favourite colour?", "green")
    data = check_data({f"{BLOCK_HASH}_2_1": sub}, grade=0, max_grade=0)
    [stmt] = transform(server_check(data))
    assert stmt["result"]["score"] == {"min": 0.0, "max": 0.0, "raw": 0.0, "scaled": 0.0}


def test_server_problem_check_without_grades_keeps_only_min() -> None:
    data = check_data({f"{BLOCK_HASH}_2_1": question("Q?", "a")})
    del data["grade"], data["max_grade"]
    [stmt] = transform(server_check(data))
    assert stmt["result"]["score"] == {"min": 0.0}


def test_server_problem_check_unsupported_response_type_is_other() -> None:
    sub = question("Draw the circuit", "<svg/>", "jsinputresponse_of_some_xblock")
    [stmt] = transform(server_check(check_data({f"{BLOCK_HASH}_2_1": sub})))
    assert stmt["object"]["definition"] == {
        "type": INTERACTION,
        "interactionType": "other",
        "description": {"en-US": "Draw the circuit"},
        "extensions": {ATTEMPT_ID: 1},
    }
    custom = question("Code it", "print(1)", "customresponse")
    [stmt] = transform(server_check(check_data({f"{BLOCK_HASH}_2_1": custom})))
    assert stmt["object"]["definition"]["interactionType"] == "other"


def test_server_problem_check_without_response_type_is_named_after_the_block() -> None:
    # No submission names a response type: the object is named after the block, the legacy
    # `answers` are the response (as Python writes the dict) and `success` decides.
    sub = {"question": "", "answer": "choice_1", "response_type": "", "correct": True}
    data = check_data({f"{BLOCK_HASH}_2_1": sub}, success="correct", attempts=0)
    [stmt] = transform(server_check(data))
    assert stmt["object"] == {
        "id": PROBLEM_IRI,
        "objectType": "Activity",
        "definition": {
            "type": INTERACTION,
            "name": {"en-US": "Ocean colours"},
            "interactionType": "other",
        },
    }
    assert stmt["result"] == {
        "score": {"min": 0.0, "max": 2.0, "raw": 1.0, "scaled": 0.5},
        "success": True,
        "response": "{'" + BLOCK_HASH + "_2_1': 'choice_1'}",
    }


def test_server_problem_check_from_before_submissions_existed() -> None:
    # 2013 events have `answers` but no `submission`, and no module in the context.
    data = {
        "problem_id": PROBLEM,
        "answers": {f"{BLOCK_HASH}_2_1": ["choice_0", "choice_2"]},
        "grade": 0,
        "max_grade": 1,
        "success": "incorrect",
        "attempts": 2,
    }
    ev = event("problem_check", data, context={"course_id": COURSE, "user_id": 42})
    [stmt] = transform(ev)
    assert stmt["object"]["definition"] == {
        "type": INTERACTION,
        "interactionType": "other",
        "extensions": {ATTEMPT_ID: 2},
    }
    assert stmt["result"] == {
        "score": {"min": 0.0, "max": 1.0, "raw": 0.0, "scaled": 0.0},
        "success": False,
        "response": "{'" + BLOCK_HASH + "_2_1': ['choice_0', 'choice_2']}",
    }


def test_server_problem_check_module_id_when_no_problem_id() -> None:
    data = check_data({f"{BLOCK_HASH}_2_1": question("Q?", "a")})
    data["module_id"] = data.pop("problem_id")
    [stmt] = transform(server_check(data))
    assert stmt["object"]["id"] == PROBLEM_IRI


# --- problem_check from the server: several questions ---------------------------------------


def child_id(question_id: str) -> str:
    """ERB's child statement id spelled out: the question id joins the verb's namespace key."""
    verb_json = (
        '{"id": "https://w3id.org/xapi/acrossx/verbs/evaluated", "display": {"en": "evaluated"}}'
    )
    actor_json = (
        '{"objectType": "Agent", "account": {"name": "' + ACTOR + '", "homePage": "' + LMS + '"}}'
    )
    base = uuid.UUID("6ba7b810-9dad-11d1-80b4-00c04fd430c8")
    namespace = uuid.uuid5(base, f"{verb_json}-{question_id}")
    return str(uuid.uuid5(namespace, f"{actor_json}-{TIME}"))


def test_multi_question_problem_check_gives_parent_and_one_child_per_question() -> None:
    q2, q3, q4 = (f"{BLOCK_HASH}_{n}_1" for n in (2, 3, 4))
    submission = {
        q2: question("What colour is the sea?", "blue", "optionresponse", correct=True),
        q3: question("Which is for sitting?", "a bookshelf", correct=False),
        q4: question("Which are instruments?", ["a window"], "choiceresponse", correct=False),
    }
    data = check_data(submission, grade=1, max_grade=3)
    statements = transform(server_check(data))
    assert len(statements) == 4
    parent, first, second, third = statements

    # The group is the problem, as ERB's expected statements have it: named after the block,
    # no question text, no attempt number, interaction type "other".
    parent_object = {
        "id": PROBLEM_IRI,
        "objectType": "Activity",
        "definition": {
            "type": INTERACTION,
            "name": {"en-US": "Ocean colours"},
            "interactionType": "other",
        },
    }
    assert parent == {
        "id": "37305990-7d66-5b0f-a719-6b03b0f45959",
        "actor": actor(),
        "verb": verb("evaluated", "https://w3id.org/xapi/acrossx/verbs/evaluated"),
        "object": parent_object,
        # Partly correct is not a success; the answers are the questions' responses.
        "result": {
            "score": {"min": 0.0, "max": 3.0, "raw": 1.0, "scaled": 1 / 3},
            "success": False,
        },
        "context": {"contextActivities": course_parent(), "extensions": common_extensions()},
        "timestamp": TIME,
        "version": "1.0.3",
    }
    assert parent["id"] == statement_id(EVALUATED, ACTOR, TIME, SETTINGS)
    assert third == {
        "id": child_id(q4),
        "actor": actor(),
        "verb": verb("evaluated", "https://w3id.org/xapi/acrossx/verbs/evaluated"),
        "object": {
            "id": f"{PROBLEM_IRI}_4_1",
            "objectType": "Activity",
            "definition": {
                "type": INTERACTION,
                "interactionType": "choice",
                "description": {"en-US": "Which are instruments?"},
            },
        },
        "result": {"success": False, "response": '["a window"]'},
        "context": {
            "contextActivities": {
                "parent": [parent_object],
                "grouping": course_parent()["parent"],
            },
            "extensions": common_extensions(),
            "statement": {"objectType": "StatementRef", "id": parent["id"]},
        },
        "timestamp": TIME,
        "version": "1.0.3",
    }
    assert [s["object"]["id"] for s in (first, second)] == [
        f"{PROBLEM_IRI}_2_1",
        f"{PROBLEM_IRI}_3_1",
    ]
    assert first["result"] == {"success": True, "response": "blue"}
    assert second["result"] == {"success": False, "response": "a bookshelf"}
    assert first["object"]["definition"]["interactionType"] == "choice"
    # Same actor, verb and timestamp, yet four different ids: the question id makes the child's.
    assert [s["id"] for s in statements] == [parent["id"], child_id(q2), child_id(q3), child_id(q4)]
    assert [s["id"] for s in statements[1:]] == [
        "9c0627bb-221d-5234-b4ea-1e0fa0eaa30f",
        "0336994f-0351-52c1-99df-f59291313316",
        "9a04a4ef-ce88-5e2a-9711-c9ed6a7344cd",
    ]


def test_multi_question_group_succeeds_only_when_the_whole_problem_is_correct() -> None:
    submission = {f"{BLOCK_HASH}_{n}_1": question(f"Q{n}?", "a") for n in (2, 3)}
    data = check_data(submission, grade=2, max_grade=2, success="correct")
    ev = event("problem_check", data, context={"course_id": COURSE, "user_id": 42})
    group, *_ = transform(ev)
    # No module in the context: the group has no name (ERB has nothing to name it after).
    assert group["object"]["definition"] == {"type": INTERACTION, "interactionType": "other"}
    assert group["result"] == {
        "score": {"min": 0.0, "max": 2.0, "raw": 2.0, "scaled": 1.0},
        "success": True,
    }


def test_multi_question_child_ids_are_stable_across_runs() -> None:
    submission = {f"{BLOCK_HASH}_{n}_1": question(f"Q{n}?", "a") for n in (2, 3)}
    first = transform(server_check(check_data(submission)))
    again = transform(server_check(check_data(submission)))
    assert first == again


def test_multi_question_child_without_its_submission_details() -> None:
    # A question whose submission entry is empty: named after the block, no response.
    submission = {f"{BLOCK_HASH}_2_1": question("Q?", "a"), f"{BLOCK_HASH}_3_1": {}}
    _, _, child = transform(server_check(check_data(submission, success="incorrect")))
    assert child["object"]["definition"] == {
        "type": INTERACTION,
        "name": {"en-US": "Ocean colours"},
        "interactionType": "other",
    }
    assert child["result"] == {"success": False}


def test_multi_question_without_course_has_no_grouping() -> None:
    submission = {f"{BLOCK_HASH}_{n}_1": question(f"Q{n}?", "a") for n in (2, 3)}
    ev = event(
        "problem_check",
        check_data(submission),
        context={"module": {"usage_key": PROBLEM}},
        course_id=None,
    )
    parent, child, _ = transform(ev)
    assert "contextActivities" not in parent["context"]
    assert child["context"]["contextActivities"] == {"parent": [parent["object"]]}


# --- problem_check from the browser ---------------------------------------------------------

BROWSER_PAGE = (
    f"{LMS}/courses/{COURSE}/courseware/4a1b/9c2d/?activate_block_id="
    + VERTICAL.replace(":", "%3A").replace("+", "%2B").replace("@", "%40")
)


def browser_check(payload_json: str, page: str | None = BROWSER_PAGE, course: str = COURSE) -> Any:
    """A legacy browser problem_check: `event` is JSON text of the serialised inputs."""
    context = {"course_id": course, "org_id": "ExampleX", "user_id": 42, "path": "/event"}
    return event(
        "problem_check",
        parse_payload(payload_json),
        context=context,
        event_source="browser",
        page=page,
        course_id=course,
    )


def test_browser_problem_check_exact_statement() -> None:
    payload = json.dumps(f"input_{BLOCK_HASH}_2_1=choice_1&input_{BLOCK_HASH}_3_1=7")
    ev = browser_check(payload)
    assert isinstance(ev.data, str)
    [stmt] = transform(ev)
    assert stmt == {
        "id": statement_id(ATTEMPTED, ACTOR, TIME, SETTINGS),
        "actor": actor(),
        "verb": verb("attempted", "http://adlnet.gov/expapi/verbs/attempted"),
        # ERB takes the referring page's activate_block_id, whatever block it names.
        "object": {
            "id": f"{LMS}/xblock/{VERTICAL}",
            "objectType": "Activity",
            "definition": {"type": INTERACTION, "interactionType": "other"},
        },
        "context": {"contextActivities": course_parent(), "extensions": common_extensions()},
        "timestamp": TIME,
        "version": "1.0.3",
    }


def test_browser_problem_check_block_from_payload_when_page_names_none() -> None:
    page = f"{LMS}/xblock/{VERTICAL}?show_title=0&view=student_view"
    [stmt] = transform(browser_check(json.dumps(f"input_{BLOCK_HASH}_2_1=choice_1"), page))
    assert stmt["object"]["id"] == PROBLEM_IRI
    assert "result" not in stmt


def test_browser_problem_check_list_payload_and_context_referer() -> None:
    ev = browser_check(json.dumps([f"input_{BLOCK_HASH}_2_1[]=choice_0"]), page=None)
    ev.context["referer"] = f"{LMS}/courses/{COURSE}/courseware/4a1b/9c2d/"
    ev.context["module"] = {"display_name": "Ocean colours"}
    [stmt] = transform(ev)
    assert stmt["object"] == {
        "id": PROBLEM_IRI,
        "objectType": "Activity",
        "definition": {
            "type": INTERACTION,
            "name": {"en-US": "Ocean colours"},
            "interactionType": "other",
        },
    }


def test_server_and_browser_checks_of_one_moment_have_different_ids() -> None:
    data = check_data({f"{BLOCK_HASH}_2_1": question("Q?", "a")})
    [server] = transform(server_check(data))
    [browser] = transform(browser_check(json.dumps(f"input_{BLOCK_HASH}_2_1=choice_1")))
    assert server["id"] != browser["id"]


# --- showanswer, hints, graded submissions, completions -------------------------------------


def test_showanswer_exact_statement() -> None:
    ev = event("showanswer", {"problem_id": PROBLEM}, context=server_context())
    [stmt] = transform(ev)
    assert stmt == {
        "id": statement_id(ASKED, ACTOR, TIME, SETTINGS),
        "actor": actor(),
        "verb": verb("asked", "http://adlnet.gov/expapi/verbs/asked"),
        "object": {
            "id": f"{PROBLEM_IRI}/answer",
            "objectType": "Activity",
            "definition": {"type": "http://id.tincanapi.com/activitytype/solution"},
        },
        "context": {"contextActivities": course_parent(), "extensions": common_extensions()},
        "timestamp": TIME,
        "version": "1.0.3",
    }


def test_demandhint_displayed_exact_statement() -> None:
    data = {
        "module_id": PROBLEM,
        "hint_index": 0,
        "hint_len": 2,
        "hint_text": "Think of the sky on a clear day.",
    }
    ev = event("edx.problem.hint.demandhint_displayed", data, context=server_context())
    [stmt] = transform(ev)
    assert stmt == {
        "id": statement_id(ASKED, ACTOR, TIME, SETTINGS),
        "actor": actor(),
        "verb": verb("asked", "http://adlnet.gov/expapi/verbs/asked"),
        "object": {
            "id": f"{PROBLEM_IRI}/hint/0",
            "objectType": "Activity",
            "definition": {"type": "https://w3id.org/xapi/acrossx/extensions/supplemental-info"},
        },
        "context": {"contextActivities": course_parent(), "extensions": common_extensions()},
        "timestamp": TIME,
        "version": "1.0.3",
    }


def graded(earned: Any, possible: Any) -> dict[str, Any]:
    return {
        "problem_id": PROBLEM,
        "course_id": COURSE,
        "user_id": "42",
        "weighted_earned": earned,
        "weighted_possible": possible,
        "event_transaction_id": "1b8f0f3e-5a3c-4a57-9a2b-0b1d2c3e4f50",
        "event_transaction_type": "edx.grades.problem.submitted",
    }


def test_grades_problem_submitted_exact_statement() -> None:
    ev = event("edx.grades.problem.submitted", graded(1.5, 2), context=server_context())
    [stmt] = transform(ev)
    assert stmt == {
        "id": statement_id(ATTEMPTED, ACTOR, TIME, SETTINGS),
        "actor": actor(),
        "verb": verb("attempted", "http://adlnet.gov/expapi/verbs/attempted"),
        "object": {
            "id": PROBLEM_IRI,
            "objectType": "Activity",
            "definition": {"type": "http://adlnet.gov/expapi/activities/question"},
        },
        "result": {
            "success": False,
            "score": {"min": 0.0, "max": 2.0, "raw": 1.5, "scaled": 0.75},
        },
        "context": {"contextActivities": course_parent(), "extensions": common_extensions()},
        "timestamp": TIME,
        "version": "1.0.3",
    }


@pytest.mark.parametrize(
    ("earned", "possible", "result"),
    [
        (0, 0, {"success": True, "score": {"min": 0.0, "max": 0.0, "raw": 0.0, "scaled": 0.0}}),
        (2, 2, {"success": True, "score": {"min": 0.0, "max": 2.0, "raw": 2.0, "scaled": 1.0}}),
        (
            None,
            None,
            {"success": True, "score": {"min": 0.0, "max": 0.0, "raw": 0.0, "scaled": 0.0}},
        ),
    ],
)
def test_grades_problem_submitted_scaling(earned: Any, possible: Any, result: Any) -> None:
    [stmt] = transform(event("edx.grades.problem.submitted", graded(earned, possible)))
    assert stmt["result"] == result


def test_problem_completed_exact_statement() -> None:
    ev = event("edx.problem.completed", graded(0, 1), context=server_context())
    [stmt] = transform(ev)
    assert stmt == {
        "id": statement_id(COMPLETED, ACTOR, TIME, SETTINGS),
        "actor": actor(),
        "verb": verb("completed", "http://adlnet.gov/expapi/verbs/completed"),
        # ERB leaves the bare usage key here; a block IRI keeps the statement valid xAPI.
        "object": {
            "id": PROBLEM_IRI,
            "objectType": "Activity",
            "definition": {"type": INTERACTION},
        },
        "context": {"contextActivities": course_parent(), "extensions": common_extensions()},
        "timestamp": TIME,
        "version": "1.0.3",
    }


def test_no_username_ip_or_hint_text_in_any_statement() -> None:
    hint = {"module_id": PROBLEM, "hint_index": 1, "hint_text": "Think of the sky."}
    events = [
        server_check(check_data({f"{BLOCK_HASH}_2_1": question("Q?", "a")})),
        event("edx.problem.hint.demandhint_displayed", hint, context=server_context()),
        event("showanswer", {"problem_id": PROBLEM}, context=server_context()),
    ]
    text = json.dumps([transform(ev) for ev in events])
    for secret in ("ada_lovelace", "203.0.113.7", "Think of the sky"):
        assert secret not in text


# --- events that cannot be transformed ------------------------------------------------------


def test_incomplete_events_are_skipped() -> None:
    no_problem = check_data({f"{BLOCK_HASH}_2_1": question("Q?", "a")})
    del no_problem["problem_id"]
    not_graded = graded(1, 2)
    del not_graded["weighted_possible"]
    page_without_block = f"{LMS}/xblock/{VERTICAL}?view=student_view"
    skipped = [
        server_check(no_problem),
        event("problem_check", "input_x=1", context=server_context()),  # server, no object
        browser_check(json.dumps(f"input_{BLOCK_HASH}_2_1=1"), page=None),  # no referer
        browser_check(json.dumps("nothing"), page=page_without_block),  # no block anywhere
        browser_check(
            json.dumps(f"input_{BLOCK_HASH}_2_1=1"),
            page=page_without_block,
            course="ExampleX/CS101/2013_Spring",  # no course-v1 key to build the block from
        ),
        event("showanswer", {}),
        event("showanswer", {"problem_id": ""}),
        event("edx.problem.hint.demandhint_displayed", {"module_id": PROBLEM}),
        event("edx.problem.hint.demandhint_displayed", {"hint_index": 0}),
        event("edx.grades.problem.submitted", not_graded),
        event("edx.grades.problem.submitted", {"weighted_earned": 1, "weighted_possible": 1}),
        event("edx.problem.completed", {"weighted_earned": 0}),
    ]
    for ev in skipped:
        assert transform_event(ev, SETTINGS) == ([], SKIP_INCOMPLETE), (ev.name, ev.data)


# --- grades no valid score can hold, and values no IRI or name can hold ----------------------


@pytest.mark.parametrize(
    ("grade", "max_grade"),
    [
        (3, 2),  # above the maximum grade
        (-1, 2),  # negative
        (0, -1),  # negative maximum
        (-1, None),  # negative, maximum unknown
        (float("nan"), 2),  # Python's json reads NaN and Infinity
        (1, float("inf")),
        (10**400, 2),  # beyond float range
    ],
    ids=["above-max", "negative", "negative-max", "negative-no-max", "nan", "inf", "huge"],
)
def test_problem_check_grade_that_makes_no_valid_score_is_incomplete(
    grade: Any, max_grade: Any
) -> None:
    # The grading family's rule: no statement an LRS would refuse; counted as incomplete.
    data = check_data({f"{BLOCK_HASH}_2_1": question("Q?", "a")}, grade=grade, max_grade=max_grade)
    assert transform_event(server_check(data), SETTINGS) == ([], SKIP_INCOMPLETE)


@pytest.mark.parametrize(
    ("earned", "possible"),
    [(3, 2), (-0.5, 1), (1, -1), (float("nan"), 1), (1, float("-inf")), (-(10**400), 1)],
    ids=["above-possible", "negative", "negative-possible", "nan", "-inf", "huge"],
)
def test_grades_problem_submitted_invalid_score_is_incomplete(earned: Any, possible: Any) -> None:
    ev = event("edx.grades.problem.submitted", graded(earned, possible))
    assert transform_event(ev, SETTINGS) == ([], SKIP_INCOMPLETE)


def test_earned_above_possible_by_float_rounding_only_is_full_marks() -> None:
    # The LMS weights a score by dividing: 3 * 0.1 / 3 is 0.10000000000000002, not 0.1.
    [stmt] = transform(event("edx.grades.problem.submitted", graded(3 * 0.1 / 3, 0.1)))
    assert stmt["result"] == {
        "success": True,
        "score": {"min": 0.0, "max": 0.1, "raw": 0.1, "scaled": 1.0},
    }
    data = check_data({f"{BLOCK_HASH}_2_1": question("Q?", "a")}, grade=3 * 0.1 / 3, max_grade=0.1)
    [stmt] = transform(server_check(data))
    assert stmt["result"]["score"] == {"min": 0.0, "max": 0.1, "raw": 0.1, "scaled": 1.0}


def test_garbage_in_the_submission_and_context_keeps_the_statement_valid() -> None:
    sub = question("Q?", "a", response_type=["choiceresponse"])  # not a response type name
    data = check_data({f"{BLOCK_HASH}_2_1": sub}, attempts=float("nan"))
    [stmt] = transform(server_check(data))
    assert stmt["object"]["definition"]["interactionType"] == "other"
    assert "extensions" not in stmt["object"]["definition"]  # a NaN attempt is no attempt
    json.dumps(stmt, allow_nan=False)
    # A display name that is not text names nothing.
    no_type = {"question": "", "answer": "a", "response_type": "", "correct": True}
    ev = server_check(check_data({f"{BLOCK_HASH}_2_1": no_type}))
    ev.context["module"]["display_name"] = ["not", "text"]
    [stmt] = transform(ev)
    assert "name" not in stmt["object"]["definition"]


def test_values_that_would_break_an_iri_skip_the_event() -> None:
    two = {f"{BLOCK_HASH}_2_1": question("Q?", "a"), "a question id": question("Q?", "b")}
    # JSON's "\ud83d" (a key cut inside an emoji) reads as a lone surrogate: no UTF-8.
    cut = parse_payload(json.dumps({f"{BLOCK_HASH}_2_1": {}, f"{BLOCK_HASH}_\ud83d": {}}))
    hint = {"module_id": PROBLEM, "hint_index": "a b"}
    page = f"{LMS}/xblock/{VERTICAL}?view=student_view"
    for ev in (
        server_check(check_data(two)),
        server_check(check_data(cut)),
        event("edx.problem.hint.demandhint_displayed", hint),
        browser_check(json.dumps("input_a b_2_1=1"), page=page),
    ):
        assert transform_event(ev, SETTINGS) == ([], SKIP_INCOMPLETE), ev.name


def test_browser_check_block_from_a_page_that_left_plus_signs_unencoded() -> None:
    page = f"{LMS}/courses/{COURSE}/courseware/4a1b/9c2d/?activate_block_id={VERTICAL}"
    [stmt] = transform(browser_check(json.dumps(f"input_{BLOCK_HASH}_2_1=1"), page=page))
    assert stmt["object"]["id"] == f"{LMS}/xblock/{VERTICAL}"


def test_browser_check_referer_or_course_that_is_not_text_is_passed_over() -> None:
    ev = browser_check(json.dumps(f"input_{BLOCK_HASH}_2_1=1"))
    ev.context["referer"] = {"not": "a url"}
    [stmt] = transform(ev)
    assert stmt["object"]["id"] == f"{LMS}/xblock/{VERTICAL}"  # from the page
    # No block on the page: the payload's, in the event's course (the context's is garbage).
    page = f"{LMS}/xblock/{VERTICAL}?view=student_view"
    ev = browser_check(json.dumps(f"input_{BLOCK_HASH}_2_1=1"), page=page)
    ev.context["course_id"] = ["not", "a", "course"]
    [stmt] = transform(ev)
    assert stmt["object"]["id"] == PROBLEM_IRI
