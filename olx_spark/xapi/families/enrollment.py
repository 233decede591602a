"""Enrollment events: a learner registers in (or changes mode within) a course, or leaves it.

The object is the course itself (so no course parent in the context); the enrollment mode
(audit, verified, ...) is an extension of the object's definition, as ERB writes it.
"""

from __future__ import annotations

from olx_spark.xapi.event import Event, identifier
from olx_spark.xapi.registry import register
from olx_spark.xapi.statement import Settings, Statement, activity, build
from olx_spark.xapi.vocabulary import ACTIVITY_COURSE, EN, REGISTERED, UNREGISTERED, Verb

EXT_MODE = "https://w3id.org/xapi/acrossx/extensions/type"


def _enrollment(event: Event, settings: Settings, verb: Verb) -> list[Statement]:
    course_id = identifier(event.course_id or event.get("data.course_id"), "course id")
    mode = event.get("data.mode")
    mode = mode if isinstance(mode, str) else None
    obj = activity(
        settings.course_iri(course_id),
        ACTIVITY_COURSE,
        name=event.course_name,
        lang=EN,
        # ERB keeps the map and drops an empty mode.
        extensions={EXT_MODE: mode} if mode else {},
    )
    return [build(event, settings, verb, obj, course_parent=False)]


@register("edx.course.enrollment.activated", "edx.course.enrollment.mode_changed")
def registered(event: Event, settings: Settings) -> list[Statement]:
    return _enrollment(event, settings, REGISTERED)


@register("edx.course.enrollment.deactivated")
def unregistered(event: Event, settings: Settings) -> list[Statement]:
    return _enrollment(event, settings, UNREGISTERED)
