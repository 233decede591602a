"""Property tests of the xAPI transformers: generated events of every registered event name, in
the shapes the LMS logs them and in the broken shapes it also logs, run through
`transform_event` and through the Arrow batch path (`batch.transform_rows`).

For every event: the transformer never raises (it returns statements or a skip reason); every
statement is valid xAPI 1.0.3 (`validate.problems`) and strict JSON (no NaN or Infinity);
transforming the same event twice gives the same statements (and leaves the event as it was);
statement ids are distinct within one event; the actor is exactly the event's actor id account;
and no username, email address or IP address planted in the event appears in a statement.
For batches: one output row per skipped event, at least one per transformed event, and each
`statement` is strict JSON whose id is the row's `statement_id`.

The strategies build each family's payload from the fields its module reads (one builder per
family module; a name registered in a new module fails `test_every_name_has_a_strategy`).
Each field is usually realistic and sometimes missing, null, empty, an edge number (0,
negative, huge, NaN, Infinity: Python's `json` reads them all) or nested garbage, and the
course key comes in both the `course-v1:` and the pre-2014 slash form. The "clean" variant
keeps every field realistic, and checks that such events do give statements (so the
properties above are not satisfied by skipping everything).
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, Final
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from olx_spark.xapi.batch import BatchSettings, transform_rows
from olx_spark.xapi.event import Event
from olx_spark.xapi.registry import (
    SKIP_INCOMPLETE,
    event_names,
    transform_event,
    transformer_for,
)
from olx_spark.xapi.statement import Statement
from olx_spark.xapi.validate import is_uuid, problems
from tests.xapi_fixtures import LMS, SETTINGS

NAMES: Final = event_names()
# What the per-event properties run over: every name, and problem_check's two shapes (server:
# graded payload; browser: the form's inputs as a query string) each on its own.
CASES: Final = [
    case
    for name in NAMES
    for case in ([f"{name}/server", f"{name}/browser"] if name == "problem_check" else [name])
]

# What is planted in every event and must never reach a statement.
USERNAME: Final = "zz_learner_4711"
OTHER_USERNAME: Final = "zz_author_0815"  # another learner (a forum post's author)
EMAIL: Final = "zz.learner.4711@mail.example.com"
IP: Final = "198.51.100.47"
SECRETS: Final = (USERNAME, OTHER_USERNAME, EMAIL, IP)

SETTINGS_FUZZ = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
SETTINGS_CLEAN = settings(
    max_examples=4,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# --- values ----------------------------------------------------------------------------------

_HEX = "0123456789abcdef"
_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def hexes(size: int) -> st.SearchStrategy[str]:
    return st.text(_HEX, min_size=size, max_size=size)


EDGE_NUMBERS: Final[list[int | float]] = [
    0,
    0.0,
    -0.0,
    -1,
    -2.5,
    1,
    2**63,
    10**20,
    10**400,  # Python's json reads any integer
    -(10**400),
    1e308,
    -1e308,
    5e-324,
    math.nan,  # Python's json reads NaN, Infinity and -Infinity
    math.inf,
    -math.inf,
]
numbers: st.SearchStrategy[int | float] = st.one_of(
    st.sampled_from(EDGE_NUMBERS),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
)
ODD_TEXTS: Final = [
    "",
    " ",
    "Ünïcödé — ✓ 日本語 🎓",
    "\u202eright-to-left",
    "nul\x00byte",
    "\ud83d",  # a lone surrogate: a browser payload cut inside an emoji
    "a b\tc",
    "<b>bold</b>",
    "line\nbreak",
    "null",
    "NaN",
    '{"a": 1}',
    "%20%zz",
]
texts: st.SearchStrategy[str] = st.one_of(st.text(max_size=24), st.sampled_from(ODD_TEXTS))
scalars: st.SearchStrategy[Any] = st.one_of(st.none(), st.booleans(), numbers, texts)
garbage: st.SearchStrategy[Any] = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=8,
)


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()  # a field the event does not carry


def carried(**fields: Any) -> dict[str, Any]:
    """The fields, without the missing ones."""
    return {key: value for key, value in fields.items() if value is not MISSING}


Draw = Callable[[st.SearchStrategy[Any]], Any]


class Fields:
    """Draws field values: realistic ones, or (unless clean) sometimes broken ones."""

    def __init__(self, draw: Draw, clean: bool) -> None:
        self.draw = draw
        self.clean = clean

    def __call__(self, realistic: st.SearchStrategy[Any]) -> Any:
        if self.clean:
            return self.draw(realistic)
        roll = self.draw(st.integers(0, 19))
        if roll < 13:
            return self.draw(realistic)
        if roll == 13:
            return MISSING
        if roll == 14:
            return None
        if roll == 15:
            return ""
        if roll == 16:
            return self.draw(st.sampled_from(EDGE_NUMBERS))
        if roll == 17:
            return self.draw(texts)
        return self.draw(garbage)

    def pick(self, *choices: Any) -> Any:
        return self(st.sampled_from(choices))


# --- keys, times, URLs -----------------------------------------------------------------------

orgs = st.text(_ALNUM, min_size=1, max_size=8)
course_numbers = st.text(_ALNUM + ".", min_size=1, max_size=8).filter(lambda s: s[0] != ".")
runs = st.text(_ALNUM + "_", min_size=1, max_size=10)


@st.composite
def course_keys(draw: Draw, modern: bool = False) -> str:
    org, number, run = draw(orgs), draw(course_numbers), draw(runs)
    if modern or draw(st.booleans()):
        return f"course-v1:{org}+{number}+{run}"
    return f"{org}/{number}/{run}"  # before 2014


def block_key(course: str, kind: str, block: str) -> str:
    """A usage key in `course`: `block-v1:` for a `course-v1:` course, else `i4x://`."""
    if course.startswith("course-v1:"):
        return f"block-v1:{course.removeprefix('course-v1:')}+type@{kind}+block@{block}"
    org, number = [*course.split("/"), "x", "x"][:2]
    return f"i4x://{org}/{number}/{kind}/{block}"


@st.composite
def timestamps(draw: Draw) -> str:
    """An event time as the LMS has written it over the years."""
    moment: datetime = draw(
        st.datetimes(min_value=datetime(2012, 6, 1), max_value=datetime(2030, 12, 31))
    )
    style = draw(st.integers(0, 4))
    if style == 0:
        return moment.isoformat()  # naive: UTC
    if style == 1:
        return moment.replace(tzinfo=UTC).isoformat()
    if style == 2:
        return moment.isoformat() + "Z"
    if style == 3:
        return moment.isoformat(sep=" ")
    offset = timezone(timedelta(hours=draw(st.integers(-12, 14))))
    return moment.replace(tzinfo=offset).isoformat()


def courseware_url(course: str, block: str | None = None) -> str:
    url = f"{LMS}/courses/{course}/courseware/week_1/lesson_2/"
    return url if block is None else f"{url}?activate_block_id={quote(block, safe='')}"


def link_targets(course: str) -> st.SearchStrategy[str]:
    """Link targets learners click: course pages, other sites, and ones naming a person."""
    return st.one_of(
        st.sampled_from(
            [
                courseware_url(course),
                f"{LMS}/courses/{course}/jump_to_id/0a1b2c3d",
                "https://docs.example.org/guide/index.html#section-2",
                "http://old.example.org/notes.pdf",
                "https://例え.jp/パス?q=ü",
                # Links that name a person: the statement must not carry them.
                f"{LMS}/u/{USERNAME}",
                f"https://profile.example.org/u/{USERNAME}?tab=about",
                f"https://wiki.example.org/people/{USERNAME}",
                f"https://forms.example.org/survey?email={quote(EMAIL)}",
                f"https://forms.example.org/survey?who={USERNAME}",
                f"https://{USERNAME}:secret@files.example.org/notes.pdf",
                f"mailto:{EMAIL}",
                # Targets that are no activity IRI.
                "/courses/relative/",
                "javascript:void(0)",
                "https://example.org/with space",
                "#top",
            ]
        ),
        texts.map(lambda tail: f"https://example.org/{tail}"),
    )


# --- one builder per family: (draw, fields, name, course) -> the event's parts ---------------


class Parts:
    """What a family builder decides about an event, beyond the common fields."""

    def __init__(
        self,
        data: Any,
        *,
        source: str = "server",
        page: str | None = None,
        context: dict[str, Any] | None = None,
    ) -> None:
        self.data = data
        self.source = source
        self.page = page
        self.context = context or {}


def video(draw: Draw, f: Fields, name: str, course: str) -> Parts:
    times = st.one_of(
        st.floats(0, 20_000, allow_nan=False),
        st.integers(0, 20_000),
        st.floats(0, 20_000, allow_nan=False).map(lambda x: f"{x:.3f}"),
    )
    video_id = draw(hexes(32))
    data = carried(
        id=f(st.just(video_id)),
        code=f.pick("html5", "mobile", "3_yD_cEKoCk"),
        duration=f(times),
    )
    data[draw(st.sampled_from(["currentTime", "current_time"]))] = f(times)
    if name in ("seek_video", "edx.video.position.changed"):
        data.update(
            carried(old_time=f(times), new_time=f(times), type=f.pick("onSlideSeek", "onSkipSeek"))
        )
    if name == "speed_change_video":
        speeds = st.sampled_from(["0.50", "0.75", "1.0", "1.25", "1.50", "2.0", 1.5])
        data.update(carried(old_speed=f(speeds), new_speed=f(speeds)))
    data = carried(**data)
    usage = block_key(course, "video", video_id)
    source = "mobile" if name.startswith("edx.video.") and draw(st.booleans()) else "browser"
    return Parts(
        data,
        source=source,
        page=f"{LMS}/xblock/{usage}",
        context={"module": {"display_name": "Lecture video", "usage_key": usage}},
    )


def navigation(draw: Draw, f: Fields, name: str, course: str) -> Parts:
    if name.endswith(("next_selected", "previous_selected", "tab_selected")):
        tabs = st.integers(0, 30)
        data = carried(
            id=f(st.just(block_key(course, "sequential", draw(hexes(32))))),
            current_tab=f(tabs),
            target_tab=f(tabs),
            tab_count=f(tabs),
            widget_placement=f.pick("top", "bottom"),
        )
    else:
        targets = (
            st.sampled_from([courseware_url(course), "https://docs.example.org/guide"])
            if f.clean
            else link_targets(course)
        )
        data = carried(current_url=f(st.just(courseware_url(course))), target_url=f(targets))
        if "outline" in name:
            name_texts = st.text(min_size=1, max_size=30) if f.clean else texts
            data.update(carried(target_name=f(name_texts), widget_placement="accordion"))
    return Parts(data, source="browser", page=courseware_url(course))


RESPONSE_TYPES: Final = [
    "multiplechoiceresponse",
    "choiceresponse",
    "optionresponse",
    "numericalresponse",
    "stringresponse",
    "formularesponse",
    "customresponse",
    "imageresponse",
    "truefalseresponse",
    "jsinputresponse_of_some_xblock",  # not in the map: "other"
]


@st.composite
def grades(draw: Draw, clean: bool) -> tuple[Any, Any]:
    """(earned, possible) as the LMS logs them; unless clean, anything numbers can be."""
    possible = draw(st.one_of(st.integers(0, 10), st.floats(0, 100, allow_nan=False)))
    earned = draw(st.floats(0, possible, allow_nan=False) | st.sampled_from([0, possible]))
    if clean or draw(st.booleans()):
        return earned, possible
    return draw(numbers), draw(numbers)


def problem(draw: Draw, f: Fields, name: str, course: str) -> Parts:
    block = draw(hexes(32))
    usage = block_key(course, "problem", block)
    module = carried(display_name=f(texts), usage_key=f(st.just(usage)))
    context: dict[str, Any] = {"module": module}
    if name == "problem_check/browser":
        # From the browser: the payload is the form's inputs, a query string (or a list).
        inputs = "&".join(
            f"input_{block}_{n}_1={draw(st.sampled_from(['choice_1', '7', 'x%20y']))}"
            for n in range(2, 2 + draw(st.integers(1, 3)))
        )
        data = draw(st.sampled_from([inputs, [inputs.split("&")[0] + "[]"]]))
        if not f.clean:
            data = f(st.just(data))
            data = None if data is MISSING else data
        vertical = block_key(course, "vertical", draw(hexes(32)))
        pages = [
            courseware_url(course, vertical),
            f"{courseware_url(course)}?activate_block_id={vertical}",  # `+` left unencoded
            f"{LMS}/xblock/{usage}?view=student_view",
        ]
        page = draw(st.sampled_from(pages if f.clean else [*pages, None, "not a url"]))
        if not f.clean and draw(st.booleans()):
            context.update(carried(referer=f(st.sampled_from(pages))))
        return Parts(data, source="browser", page=page, context=context)
    if name == "problem_check/server":
        questions = [f"{block}_{n}_1" for n in range(2, 2 + draw(st.integers(1, 4)))]
        answers = st.one_of(
            st.sampled_from(["choice_0", "blue", "42", "x^2"]),
            st.lists(st.sampled_from(["choice_0", "choice_2", "a cello — bowed"]), max_size=3),
            st.text(max_size=12),
        )
        submission = {
            question: carried(
                question=f(texts),
                answer=f(answers),
                response_type=f(st.sampled_from(RESPONSE_TYPES)),
                input_type=f.pick("choicegroup", "checkboxgroup", "textline"),
                correct=f(st.booleans()),
                variant="",
                group_label="",
            )
            for question in questions
        }
        earned, possible = draw(grades(f.clean))
        key = draw(st.sampled_from(["problem_id", "module_id"]))
        data = carried(
            answers={q: s.get("answer") for q, s in submission.items()},
            grade=f(st.just(earned)),
            max_grade=f(st.just(possible)),
            success=f.pick("correct", "incorrect"),
            attempts=f(st.integers(0, 50)),
            state={"seed": 1, "done": None, "student_answers": {}},
            correct_map={},
            submission=f(st.just(submission)),
        )
        data[key] = f(st.just(usage))
        return Parts(carried(**data), context=context)
    if name == "showanswer":
        return Parts(carried(problem_id=f(st.just(usage))), context=context)
    if name == "edx.problem.hint.demandhint_displayed":
        data = carried(
            module_id=f(st.just(usage)),
            hint_index=f(st.integers(0, 5)),
            hint_len=f(st.integers(1, 6)),
            hint_text=f(st.just(f"Think of the sky, or write to {EMAIL}.")),
        )
        return Parts(data, context=context)
    # edx.grades.problem.submitted, edx.problem.completed
    earned, possible = draw(grades(f.clean))
    data = carried(
        problem_id=f(st.just(usage)),
        course_id=f(st.just(course)),
        user_id=f(st.integers(1, 10**7).map(str)),
        weighted_earned=f(st.just(earned)),
        weighted_possible=f(st.just(possible)),
        event_transaction_id=str(draw(st.uuids())),
        event_transaction_type="edx.grades.problem.submitted",
    )
    return Parts(data, context=context)


def enrollment(draw: Draw, f: Fields, name: str, course: str) -> Parts:
    modes = ("audit", "verified", "honor", "professional", "no-id-professional", "masters")
    data = carried(
        course_id=f(st.just(course)), user_id=f(st.integers(1, 10**7)), mode=f.pick(*modes)
    )
    return Parts(data)


def grading(draw: Draw, f: Fields, name: str, course: str) -> Parts:
    data = carried(
        user_id=f(st.integers(1, 10**7).map(str)),
        course_id=f(st.just(course)),
        event_transaction_id=str(draw(st.uuids())),
        event_transaction_type="edx.grades.problem.submitted",
    )
    if name == "edx.grades.subsection.grade_calculated":
        earned, possible = draw(grades(f.clean))
        data.update(
            carried(
                block_id=f(st.just(block_key(course, "sequential", draw(hexes(32))))),
                course_version=draw(hexes(24)),
                weighted_total_earned=f(st.just(earned)),
                weighted_total_possible=f(st.just(possible)),
                weighted_graded_earned=f(st.just(earned)),
                weighted_graded_possible=f(st.just(possible)),
                first_attempted=f(timestamps()),
                visible_blocks_hash=f(st.just("0Xa1/b2+c3=")),
            )
        )
    if name == "edx.grades.course.grade_calculated":
        data.update(
            carried(
                course_version=draw(hexes(24)),
                percent_grade=f(st.floats(0, 1)),
                letter_grade=f.pick("Pass", "A", "B", ""),
                course_edited_timestamp=f(timestamps()),
                grading_policy_hash="ChVp0lHGQGCevD0t4njna/C44zQ=",
            )
        )
    return Parts(data)


def completion(draw: Draw, f: Fields, name: str, course: str) -> Parts:
    kind = draw(st.sampled_from(["problem", "video", "html"]))
    data = carried(
        user_id=f(st.integers(1, 10**7)),
        course_id=f(st.just(course)),
        context_key=f(st.just(course)),
        block_id=f(st.just(block_key(course, kind, draw(hexes(32))))),
        block_type=kind,
        completion=f(st.floats(0, 1) | st.sampled_from([0, 1, 1.0, 0.5])),
    )
    return Parts(data)


def forum(draw: Draw, f: Fields, name: str, course: str) -> Parts:
    _, _, post, action = name.split(".")
    post_id, thread_id = draw(hexes(24)), draw(hexes(24))
    topic = draw(hexes(32))
    paths = {
        "thread": [
            f"/courses/{course}/discussion/{topic}/threads/create",
            f"/api/discussion/v1/threads/{post_id}/",
            "/api/discussion/v1/threads/",
            f"/courses/{course}/discussion/threads/{post_id}/{action}",
        ],
        "response": [
            "/api/discussion/v1/comments/",
            f"/courses/{course}/discussion/threads/{thread_id}/reply",
            f"/api/discussion/v1/comments/{post_id}/",
        ],
        "comment": [
            "/api/discussion/v1/comments/",
            f"/courses/{course}/discussion/comments/{post_id}/{action}",
        ],
    }[post]
    data = carried(
        id=f(st.just(post_id)),
        commentable_id=f(st.just(topic)),
        category_name=f(texts),
        user_forums_roles=["Student"],
        user_course_roles=[],
        body=f(st.just(f"Part (b) is unclear to me; mail me at {EMAIL}")),
        url=f(st.just(f"{LMS}/courses/{course}/discussion/forum/{topic}/threads/{thread_id}")),
        truncated=f(st.booleans()),
        anonymous=f(st.booleans()),
        options=f(st.just({"followed": True})),
        target_username=OTHER_USERNAME,
        team_id=None,
    )
    if post == "thread":
        data.update(carried(title=f(texts), thread_type=f.pick("discussion", "question")))
    else:
        data["discussion"] = f(st.just(carried(id=f(st.just(thread_id)))))
        if post == "comment":
            data["response"] = f(st.just({"id": draw(hexes(24))}))
    if action == "voted":
        data.update(carried(vote_value=f.pick("up", "down"), undo_vote=f(st.booleans())))
    context = carried(path=f(st.sampled_from(paths)))
    return Parts(carried(**data), context=context)


def exam(draw: Draw, f: Fields, name: str, course: str) -> Parts:
    kind, step = name.split(".")[2], name.split(".")[-1]
    submitted = step == "submitted"
    data = carried(
        exam_id=f(st.integers(1, 999)),
        exam_content_id=f(st.just(block_key(course, "sequential", draw(hexes(32))))),
        exam_name=f(texts),
        exam_default_time_limit_mins=f(st.integers(0, 600)),
        exam_is_proctored=kind == "proctored",
        exam_is_practice_exam=kind == "practice",
        exam_is_active=f(st.booleans()),
        attempt_id=f(st.integers(1, 10**6)),
        attempt_user_id=f(st.integers(1, 10**7)),
        attempt_started_at=f(timestamps()) if submitted else None,
        attempt_completed_at=f(timestamps()) if submitted else None,
        attempt_code=f(st.uuids().map(lambda u: str(u).upper())),
        attempt_allowed_time_limit_mins=f(st.integers(0, 600)) if submitted else None,
        attempt_status=f(st.just(step)),
        attempt_event_elapsed_time_secs=f(st.floats(0, 36_000)) if submitted else None,
    )
    return Parts(data)


Builder = Callable[[Draw, Fields, str, str], Parts]
BUILDERS: Final[dict[str, Builder]] = {
    "olx_spark.xapi.families.video": video,
    "olx_spark.xapi.families.navigation": navigation,
    "olx_spark.xapi.families.problem": problem,
    "olx_spark.xapi.families.enrollment": enrollment,
    "olx_spark.xapi.families.grading": grading,
    "olx_spark.xapi.families.completion": completion,
    "olx_spark.xapi.families.forum": forum,
    "olx_spark.xapi.families.exam": exam,
}


def family_of(name: str) -> str:
    func = transformer_for(name)
    assert func is not None, name
    return func.__module__


@st.composite
def events(draw: Draw, case: str, clean: bool = False) -> Event:
    """An event of `case` (a name, or `problem_check/server`, `problem_check/browser`) by a
    learner with a planted username, email and IP address."""
    name = case.split("/")[0]
    if case == "problem_check":
        case = draw(st.sampled_from(["problem_check/server", "problem_check/browser"]))
    f = Fields(draw, clean)
    course = draw(course_keys(modern=clean))
    parts = BUILDERS[family_of(name)](draw, f, case, course)
    data = parts.data
    if isinstance(data, dict):
        data = {**data, "username": USERNAME, "email": EMAIL}
    if not clean and draw(st.integers(0, 14)) == 0:
        # A payload that is no object: truncated text, null, a list, a number.
        data = draw(st.one_of(st.just(json.dumps(data)[:20]), garbage))
    context = carried(
        course_id=f(st.just(course)),
        org_id=f(orgs),
        user_id=f(st.integers(1, 10**7)),
        username=USERNAME,
        ip=IP,
        path=f"/courses/{course}/xblock/handler",
    )
    context.update(parts.context)
    if not clean and draw(st.integers(0, 9)) == 0:
        context["event_source"] = draw(st.sampled_from(["browser", "server", "mobile"]))
    # The course of the event row: usually the context's; sometimes absent or garbage.
    event_course = course if clean else draw(st.sampled_from([course, course, course, None, ""]))
    if not clean and draw(st.integers(0, 19)) == 0:
        event_course = draw(st.sampled_from(["course-v1:Org+with space+1", "  ", "none"]))
    return Event(
        name=name,
        timestamp=draw(timestamps()),
        actor_id=draw(st.uuids().map(str) | st.text(_ALNUM + "-_", min_size=1, max_size=40)),
        data=data,
        context=context,
        event_source=(
            parts.source if clean else draw(st.sampled_from([parts.source, parts.source, None]))
        ),
        session=draw(st.one_of(hexes(32), st.none(), st.just(""))),
        course_id=event_course,
        course_name=draw(st.one_of(st.none(), st.text(min_size=1, max_size=30))),
        page=parts.page,
        referer=draw(st.none() | st.just(courseware_url(course))),
        username=USERNAME,
    )


# --- the properties --------------------------------------------------------------------------


def strict_json(value: Any) -> str:
    """`value` as JSON an LRS accepts: no NaN or Infinity."""
    return json.dumps(value, allow_nan=False)


def assert_sound(ev: Event, statements: list[Statement]) -> None:
    """Every property one event's statements must have."""
    for stmt in statements:
        assert problems(stmt) == [], (ev.name, problems(stmt), stmt)
        for key in ("id", "actor", "verb", "object", "context", "timestamp", "version"):
            assert key in stmt, (ev.name, key)
        assert is_uuid(stmt["id"])
        assert stmt["actor"] == {
            "objectType": "Agent",
            "account": {"homePage": SETTINGS.lms_root_url, "name": ev.actor_id},
        }
        text = strict_json(stmt)
        text += json.dumps(stmt, ensure_ascii=False)
        for secret in SECRETS:
            assert secret not in text, (ev.name, secret, stmt)
    ids = [stmt["id"] for stmt in statements]
    assert len(set(ids)) == len(ids), (ev.name, ids)


def check_event(ev: Event) -> tuple[list[Statement], str | None]:
    before = copy.deepcopy(ev)
    statements, skipped = transform_event(ev, SETTINGS)  # must not raise
    assert ev == before, "the transformer changed the event"
    if skipped is not None:
        assert statements == [] and skipped == SKIP_INCOMPLETE, (ev.name, skipped)
        return statements, skipped
    assert statements, (ev.name, "no statement and no skip reason")
    assert_sound(ev, statements)
    again, skipped_again = transform_event(copy.deepcopy(ev), SETTINGS)
    assert skipped_again is None
    assert json.dumps(again) == json.dumps(statements), "not deterministic"
    return statements, skipped


def test_every_name_has_a_strategy() -> None:
    assert NAMES
    missing = sorted({family_of(name) for name in NAMES} - set(BUILDERS))
    assert not missing, f"add a strategy for the families in {missing}"


@pytest.mark.parametrize("case", CASES)
@SETTINGS_FUZZ
@given(data=st.data())
def test_any_event_gives_valid_private_deterministic_statements_or_a_skip(
    case: str, data: st.DataObject
) -> None:
    check_event(data.draw(events(case), label="event"))


@pytest.mark.parametrize("case", CASES)
@SETTINGS_CLEAN
@given(data=st.data())
def test_realistic_events_give_statements(case: str, data: st.DataObject) -> None:
    ev = data.draw(events(case, clean=True), label="event")
    _, skipped = check_event(ev)
    assert skipped is None, (case, ev)


# --- the batch path --------------------------------------------------------------------------

OTHER_NAMES: Final = ["/courses/x/courseware/", "edx.bi.user.org_email.opted_in", "page_close"]


@st.composite
def input_rows(draw: Draw) -> list[dict[str, Any]]:
    """Rows shaped like `tables.INPUT_FIELDS`, each with its own line number."""
    rows = []
    sha = draw(hexes(64))
    for line in range(1, draw(st.integers(1, 8)) + 1):
        name = draw(st.sampled_from(NAMES + OTHER_NAMES))
        ev = draw(events(name if name in NAMES else "showanswer"))
        data = ev.data
        # The raw table keeps the payload as JSON text; a browser payload (JSON in a string)
        # as its text, a string that is not JSON as a JSON string literal.
        if isinstance(data, str) and data.lstrip()[:1] in ("{", "["):
            event_json: str | None = data
        else:
            event_json = json.dumps(data)
        if draw(st.integers(0, 9)) == 0:
            event_json = draw(st.sampled_from([None, "", '{"truncated', "[1, 2"]))
        context_json: str | None = json.dumps(ev.context)
        if draw(st.integers(0, 9)) == 0:
            context_json = draw(st.sampled_from([None, "", "[]", '{"course_id": ']))
        time_raw: str | None = ev.timestamp
        if draw(st.integers(0, 14)) == 0:
            time_raw = draw(st.sampled_from([None, ""]))
        user_id = ev.context.get("user_id")
        if isinstance(user_id, bool) or not isinstance(user_id, int) or abs(user_id) >= 2**63:
            user_id = None  # Spark's try_cast to BIGINT
        rows.append(
            {
                "file_sha256": sha,
                "line_number": line,
                "name": name if draw(st.integers(0, 19)) else draw(st.sampled_from([None, ""])),
                "event_source": ev.event_source,
                "event_time_raw": time_raw,
                "session": ev.session,
                "page": ev.page,
                "referer": ev.referer,
                "course_id": ev.course_id,
                "org_id": draw(st.none() | orgs),
                "event_json": event_json,
                "context_json": context_json,
                "actor_user_id": draw(st.sampled_from([user_id, None])),
                "actor_username": draw(st.sampled_from([USERNAME, None])),
                "external_user_id": draw(st.none() | st.uuids().map(str)),
                "course_name": ev.course_name,
            }
        )
    return rows


# A browser payload cut inside an emoji: JSON text with a lone surrogate escape, which a
# statement can carry as a thread title, but which is no UTF-8.
CUT_EMOJI_ROW: Final = {
    "file_sha256": "0" * 64,
    "line_number": 1,
    "name": "edx.forum.thread.created",
    "event_source": "server",
    "event_time_raw": "2024-03-01T10:00:00.123456+00:00",
    "session": None,
    "page": None,
    "referer": None,
    "course_id": "course-v1:Org+Num+Run",
    "org_id": "Org",
    "event_json": json.dumps({"id": "65f1c2d3e4f5a6b7c8d9e0f1", "title": "Hi \ud83d"}),
    "context_json": json.dumps({"path": "/api/discussion/v1/threads/", "user_id": 7}),
    "actor_user_id": 7,
    "actor_username": USERNAME,
    "external_user_id": "5b0f3c3e-1f7e-4d7a-9c36-0d6c2a9f4e11",
    "course_name": None,
}


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(rows=input_rows(), mapping=st.booleans())
@example(rows=[CUT_EMOJI_ROW], mapping=False)
@example(rows=[CUT_EMOJI_ROW], mapping=True)
def test_batch_rows_one_per_skip_at_least_one_per_transformed_event(
    rows: list[dict[str, Any]], mapping: bool
) -> None:
    batch_settings = BatchSettings(
        lms_root_url=SETTINGS.lms_root_url,
        transformer_version=SETTINGS.transformer_version,
        salt="" if mapping else "property-test-salt",
        mapping=mapping,
    )
    out = transform_rows(rows, batch_settings).to_pylist()
    by_line: dict[int, list[dict[str, Any]]] = {}
    for row in out:
        by_line.setdefault(row["source_line_number"], []).append(row)
    assert sorted(by_line) == [row["line_number"] for row in rows]
    for source in rows:
        found = by_line[source["line_number"]]
        assert all(r["source_file_sha256"] == source["file_sha256"] for r in found)
        assert all(r["event_name"] == source["name"] for r in found)
        skips = [r for r in found if r["reason"] is not None]
        if skips:
            assert len(found) == 1, found
            assert found[0]["statement"] is None and found[0]["statement_id"] is None
            if source["name"] in NAMES and mapping and source["external_user_id"] is None:
                assert found[0]["reason"] == "user_not_in_mapping"
            continue
        assert source["name"] in NAMES
        for r in found:
            stmt = json.loads(r["statement"], parse_constant=_refuse_constant)
            assert stmt["id"] == r["statement_id"]
            assert stmt["actor"]["account"]["name"] == r["actor_id"]
            assert stmt["verb"]["id"] == r["verb_id"]
            assert stmt["timestamp"] == r["timestamp"]
            assert problems(stmt) == [], problems(stmt)
            if mapping:
                assert r["actor_id"] == source["external_user_id"]
            for secret in SECRETS:
                assert secret not in r["statement"], (source["name"], secret)
        assert len({r["statement_id"] for r in found}) == len(found)


def _refuse_constant(name: str) -> Any:
    raise AssertionError(f"statement JSON has {name}, which is not JSON")
