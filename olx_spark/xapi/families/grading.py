"""Grading events: a learner passes or fails a course, and the grades the LMS computes.

Facts from event-routing-backends (ERB) that this module follows:

- `edx.course.grade.passed.first_time` and `.now_passed` are `passed`, `.now_failed` is
  `failed`; the object is the course itself (ERB treats these like enrollments), so there is no
  course parent, the name is in `en`, and the definition always carries an `extensions` map that
  holds the enrollment mode when the event has one (these events never do, so ERB writes `{}`).
  The LMS puts no grade on these events, so there is no `result`.
- `edx.grades.subsection.grade_calculated` is `earned` on the subsection block (a `resource`):
  the score is the weighted total earned over the weighted total possible, `scaled` is 0 when
  nothing is possible, and `success` is "earned at least what was possible".
- `edx.grades.course.grade_calculated` is `earned` on the course (name in `en`, and, unlike the
  pass/fail events, ERB keeps the course parent in the context): raw and scaled are the
  percent grade out of 1, and the letter grade (or "Fail" when there is none) is a result
  extension.
- Scores are numbers with a fraction (ERB's xAPI library writes them as floats); a grade field
  the event does not carry at all means no statement (ERB fails on it).

Where this differs from ERB: numbers that cannot make a valid xAPI score (raw outside 0..max,
scaled outside -1..1, e.g. something earned where nothing was possible) give no statement
instead of one an LRS would refuse.
"""

from __future__ import annotations

from typing import Any

from olx_spark.xapi.event import Event, Unusable, finite, identifier
from olx_spark.xapi.families.enrollment import course_id_of, course_statement
from olx_spark.xapi.registry import register
from olx_spark.xapi.statement import Settings, Statement, activity, build
from olx_spark.xapi.vocabulary import (
    ACTIVITY_COURSE,
    ACTIVITY_RESOURCE,
    EARNED,
    EN,
    EXT_GRADE_CLASSIFICATION,
    FAILED,
    PASSED,
)


def _grade_field(event: Event, key: str) -> float:
    """A grade number from the payload: absent -> Unusable, null -> 0 (as ERB reads it)."""
    if not isinstance(event.data, dict) or key not in event.data:
        raise Unusable(f"missing data.{key}")
    value: Any = event.data[key]
    if value is None:
        return 0.0
    if isinstance(value, bool) or not isinstance(value, int | float) or not finite(value):
        raise Unusable(f"data.{key} is not a number")
    return float(value)


def _score(raw: float, maximum: float, scaled: float) -> dict[str, float]:
    """The xAPI score, or Unusable when the numbers cannot make a valid one (ERB would send
    it anyway, and an LRS would refuse it)."""
    if not (0 <= raw <= maximum and -1 <= scaled <= 1):
        raise Unusable("grade outside what an xAPI score allows")
    return {"scaled": scaled, "raw": raw, "min": 0.0, "max": maximum}


@register("edx.course.grade.passed.first_time", "edx.course.grade.now_passed")
def passed(event: Event, settings: Settings) -> list[Statement]:
    return course_statement(event, settings, PASSED)


@register("edx.course.grade.now_failed")
def failed(event: Event, settings: Settings) -> list[Statement]:
    return course_statement(event, settings, FAILED)


@register("edx.grades.subsection.grade_calculated")
def subsection_graded(event: Event, settings: Settings) -> list[Statement]:
    block_id = identifier(event.get("data.block_id"), "data.block_id")
    possible = _grade_field(event, "weighted_total_possible")
    earned = _grade_field(event, "weighted_total_earned")
    scaled = earned / possible if possible > 0 else 0.0
    result = {"score": _score(earned, possible, scaled), "success": earned >= possible}
    obj = activity(settings.block_iri(block_id), ACTIVITY_RESOURCE)
    return [build(event, settings, EARNED, obj, result=result)]


@register("edx.grades.course.grade_calculated")
def course_graded(event: Event, settings: Settings) -> list[Statement]:
    course_id = course_id_of(event)
    percent = _grade_field(event, "percent_grade")
    letter = event.get("data.letter_grade")
    letter = letter if isinstance(letter, str) and letter else "Fail"
    result = {
        "score": _score(percent, 1.0, percent),
        "extensions": {EXT_GRADE_CLASSIFICATION: letter},
    }
    obj = activity(settings.course_iri(course_id), ACTIVITY_COURSE, name=event.course_name, lang=EN)
    # ERB keeps the course parent here although the object is the course.
    return [build(event, settings, EARNED, obj, result=result)]
