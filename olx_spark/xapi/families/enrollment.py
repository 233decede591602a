"""Enrollment events: a learner registers in (or changes mode within) a course, or leaves it.

The object is the course itself (so no course parent in the context); the enrollment mode
(audit, verified, ...) is an extension of the object's definition, as ERB writes it.
"""

from __future__ import annotations

from olx_spark.xapi.event import Event, identifier
from olx_spark.xapi.registry import register
from olx_spark.xapi.statement import Settings, Statement, activity, build
from olx_spark.xapi.vocabulary import (
    ACTIVITY_COURSE,
    EN,
    EXT_ACROSSX_TYPE,
    REGISTERED,
    UNREGISTERED,
    Verb,
)


def course_id_of(event: Event) -> str:
    return identifier(event.course_id or event.get("data.course_id"), "course id")


def course_statement(event: Event, settings: Settings, verb: Verb) -> list[Statement]:
    """A statement whose object is the course (named, with the mode), as ERB writes the
    enrollment and the course pass/fail events."""
    course_id = course_id_of(event)
    mode = event.get("data.mode")
    mode = mode if isinstance(mode, str) else None
    obj = activity(
        settings.course_iri(course_id),
        ACTIVITY_COURSE,
        name=event.course_name,
        lang=EN,
        # ERB keeps the map and drops an empty mode.
        extensions={EXT_ACROSSX_TYPE: mode} if mode else {},
    )
    return [build(event, settings, verb, obj, course_parent=False)]


@register("edx.course.enrollment.activated", "edx.course.enrollment.mode_changed")
def registered(event: Event, settings: Settings) -> list[Statement]:
    return course_statement(event, settings, REGISTERED)


@register("edx.course.enrollment.deactivated")
def unregistered(event: Event, settings: Settings) -> list[Statement]:
    return course_statement(event, settings, UNREGISTERED)
