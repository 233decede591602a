"""Special exams (timed, practice, proctored): a learner starts or submits an exam attempt.

Facts from event-routing-backends (ERB) that this module follows:

- `edx.special_exam.{kind}.attempt.created` is `initialized`, `...attempt.submitted` is
  `terminated`; the object type is `https://w3id.org/xapi/openedx/activity/{kind}-assessment`.
- The object is the exam's subsection (`data.exam_content_id`), named after the exam
  (`data.exam_name`, language `en`), with the exam's default time limit in minutes as the
  acrossx `time-limit` extension.
- The statement is grouped with the attempt (type `http://adlnet.gov/expapi/activities/attempt`,
  same name), whose extensions are when it started and completed, the elapsed seconds
  (tincan `duration`) and the attempt's number (tincan `attempt-id`).
- Missing values are left out of the extension maps, the maps themselves stay (maybe empty),
  and the course parent stays in the context.

Where this deviates from ERB, on purpose: ERB uses the bare usage key as the object id and the
bare attempt code as the grouping id; neither is an absolute IRI, which xAPI requires (an LRS
may refuse the statement). Here the object is `{LMS}/xblock/{usage key}` (the spec's IRI for a
block) and the attempt is `{LMS}/xblock/{usage key}/attempt/{attempt code}`.
"""

from __future__ import annotations

from typing import Any

from olx_spark.xapi.event import Event, identifier, present_items
from olx_spark.xapi.registry import register
from olx_spark.xapi.statement import Settings, Statement, activity, build
from olx_spark.xapi.vocabulary import (
    ACTIVITY_ATTEMPT,
    ACTIVITY_PRACTICE_ASSESSMENT,
    ACTIVITY_PROCTORED_ASSESSMENT,
    ACTIVITY_TIMED_ASSESSMENT,
    EN,
    EXT_ATTEMPT_COMPLETED,
    EXT_ATTEMPT_STARTED,
    EXT_DURATION,
    EXT_EXAM_ATTEMPT_ID,
    EXT_TIME_LIMIT,
    INITIALIZED,
    TERMINATED,
    Verb,
)

_KINDS = {
    "timed": ACTIVITY_TIMED_ASSESSMENT,
    "practice": ACTIVITY_PRACTICE_ASSESSMENT,
    "proctored": ACTIVITY_PROCTORED_ASSESSMENT,
}
_STEPS = {"created": INITIALIZED, "submitted": TERMINATED}

# event name -> (verb, object type)
_EXAM: dict[str, tuple[Verb, str]] = {
    f"edx.special_exam.{kind}.attempt.{step}": (verb, activity_type)
    for kind, activity_type in _KINDS.items()
    for step, verb in _STEPS.items()
}


def _definition_with(obj: dict[str, Any], extensions: dict[str, Any]) -> dict[str, Any]:
    obj["definition"]["extensions"] = present_items(extensions)
    return obj


def _exam(event: Event, settings: Settings) -> list[Statement]:
    verb, activity_type = _EXAM[event.name]
    exam_iri = settings.block_iri(
        identifier(event.get("data.exam_content_id"), "data.exam_content_id")
    )
    attempt_code = identifier(event.get("data.attempt_code"), "data.attempt_code")
    name = event.get("data.exam_name")
    name = name if isinstance(name, str) else None
    obj = _definition_with(
        activity(exam_iri, activity_type, name=name, lang=EN),
        {EXT_TIME_LIMIT: event.get("data.exam_default_time_limit_mins")},
    )
    attempt = _definition_with(
        activity(f"{exam_iri}/attempt/{attempt_code}", ACTIVITY_ATTEMPT, name=name, lang=EN),
        {
            EXT_ATTEMPT_STARTED: event.get("data.attempt_started_at"),
            EXT_ATTEMPT_COMPLETED: event.get("data.attempt_completed_at"),
            EXT_DURATION: event.get("data.attempt_event_elapsed_time_secs"),
            EXT_EXAM_ATTEMPT_ID: event.get("data.attempt_id"),
        },
    )
    return [build(event, settings, verb, obj, context_activities={"grouping": [attempt]})]


exam_attempt = register(*_EXAM)(_exam)
