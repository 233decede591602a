"""Video events: a learner loads, plays, pauses, stops, finishes or seeks in a video, changes its
speed, or shows/hides its transcript or captions.

Why a module of its own: these are the most frequent browser events, and Aspects' video charts
read exactly the fields ERB writes for them. What this module follows from ERB's video
transformers (event-routing-backends, newest `video_events.py` with `convert_seconds_to_float`):

- Verbs: `load_video`/`edx.video.loaded` initialized; play/pause/stop (legacy and `edx.video.*`)
  played/paused/terminated; `complete_video`/`edx.video.completed` completed;
  `seek_video`/`edx.video.position.changed` seeked; speed change, transcript and caption
  shown/hidden (including the legacy `video_show_cc_menu`/`video_hide_cc_menu`) interacted.
- Object: `{LMS}/xblock/block-v1:{course key without its "course-v1:" prefix}+type@video+block@
  {data.id}` (`ccx-block-v1:` for a `ccx-v1:` course), type video, no name (ERB has no display
  name for videos either). The course id and `data.id` are required.
- Context: the course parent plus the video length (`data.duration`) as an extension.
- Result: video times as seconds floats rounded to 3 decimals (`float(f"{x:.3f}")`); the play
  position is `data.current_time`, else `data.currentTime`; seeks give time-from/time-to
  (`data.old_time`/`data.new_time`); completion gives time = length, `completion: true` and an
  ISO 8601 `duration` written the way ERB's serialiser (TinCanPython) writes a timedelta; speed
  changes give `"<speed>x"` strings; transcript/caption events give the time and `cc-enabled`.
- Absent values are left out of the extensions (ERB's serialiser drops None), but the result
  keeps its (possibly empty) `extensions` object, as ERB's does.

Where ERB raises (no video id or course id, a pre-2014 slash course id, a time that is not a
number, a missing speed) the event is skipped as incomplete. Small departures, each to keep the
statement valid: a non-finite time skips the event, a negative length gets no `duration`, and a
speed logged as a number is written like a string one (ERB would fail on it).
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

from olx_spark.xapi.event import Event, Unusable, identifier, present
from olx_spark.xapi.registry import register
from olx_spark.xapi.statement import Settings, Statement, activity, block_usage_key, build
from olx_spark.xapi.vocabulary import (
    ACTIVITY_VIDEO,
    COMPLETED,
    EXT_VIDEO_CC_ENABLED,
    EXT_VIDEO_LENGTH,
    EXT_VIDEO_SPEED_FROM,
    EXT_VIDEO_SPEED_TO,
    EXT_VIDEO_TIME,
    EXT_VIDEO_TIME_FROM,
    EXT_VIDEO_TIME_TO,
    INITIALIZED,
    INTERACTED,
    PAUSED,
    PLAYED,
    SEEKED,
    TERMINATED,
    Verb,
)

PLAYBACK_VERBS: dict[str, Verb] = {
    "play_video": PLAYED,
    "edx.video.played": PLAYED,
    "pause_video": PAUSED,
    "edx.video.paused": PAUSED,
    "stop_video": TERMINATED,
    "edx.video.stopped": TERMINATED,
}
# Transcript and caption toggles: `cc-enabled` is true for the "shown" ones.
CAPTIONS_SHOWN = frozenset(
    (
        "show_transcript",
        "edx.video.transcript.shown",
        "edx.video.closed_captions.shown",
        "video_show_cc_menu",
    )
)
CAPTIONS_HIDDEN = frozenset(
    (
        "hide_transcript",
        "edx.video.transcript.hidden",
        "edx.video.closed_captions.hidden",
        "video_hide_cc_menu",
    )
)


def seconds(value: Any) -> float | None:
    """A time in seconds as ERB writes it: a float rounded to 3 decimals (None stays None)."""
    if present(value) is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError) as exc:
        raise Unusable(f"not a number of seconds: {value!r}") from exc
    if not math.isfinite(number):
        raise Unusable(f"not a finite number of seconds: {value!r}")
    return float(f"{number:.3f}")


def iso_duration(value: float) -> str | None:
    """`value` seconds as the ISO 8601 duration ERB's serialiser writes (e.g. 195.0 -> PT03M15S).

    Hours and minutes appear once a larger unit is non-zero, two digits each; seconds have two
    digits, then up to 6 decimals without trailing zeros. A negative or overflowing length has
    no valid duration and gives None.
    """
    if value < 0:
        return None
    try:
        total = timedelta(seconds=value).total_seconds()
    except OverflowError:
        return None
    minutes, secs = divmod(total, 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    day_count, hour_count, minute_count = int(days), int(hours), int(minutes)
    secs = round(secs, 6)
    date = f"{day_count}D" if day_count else ""
    time = "T"
    if date or hour_count:
        time += f"{hour_count:02}H"
    if date or hour_count or minute_count:
        time += f"{minute_count:02}M"
    time += f"{int(secs):02}" if secs.is_integer() else f"{secs:09.6f}".rstrip("0")
    return f"P{date}{time}S"


def without_none(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


def video_usage_key(event: Event) -> str:
    """ERB's video block key: built from the course key and `data.id` (`block_usage_key`)."""
    course_id = identifier(event.course_id or event.get("context.course_id"), "course id")
    video_id = identifier(event.get("data.id"), "data.id")
    key = block_usage_key(course_id, "video", video_id)
    if key is None:
        # A slash-separated (pre-2014) course id: ERB cannot build a key for it either.
        raise Unusable(f"no block key for course {course_id!r}")
    return key


def video_statement(
    event: Event, settings: Settings, verb: Verb, result: dict[str, Any] | None = None
) -> list[Statement]:
    obj = activity(settings.block_iri(video_usage_key(event)), ACTIVITY_VIDEO)
    length = seconds(event.present("data.duration"))
    extensions = without_none({EXT_VIDEO_LENGTH: length})
    return [build(event, settings, verb, obj, result=result, extensions=extensions)]


def play_position(event: Event) -> float | None:
    # ERB reads `current_time or currentTime`: a current_time of 0 falls through to currentTime.
    return seconds(event.present("data.current_time") or event.present("data.currentTime"))


def speed(event: Event, path: str) -> str:
    # ERB appends "x" to the speed string and fails on a missing one; a number is written as is.
    value = event.present(path)
    if value is None:
        raise Unusable(f"missing {path}")
    return f"{value}x"


@register("load_video", "edx.video.loaded")
def loaded(event: Event, settings: Settings) -> list[Statement]:
    return video_statement(event, settings, INITIALIZED)


@register(*PLAYBACK_VERBS)
def playback(event: Event, settings: Settings) -> list[Statement]:
    result = {"extensions": without_none({EXT_VIDEO_TIME: play_position(event)})}
    return video_statement(event, settings, PLAYBACK_VERBS[event.name], result)


@register("complete_video", "edx.video.completed")
def completed(event: Event, settings: Settings) -> list[Statement]:
    length = seconds(event.present("data.duration"))
    result: dict[str, Any] = {"extensions": without_none({EXT_VIDEO_TIME: length})}
    result["completion"] = True
    duration = None if length is None else iso_duration(length)
    if duration is not None:
        result["duration"] = duration
    return video_statement(event, settings, COMPLETED, result)


@register("seek_video", "edx.video.position.changed")
def seeked(event: Event, settings: Settings) -> list[Statement]:
    times = {
        EXT_VIDEO_TIME_FROM: seconds(event.present("data.old_time")),
        EXT_VIDEO_TIME_TO: seconds(event.present("data.new_time")),
    }
    return video_statement(event, settings, SEEKED, {"extensions": without_none(times)})


@register("speed_change_video")
def speed_changed(event: Event, settings: Settings) -> list[Statement]:
    speeds = {
        EXT_VIDEO_SPEED_FROM: speed(event, "data.old_speed"),
        EXT_VIDEO_SPEED_TO: speed(event, "data.new_speed"),
    }
    return video_statement(event, settings, INTERACTED, {"extensions": speeds})


@register(*sorted(CAPTIONS_SHOWN | CAPTIONS_HIDDEN))
def captions(event: Event, settings: Settings) -> list[Statement]:
    facts = {
        EXT_VIDEO_TIME: play_position(event),
        EXT_VIDEO_CC_ENABLED: event.name in CAPTIONS_SHOWN,
    }
    return video_statement(event, settings, INTERACTED, {"extensions": without_none(facts)})
