"""Problem events: a learner submits, is graded on, asks for the answer or a hint of a problem.

Why this module exists: capa problems are the bulk of the graded activity in a course, and
Aspects reads their xAPI statements (evaluated / attempted / asked / completed) for every
problem chart. The statements follow what event-routing-backends' (ERB) problem transformers
emit, fact for fact:

- `problem_check` from the server: verb acrossx `evaluated`, object a `cmi.interaction` at
  `{LMS}/xblock/{data.problem_id}` (else `data.module_id`). The first submission that names a
  `response_type` gives the interaction type (ERB's response-type map, `other` when unknown)
  and the question text as the object's description; without one, the object is named after
  `context.module.display_name` and its type is `other`. `data.attempts` becomes the
  tincan `attempt-id` extension. The result: score min 0, max `max_grade`, raw `grade`,
  scaled `grade / max_grade` (0 when `max_grade` is 0), all numbers as floats (tincan's
  `Score` makes them so); success and response from that submission (`correct`, `answer`),
  else `success == "correct"` and the legacy `answers`. A list response is JSON text
  (`ensure_ascii=False`), any other non-string is its Python `str()` (as tincan coerces it).
- A problem with more than one question (`data.submission` has several keys) gives a group
  statement about the whole problem and one child statement per question, as ERB's expected
  statements have them. The group's object is the problem, named after
  `context.module.display_name`, interaction type `other`, with no description and no
  attempt-id; its result is the score and success when the whole problem is correct
  (`data.success == "correct"`), no response. A child's object is the parent's usage key with
  its last `@` part replaced by the question id, described by its question text, with the
  interaction type of its response type and no attempt-id; its result has that question's
  success and response but no score; its context has the group's object as `parent`, the
  course as `grouping` and a StatementRef to the group statement. A child's id is made like
  any statement id but from the namespace of `"{verb json}-{question id}"`, so children
  differ from the parent and from each other.
- `problem_check` from the browser (`event_source` "browser"): verb `attempted`, no result;
  the block is the `activate_block_id` of the referring page, else the problem block of the
  course named by the payload `input_<block>_<n>_<m>=...` (`ccx-block-v1:` in a CCX course).
- `showanswer`: asked, a solution at `{problem IRI}/answer`; `edx.problem.hint.demandhint_
  displayed`: asked, supplemental info at `{module IRI}/hint/{hint_index}`;
  `edx.grades.problem.submitted`: attempted, a question, score from the weighted earned and
  possible points (scaled 0 when nothing is possible), success when earned >= possible;
  `edx.problem.completed`: completed, a cmi.interaction.

Where this differs from ERB (so that every statement is valid xAPI 1.0.3, see
`olx_spark.xapi.validate`): a multi-question parent object is an `Activity`, not ERB's
`GroupActivity`, and `edx.problem.completed`'s object id is the block IRI, not the bare usage
key ERB leaves there. A server problem_check that names no problem at all (no
`data.problem_id`, `data.module_id` or module) gives no statement: ERB would emit one whose
object has no id, which no LRS accepts. ERB reads the browser event's `referer`; the event
here carries the page URL, which for browser events is the same page, so the page stands in
when the context has no `referer`.

A choice between two ERBs: ERB's code, handed a multi-question event with its `data` (as its
router does live), would describe the group by its first question (that question's text,
answer and correctness, which makes a partly correct submission a success) and put the
attempt number on every statement; ERB's own expected statements (its test fixtures, whose
events lack `data`) describe the group as the problem. The group here is the problem, as the
expected statements have it (README, "Where the statements differ from ERB's").

Where ERB would send what an LRS refuses, or fail: grades that cannot make a valid xAPI score
(negative, earned above possible, NaN or infinite, beyond float range) give no statement (the
event is counted as incomplete, as in the grading family); earned above possible by float
rounding only (the LMS divides to weight a score) is full marks. Whitespace in a hint index,
question id or block id skips the event (no IRI can hold it), as does a question id that is
not UTF-8 (no statement id can be made from it); a display name, referer or course id that
is not text is ignored; an `activate_block_id` whose `+` signs the page left unencoded (read
back as spaces) gets them back.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlparse

from olx_spark.xapi.event import Event, Unusable, identifier, present
from olx_spark.xapi.registry import register
from olx_spark.xapi.statement import (
    Settings,
    Statement,
    activity,
    actor_json,
    block_usage_key,
    build,
    course_activity,
)
from olx_spark.xapi.vocabulary import (
    ACTIVITY_INTERACTION,
    ACTIVITY_QUESTION,
    ACTIVITY_SOLUTION,
    ASKED,
    ATTEMPTED,
    COMPLETED,
    EN_US,
    EVALUATED,
    EXT_PROBLEM_ATTEMPT_ID,
    ID_NAMESPACE,
    PROBLEM_ACTIVITY_SUPPLEMENTAL_INFO,
    Verb,
)

# Open edX response types -> xAPI interaction types (ERB's map; anything else is "other").
INTERACTION_TYPES = {
    "choiceresponse": "choice",
    "multiplechoiceresponse": "choice",
    "numericalresponse": "numeric",
    "stringresponse": "fill-in",
    "customresponse": "other",
    "coderesponse": "other",
    "externalresponse": "other",
    "formularesponse": "fill-in",
    "schematicresponse": "other",
    "imageresponse": "matching",
    "annotationresponse": "fill-in",
    "choicetextresponse": "choice",
    "optionresponse": "choice",
    "symbolicresponse": "fill-in",
    "truefalseresponse": "true-false",
}
OTHER = "other"


# --- reading the event -----------------------------------------------------------------------


def _data(event: Event) -> dict[str, Any]:
    return event.data if isinstance(event.data, dict) else {}


def _from_browser(event: Event) -> bool:
    source = event.event_source or event.get("context.event_source")
    return source == "browser"


def _usage_key(event: Event) -> str:
    """The problem's usage key: `data.problem_id`, else `data.module_id` (ERB requires one);
    a payload that is not an object has only `context.module.usage_key`."""
    if isinstance(event.data, dict):
        key = present(event.data.get("problem_id")) or present(event.data.get("module_id"))
    else:
        key = present(event.get("context.module.usage_key"))
    if not isinstance(key, str):
        raise Unusable("missing problem id")
    return identifier(key, "problem id")


def _required_data(event: Event, key: str) -> Any:
    value = present(_data(event).get(key))
    if value is None:
        raise Unusable(f"missing data.{key}")
    return value


def _number(value: Any) -> float | None:
    """A grade as a float; None when it is no number (left out of the score, as ERB does).

    A number that can make no score (NaN, an infinity, an integer beyond float range) makes the
    event `Unusable`."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError as exc:
        raise Unusable(f"grade out of range: {value!r}") from exc
    if not math.isfinite(number):
        raise Unusable(f"grade is not finite: {value!r}")
    return number


def _response_text(value: Any) -> str | None:
    """The response as ERB writes it: a list as JSON text, anything else as its `str()`."""
    if value is None:
        return None
    if isinstance(value, list):
        return json.dumps(value, ensure_ascii=False)
    return value if isinstance(value, str) else str(value)


def _score(earned: float | None, possible: float | None) -> dict[str, float]:
    """min 0, max, raw, scaled (raw / max; 0 when max is 0), without the parts unknown.

    Numbers no valid xAPI score can hold (a negative grade or maximum, earned above possible)
    make the event `Unusable`, as in the grading family; earned above possible by rounding
    only (`math.isclose`) is full marks."""
    if (earned is not None and earned < 0) or (possible is not None and possible < 0):
        raise Unusable("negative grade")
    if earned is not None and possible is not None and earned > possible:
        if not math.isclose(earned, possible, rel_tol=1e-9):
            raise Unusable("grade above the maximum grade")
        earned = possible
    score: dict[str, float] = {"min": 0.0}
    if possible is not None:
        score["max"] = possible
    if earned is not None:
        score["raw"] = earned
    if earned is not None and possible is not None:
        score["scaled"] = earned / possible if possible > 0 else 0.0
    return score


# --- problem_check ---------------------------------------------------------------------------


def _submissions(event: Event) -> dict[str, Any]:
    found = _data(event).get("submission")
    return found if isinstance(found, dict) else {}


def _first_submission(event: Event) -> dict[str, Any] | None:
    """The first submission naming a response type (what the statement describes)."""
    for submission in _submissions(event).values():
        if isinstance(submission, dict) and submission.get("response_type"):
            return submission
    return None


def _interaction_type(response_type: Any) -> str:
    """ERB's interaction type of an Open edX response type; "other" when unknown."""
    return INTERACTION_TYPES.get(response_type, OTHER) if isinstance(response_type, str) else OTHER


def _attempt(value: Any) -> int | float | str | None:
    """The attempt number for the attempt-id extension; None when absent, 0 or not usable."""
    if isinstance(value, bool) or not value:
        return None
    if isinstance(value, int | str) or (isinstance(value, float) and math.isfinite(value)):
        return value
    return None


def _question_ids(event: Event) -> list[str]:
    """The questions of a multi-question problem (none when there is only one)."""
    ids = list(_submissions(event))
    return ids if len(ids) > 1 else []


def _display_name(event: Event) -> str | None:
    """ERB's name of a problem: the block's display name from the event (no modulestore)."""
    found = present(event.get("context.module.display_name"))
    return found if isinstance(found, str) else None


def _interaction(
    event: Event, iri: str, submission: dict[str, Any] | None, *, attempt: bool = True
) -> dict[str, Any]:
    """The cmi.interaction object of a one-question problem_check (with the attempt number)
    or of one question of a multi-question problem (`attempt=False`)."""
    definition: dict[str, Any] = {"interactionType": OTHER}
    name = None
    if submission:
        definition["interactionType"] = _interaction_type(submission.get("response_type"))
        question = submission.get("question")
        if isinstance(question, str):
            definition["description"] = {EN_US: question}
    else:
        name = _display_name(event)
    attempts = _attempt(_data(event).get("attempts")) if attempt else None
    extensions = None if attempts is None else {EXT_PROBLEM_ATTEMPT_ID: attempts}
    return activity(
        iri, ACTIVITY_INTERACTION, name=name, lang=EN_US, extensions=extensions, **definition
    )


def _group(event: Event, iri: str) -> dict[str, Any]:
    """The object of a multi-question problem_check's group statement: the whole problem."""
    return activity(
        iri, ACTIVITY_INTERACTION, name=_display_name(event), lang=EN_US, interactionType=OTHER
    )


def _group_result(event: Event) -> dict[str, Any]:
    """The whole problem's score, and success only when all of it is correct."""
    data = _data(event)
    return {
        "score": _score(_number(data.get("grade")), _number(data.get("max_grade"))),
        "success": data.get("success") == "correct",
    }


def _check_result(event: Event, submission: dict[str, Any] | None) -> dict[str, Any]:
    data = _data(event)
    if submission:
        response, success = submission.get("answer"), submission.get("correct")
    else:
        # Before March 2014 there was no `submission`: the legacy `answers` stand in.
        response, success = data.get("answers"), data.get("success") == "correct"
    result: dict[str, Any] = {
        "score": _score(_number(data.get("grade")), _number(data.get("max_grade")))
    }
    if success is not None:
        result["success"] = bool(success)
    text = _response_text(response)
    if text is not None:
        result["response"] = text
    return result


def _child_statement_id(event: Event, settings: Settings, verb: Verb, question_id: str) -> str:
    """ERB's id of a child statement: the question id joins the verb in the namespace."""
    namespace = uuid.uuid5(ID_NAMESPACE, f"{verb.json_text}-{question_id}")
    return str(uuid.uuid5(namespace, f"{actor_json(event.actor_id, settings)}-{event.timestamp}"))


def _question_id(value: str) -> str:
    """A question id (a submission's key) as it goes into an IRI and a statement id: no
    whitespace, and UTF-8 (a lone surrogate, JSON's `\\ud83d`, is not), else `Unusable`."""
    text = identifier(value, "question id")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise Unusable("question id is not UTF-8") from exc
    return text


def _child_usage_key(usage_key: str, question_id: str) -> str:
    """The parent's usage key with its last `@` part replaced by the question id."""
    return "@".join([*usage_key.split("@")[:-1], question_id])


def _children(
    event: Event, settings: Settings, parent: Statement, usage_key: str
) -> Iterator[Statement]:
    submissions = _submissions(event)
    course_id = event.course_id
    grouping = (
        {"grouping": [course_activity(course_id, event.course_name, settings)]} if course_id else {}
    )
    for question_id in map(_question_id, _question_ids(event)):
        found = submissions.get(question_id)
        submission = found if isinstance(found, dict) else {}
        iri = settings.block_iri(_child_usage_key(usage_key, question_id))
        result = _check_result(event, submission or None)
        result.pop("score")  # only the parent knows the score
        if not submission:
            result.pop("response", None)
        stmt = build(
            event,
            settings,
            EVALUATED,
            _interaction(event, iri, submission or None, attempt=False),
            result=result,
            context_activities={"parent": [parent["object"]], **grouping},
            course_parent=False,
        )
        stmt["id"] = _child_statement_id(event, settings, EVALUATED, question_id)
        stmt["context"]["statement"] = {"objectType": "StatementRef", "id": parent["id"]}
        yield stmt


def _server_check(event: Event, settings: Settings) -> list[Statement]:
    if not isinstance(event.data, dict):
        raise Unusable("server problem_check without a payload object")
    usage_key = _usage_key(event)
    iri = settings.block_iri(usage_key)
    if _question_ids(event):
        group = build(event, settings, EVALUATED, _group(event, iri), result=_group_result(event))
        return [group, *_children(event, settings, group, usage_key)]
    submission = _first_submission(event)
    obj = _interaction(event, iri, submission)
    return [build(event, settings, EVALUATED, obj, result=_check_result(event, submission))]


def _block_from_referer(referer: str | None) -> str | None:
    if not referer:
        return None
    found = parse_qs(urlparse(referer).query).get("activate_block_id")
    # A usage key has no spaces: a space is a `+` the page left unencoded.
    return found[0].replace(" ", "+") if found and found[0] else None


def _block_from_payload(payload: Any, course_id: str | None) -> str | None:
    """`input_<block>_2_1=...` in a `course-v1:` (or `ccx-v1:`) course -> its problem block."""
    if isinstance(payload, list):  # ERB expects a string; take the first input of a list
        payload = next((item for item in payload if isinstance(item, str)), None)
    if not isinstance(payload, str) or not course_id:
        return None
    parts = payload.split("_")
    return block_usage_key(course_id, "problem", parts[1]) if len(parts) > 1 else None


def _browser_check(event: Event, settings: Settings) -> list[Statement]:
    # ERB requires the referer; the event's page is the same URL for a browser event.
    found = (event.referer, event.get("context.referer"), event.page)
    referer = next((url for url in found if isinstance(url, str) and url), None)
    if not referer:
        raise Unusable("missing referer")
    courses = (event.get("context.course_id"), event.course_id)
    course_id = next((key for key in courses if isinstance(key, str) and key), None)
    block = _block_from_referer(referer) or _block_from_payload(event.data, course_id)
    if not block:
        raise Unusable("no problem block in referer or payload")
    obj = _interaction(event, settings.block_iri(identifier(block, "problem block")), None)
    return [build(event, settings, ATTEMPTED, obj)]


@register("problem_check")
def problem_check(event: Event, settings: Settings) -> list[Statement]:
    if _from_browser(event):
        return _browser_check(event, settings)
    return _server_check(event, settings)


# --- the other problem events ----------------------------------------------------------------


@register("showanswer")
def showanswer(event: Event, settings: Settings) -> list[Statement]:
    iri = settings.block_iri(identifier(_required_data(event, "problem_id"), "problem_id"))
    iri += "/answer"
    return [build(event, settings, ASKED, activity(iri, ACTIVITY_SOLUTION))]


@register("edx.problem.hint.demandhint_displayed")
def demandhint_displayed(event: Event, settings: Settings) -> list[Statement]:
    module = settings.block_iri(identifier(_required_data(event, "module_id"), "module_id"))
    iri = f"{module}/hint/{identifier(_required_data(event, 'hint_index'), 'hint_index')}"
    return [build(event, settings, ASKED, activity(iri, PROBLEM_ACTIVITY_SUPPLEMENTAL_INFO))]


@register("edx.grades.problem.submitted")
def problem_submitted(event: Event, settings: Settings) -> list[Statement]:
    data = _data(event)
    if "weighted_earned" not in data or "weighted_possible" not in data:
        raise Unusable("missing weighted score")
    earned = _number(data["weighted_earned"]) or 0.0
    possible = _number(data["weighted_possible"]) or 0.0
    result = {"success": earned >= possible, "score": _score(earned, possible)}
    obj = activity(settings.block_iri(_usage_key(event)), ACTIVITY_QUESTION)
    return [build(event, settings, ATTEMPTED, obj, result=result)]


@register("edx.problem.completed")
def problem_completed(event: Event, settings: Settings) -> list[Statement]:
    # ERB leaves the bare usage key as the object id (not an IRI); the block IRI is used here.
    obj = activity(settings.block_iri(_usage_key(event)), ACTIVITY_INTERACTION)
    return [build(event, settings, COMPLETED, obj)]
