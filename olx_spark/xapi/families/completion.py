"""Block completion: the completion service records how far a learner got through a block.

Facts from event-routing-backends (ERB) that this module follows: the verb is `progressed`,
the object is the block (`{LMS}/xblock/{usage key}`, type `resource`, no name), and the result
says `completion` true only when the completion value is exactly 1.0 and carries the progress
in percent (the completion value times 100, unrounded) as the cmi5 `progress` result extension.
ERB cannot build a statement without the block or the completion value; neither can this.
"""

from __future__ import annotations

from olx_spark.xapi.event import Event, Unusable, finite, identifier
from olx_spark.xapi.registry import register
from olx_spark.xapi.statement import Settings, Statement, activity, build
from olx_spark.xapi.vocabulary import ACTIVITY_RESOURCE, EXT_CMI5_PROGRESS, PROGRESSED


def _completion(event: Event) -> float:
    value = event.get("data.completion")
    if isinstance(value, bool) or not isinstance(value, int | float) or not finite(value):
        raise Unusable("missing or non-numeric data.completion")
    if not 0 <= value <= 1:
        raise Unusable(f"data.completion {value!r} is not between 0 and 1")
    return value


@register("edx.completion.block_completion.changed")
def block_completion_changed(event: Event, settings: Settings) -> list[Statement]:
    block_id = identifier(event.get("data.block_id"), "data.block_id")
    completion = _completion(event)
    result = {
        "completion": completion == 1.0,
        "extensions": {EXT_CMI5_PROGRESS: completion * 100},
    }
    obj = activity(settings.block_iri(block_id), ACTIVITY_RESOURCE)
    return [build(event, settings, PROGRESSED, obj, result=result)]
