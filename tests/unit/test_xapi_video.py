"""Video events -> xAPI statements (families/video.py): every registered event name, each
statement shape compared whole, the time rounding and duration format, and the skip cases."""

from __future__ import annotations

from typing import Any

import pytest

from olx_spark.xapi.families.video import iso_duration, seconds
from olx_spark.xapi.registry import SKIP_INCOMPLETE, transform_event, transformer_for
from olx_spark.xapi.statement import statement_id
from olx_spark.xapi.vocabulary import (
    COMPLETED,
    INITIALIZED,
    INTERACTED,
    PLAYED,
    SEEKED,
    Verb,
)
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

VIDEO = "0b9e39477cf34507a7a48f74be381fdd"
VIDEO_IRI = f"{LMS}/xblock/block-v1:ExampleX+CS101+2026_T1+type@video+block@{VIDEO}"
LENGTH_EXT = "https://w3id.org/xapi/video/extensions/length"
TIME_EXT = "https://w3id.org/xapi/video/extensions/time"
CC_EXT = "https://w3id.org/xapi/video/extensions/cc-enabled"
ADL = "http://adlnet.gov/expapi/verbs/"
VIDEO_VERBS = "https://w3id.org/xapi/video/verbs/"


def browser(name: str, data: dict[str, Any], **fields: Any) -> Any:
    """A legacy browser video event (its JSON string payload already parsed into `data`)."""
    values: dict[str, Any] = {
        "event_source": "browser",
        "page": f"{LMS}/courses/{COURSE}/courseware/week1/video1/",
    }
    values.update(fields)
    return event(name, data, **values)


def whole(verb: Verb, result: dict[str, Any] | None, length: float | None = 195.0) -> Any:
    """The whole statement a video event of ACTOR in COURSE gives, spelled out."""
    extensions = common_extensions()
    if length is not None:
        extensions[LENGTH_EXT] = length
    stmt: dict[str, Any] = {
        "id": statement_id(verb, ACTOR, TIME, SETTINGS),
        "actor": {"objectType": "Agent", "account": {"homePage": LMS, "name": ACTOR}},
        "verb": {"id": verb.iri, "display": {"en": verb.display}},
        "object": {
            "id": VIDEO_IRI,
            "objectType": "Activity",
            "definition": {"type": "https://w3id.org/xapi/video/activity-type/video"},
        },
    }
    if result is not None:
        stmt["result"] = result
    stmt["context"] = {"contextActivities": course_parent(), "extensions": extensions}
    stmt["timestamp"] = TIME
    stmt["version"] = "1.0.3"
    return stmt


def test_play_video_exact_statement() -> None:
    ev = browser(
        "play_video", {"id": VIDEO, "currentTime": 23.4567, "code": "html5", "duration": 195}
    )
    [stmt] = transform(ev)
    assert stmt == {
        "id": statement_id(PLAYED, ACTOR, TIME, SETTINGS),
        "actor": {"objectType": "Agent", "account": {"homePage": LMS, "name": ACTOR}},
        "verb": {"id": "https://w3id.org/xapi/video/verbs/played", "display": {"en": "played"}},
        "object": {
            "id": f"{LMS}/xblock/block-v1:ExampleX+CS101+2026_T1+type@video+block@{VIDEO}",
            "objectType": "Activity",
            "definition": {"type": "https://w3id.org/xapi/video/activity-type/video"},
        },
        "result": {"extensions": {"https://w3id.org/xapi/video/extensions/time": 23.457}},
        "context": {
            "contextActivities": course_parent(),
            "extensions": {
                **common_extensions(),
                "https://w3id.org/xapi/video/extensions/length": 195.0,
            },
        },
        "timestamp": TIME,
        "version": "1.0.3",
    }


@pytest.mark.parametrize("name", ["load_video", "edx.video.loaded"])
def test_loaded_is_initialized_without_result(name: str) -> None:
    [stmt] = transform(browser(name, {"id": VIDEO, "code": "html5", "duration": 195.0}))
    assert stmt == whole(INITIALIZED, None)


@pytest.mark.parametrize(
    ("name", "verb_iri"),
    [
        ("play_video", VIDEO_VERBS + "played"),
        ("edx.video.played", VIDEO_VERBS + "played"),
        ("pause_video", VIDEO_VERBS + "paused"),
        ("edx.video.paused", VIDEO_VERBS + "paused"),
        ("stop_video", ADL + "terminated"),
        ("edx.video.stopped", ADL + "terminated"),
    ],
)
def test_playback_events_verb_and_position(name: str, verb_iri: str) -> None:
    # Legacy browser events say currentTime; the newer (mobile) ones current_time.
    legacy = transform(browser(name, {"id": VIDEO, "currentTime": 61.2, "duration": 195.0}))
    newer = transform(event(name, {"id": VIDEO, "current_time": "61.2", "duration": 195.0}))
    for [stmt] in (legacy, newer):
        assert stmt["verb"]["id"] == verb_iri
        assert stmt["object"]["id"] == VIDEO_IRI
        assert stmt["result"] == {"extensions": {TIME_EXT: 61.2}}
        assert stmt["context"]["extensions"][LENGTH_EXT] == 195.0


def test_play_position_edge_cases_follow_erb() -> None:
    def result(data: dict[str, Any]) -> Any:
        return transform(browser("pause_video", {"id": VIDEO, **data}))[0]["result"]

    assert result({"currentTime": 0}) == {"extensions": {TIME_EXT: 0.0}}
    # ERB reads `current_time or currentTime`: a zero current_time falls through to currentTime.
    assert result({"current_time": 0, "currentTime": 4.5}) == {"extensions": {TIME_EXT: 4.5}}
    assert result({"current_time": 0}) == {"extensions": {}}
    # No position at all: the result keeps an empty extensions object, as ERB's does.
    assert result({}) == {"extensions": {}}


def test_no_duration_no_length_extension() -> None:
    [stmt] = transform(browser("play_video", {"id": VIDEO, "currentTime": 1.0}))
    assert stmt == whole(PLAYED, {"extensions": {TIME_EXT: 1.0}}, length=None)


@pytest.mark.parametrize("name", ["complete_video", "edx.video.completed"])
def test_completed_exact_statement(name: str) -> None:
    [stmt] = transform(browser(name, {"id": VIDEO, "code": "html5", "duration": 195.0}))
    assert stmt == whole(
        COMPLETED, {"extensions": {TIME_EXT: 195.0}, "completion": True, "duration": "PT03M15S"}
    )


def test_completed_without_duration_still_completes() -> None:
    [stmt] = transform(browser("complete_video", {"id": VIDEO}))
    assert stmt["result"] == {"extensions": {}, "completion": True}


@pytest.mark.parametrize("name", ["seek_video", "edx.video.position.changed"])
def test_seek_exact_statement(name: str) -> None:
    data = {
        "id": VIDEO,
        "old_time": 10.5,
        "new_time": 60.12349,
        "type": "onSlideSeek",
        "code": "html5",
        "duration": 195.0,
    }
    [stmt] = transform(browser(name, data))
    assert stmt == whole(
        SEEKED,
        {
            "extensions": {
                "https://w3id.org/xapi/video/extensions/time-from": 10.5,
                "https://w3id.org/xapi/video/extensions/time-to": 60.123,
            }
        },
    )


def test_speed_change_exact_statement() -> None:
    data = {
        "id": VIDEO,
        "current_time": 12.3,
        "old_speed": "1.0",
        "new_speed": "1.50",
        "code": "html5",
        "duration": 195.0,
    }
    [stmt] = transform(browser("speed_change_video", data))
    assert stmt == whole(
        INTERACTED,
        {
            "extensions": {
                "https://w3id.org/xapi/openedx/extension/speed-from": "1.0x",
                "https://w3id.org/xapi/openedx/extension/speed-to": "1.50x",
            }
        },
    )


def test_show_transcript_exact_statement() -> None:
    data = {"id": VIDEO, "code": "html5", "currentTime": 19.134, "duration": 195.0}
    [stmt] = transform(browser("show_transcript", data))
    assert stmt == whole(INTERACTED, {"extensions": {TIME_EXT: 19.134, CC_EXT: True}})


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("show_transcript", True),
        ("hide_transcript", False),
        ("edx.video.transcript.shown", True),
        ("edx.video.transcript.hidden", False),
        ("edx.video.closed_captions.shown", True),
        ("edx.video.closed_captions.hidden", False),
        ("video_show_cc_menu", True),
        ("video_hide_cc_menu", False),
    ],
)
def test_transcript_and_caption_toggles(name: str, shown: bool) -> None:
    data = {"id": VIDEO, "code": "html5", "current_time": 7, "duration": 195.0}
    [stmt] = transform(browser(name, data))
    assert stmt["verb"] == {"id": ADL + "interacted", "display": {"en": "interacted"}}
    assert stmt["object"]["id"] == VIDEO_IRI
    assert stmt["result"] == {"extensions": {TIME_EXT: 7.0, CC_EXT: shown}}


def test_every_video_event_of_the_spec_is_registered_here() -> None:
    names = [
        "load_video",
        "edx.video.loaded",
        "play_video",
        "edx.video.played",
        "pause_video",
        "edx.video.paused",
        "stop_video",
        "edx.video.stopped",
        "complete_video",
        "edx.video.completed",
        "seek_video",
        "edx.video.position.changed",
        "speed_change_video",
        "show_transcript",
        "hide_transcript",
        "edx.video.transcript.shown",
        "edx.video.transcript.hidden",
        "edx.video.closed_captions.shown",
        "edx.video.closed_captions.hidden",
        "video_show_cc_menu",
        "video_hide_cc_menu",
    ]
    for name in names:
        func = transformer_for(name)
        assert func is not None and func.__module__ == "olx_spark.xapi.families.video", name


def test_seconds_rounds_to_three_decimals_like_erb() -> None:
    assert seconds(23.4567) == 23.457
    assert seconds("12.5") == 12.5
    assert seconds(0) == 0.0
    assert seconds(195) == 195.0
    assert seconds(None) is None
    assert seconds("") is None


def test_iso_duration_is_written_like_erbs_serialiser() -> None:
    assert iso_duration(195.0) == "PT03M15S"
    assert iso_duration(0.0) == "PT00S"
    assert iso_duration(15.5) == "PT15.5S"
    assert iso_duration(3600.0) == "PT01H00M00S"
    assert iso_duration(90061.25) == "P1DT01H01M01.25S"
    assert iso_duration(195.123) == "PT03M15.123S"
    assert iso_duration(-1.0) is None


@pytest.mark.parametrize(
    ("name", "data", "fields"),
    [
        ("play_video", {"currentTime": 1.0}, {}),  # no video id
        ("load_video", {"id": ""}, {}),
        ("pause_video", {"id": VIDEO}, {"course_id": None, "context": {}}),  # no course
        ("stop_video", {"id": VIDEO}, {"course_id": "ExampleX/CS101/2014"}),  # no block-v1 key
        ("play_video", {"id": VIDEO, "currentTime": "soon"}, {}),  # not a number
        ("seek_video", {"id": VIDEO, "old_time": 1, "new_time": float("nan")}, {}),
        ("speed_change_video", {"id": VIDEO, "new_speed": "2.0"}, {}),  # no old speed
        ("show_transcript", '{"id": "truncated', {}),  # payload that did not parse
    ],
)
def test_incomplete_events_are_skipped(name: str, data: Any, fields: dict[str, Any]) -> None:
    assert transform_event(browser(name, data, **fields), SETTINGS) == ([], SKIP_INCOMPLETE)


def test_course_id_from_context_when_the_event_has_none() -> None:
    ev = browser("load_video", {"id": VIDEO}, course_id=None, context={"course_id": COURSE})
    [stmt] = transform(ev)
    assert stmt["object"]["id"] == VIDEO_IRI
