"""A deterministic generator of realistic tracking logs (pure Python, no Spark).

Benchmarks and demos need tracking logs that look like the LMS's without shipping real learner
data: `generate_tracking_logs` writes one gzip file per day, named like edX.org's
(`{org}-{site}-events-{YYYY-MM-DD}.log.gz`), with a seeded mix of server, browser and mobile
events (video ~40 %, problems ~20 %, navigation ~20 %, page views ~12 %, forum ~5 %, and ~3 %
from the LMS's services: enrollment, completion, grades, special exams, some as event-bus style
`name`/`data` lines), `event` as a dict or as a JSON string the way the LMS writes them, and, at
chosen rates, syslog-prefixed lines and lines that are not JSON. Within each family the frequent
events dominate, and every event with an xAPI transformer (`olx_spark.xapi`) appears at a low
rate with the payload fields its transformer reads, so a day of logs exercises every family.
It returns what it wrote, so a run can be checked against it.

    python -m olx_spark.synth.tracking OUT_DIR --days 4 --events-per-day 250000
"""

from __future__ import annotations

import argparse
import bisect
import gzip
import json
import random
import time
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

LMS = "https://courses.example.org"
AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/122.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_3) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.3 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:123.0) Gecko/20100101 Firefox/123.0",
    "edX/org.edx.mobile (2.26.1; OS Version 17.3 (Build 21D50))",
)
SYSLOG_PREFIX = "{month} {day:>2} {clock} lms-{host} [service_variant=lms][tracking][env:prod] INFO {pid} [tracking] logger.py:41 -"
T = TypeVar("T")
NOT_JSON = ("Traceback (most recent call last):", "-- MARK --", '{"event_type": "cut off', "")


@dataclass(frozen=True)
class TrackingLogSummary:
    files: int
    events: int  # lines that are events (syslog-prefixed ones included)
    prefixed_events: int
    bad_lines: int
    plaintext_bytes: int
    compressed_bytes: int
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class _World:
    org: str
    courses: list[str]
    users: list[tuple[int, str]]


def _world(rng: random.Random, org: str, n_users: int, n_courses: int) -> _World:
    courses = [
        f"course-v1:{org}+{rng.randint(1, 24)}.{i:02d}x+2024_T{1 + i % 3}" for i in range(n_courses)
    ]
    users = [(1000 + i, f"learner_{i:05d}_{rng.choice('abcdefgh')}") for i in range(n_users)]
    return _World(org, courses, users)


def lms_line(
    base: dict[str, Any],
    source: str,
    name: str,
    event: Any,
    page: str | None,
    context: dict[str, Any],
) -> dict[str, Any]:
    """A tracking-log line as the LMS writes it: the common fields, then `name` = `event_type`."""
    return {
        **base,
        "event_source": source,
        "name": name,
        "event_type": name,
        "event": event,
        "page": page,
        "context": context,
    }


def _block(course: str, kind: str, rng: random.Random) -> str:
    return f"block-v1:{course.split(':', 1)[1]}+type@{kind}+block@{rng.getrandbits(64):016x}"


def _mix(*weighted: tuple[str, float]) -> tuple[tuple[str, ...], list[float]]:
    """Names and their cumulative weights (normalised), for `_pick`."""
    total = sum(w for _, w in weighted)
    cumulative, running = [], 0.0
    for _, weight in weighted:
        running += weight / total
        cumulative.append(running)
    cumulative[-1] = 1.0
    return tuple(n for n, _ in weighted), cumulative


def _pick(rng: random.Random, mix: tuple[tuple[str, ...], list[float]]) -> str:
    names, cumulative = mix
    return names[bisect.bisect_left(cumulative, rng.random())]


# Within each family, how often each event is logged (relative weights): the frequent ones the
# generator always had, and the rest (every event with an xAPI transformer) at low rates.
VIDEO_MIX = _mix(
    ("play_video", 30),
    ("pause_video", 25),
    ("load_video", 15),
    ("seek_video", 10),
    ("stop_video", 3),
    ("complete_video", 3),
    ("speed_change_video", 2),
    ("show_transcript", 1.5),
    ("hide_transcript", 1),
    ("edx.video.closed_captions.shown", 0.5),
    ("edx.video.closed_captions.hidden", 0.5),
    ("video_show_cc_menu", 0.5),
    ("video_hide_cc_menu", 0.5),
    # The mobile apps log the event-bus names (`name`), the legacy one as `event_type`.
    ("edx.video.played", 3),
    ("edx.video.paused", 2),
    ("edx.video.loaded", 1),
    ("edx.video.stopped", 0.5),
    ("edx.video.completed", 0.5),
    ("edx.video.position.changed", 0.5),
    ("edx.video.transcript.shown", 0.3),
    ("edx.video.transcript.hidden", 0.2),
)
# name -> the legacy event_type a mobile event carries besides its `name`
MOBILE_VIDEO = {
    "edx.video.played": "play_video",
    "edx.video.paused": "pause_video",
    "edx.video.loaded": "load_video",
    "edx.video.stopped": "stop_video",
    "edx.video.completed": "complete_video",
    "edx.video.position.changed": "seek_video",
    "edx.video.transcript.shown": "show_transcript",
    "edx.video.transcript.hidden": "hide_transcript",
}
PROBLEM_MIX = _mix(
    ("problem_check", 55),
    ("problem_check.browser", 12),
    ("edx.grades.problem.submitted", 15),
    ("edx.problem.completed", 8),
    ("showanswer", 6),
    ("edx.problem.hint.demandhint_displayed", 4),
)
NAVIGATION_MIX = _mix(
    ("edx.ui.lms.sequence.next_selected", 35),
    ("edx.ui.lms.sequence.tab_selected", 25),
    ("edx.ui.lms.sequence.previous_selected", 10),
    ("edx.ui.lms.outline.selected", 12),
    ("edx.ui.lms.sequence.outline.selected", 6),
    ("edx.ui.lms.link_clicked", 12),
)
FORUM_MIX = _mix(
    ("edx.forum.thread.viewed", 35),
    ("edx.forum.thread.created", 15),
    ("edx.forum.response.created", 15),
    ("edx.forum.comment.created", 10),
    ("edx.forum.thread.voted", 6),
    ("edx.forum.response.voted", 6),
    *((f"edx.forum.{post}.edited", 2) for post in ("thread", "response", "comment")),
    *(
        (f"edx.forum.{post}.{action}", 1)
        for post in ("thread", "response", "comment")
        for action in ("deleted", "reported", "unreported")
    ),
)
# Server events of the LMS's services (enrollment, grades, completion, proctoring), several as
# event-bus lines (`name`/`data`/`timestamp`).
SERVICE_MIX = _mix(
    ("edx.course.enrollment.activated", 30),
    ("edx.course.enrollment.deactivated", 8),
    ("edx.course.enrollment.mode_changed", 5),
    ("edx.completion.block_completion.changed", 25),
    ("edx.grades.subsection.grade_calculated", 12),
    ("edx.grades.course.grade_calculated", 8),
    ("edx.course.grade.passed.first_time", 3),
    ("edx.course.grade.now_passed", 1),
    ("edx.course.grade.now_failed", 1),
    *(
        (f"edx.special_exam.{kind}.attempt.{step}", 1)
        for kind in ("timed", "practice", "proctored")
        for step in ("created", "submitted")
    ),
)
# Discussions have a few topics and a pool of threads that learners view, answer and vote on
# (ids that look like the forum's, fixed so the same threads recur and compress like real logs).
TOPICS = tuple(
    f"{(k * 0x9E3779B97F4A7C15 * 0x2545F4914F6CDD1D) % 2**128:032x}" for k in range(1, 9)
)
THREADS = tuple(f"{(k * 0x9E3779B97F4A7C15F39CC061) % 2**96:024x}" for k in range(1, 2049))
LINK_TARGETS = (
    "https://docs.example.org/guide/index.html",
    "https://www.example.org/reading/chapter-3.pdf",
    "https://en.wikipedia.org/wiki/Fourier_transform",
)


def _one(rng: random.Random, items: Sequence[T]) -> T:
    """`rng.choice`, cheaper: one `random()` (this runs several times per generated event)."""
    return items[int(rng.random() * len(items))]


def _int(rng: random.Random, low: int, high: int) -> int:
    """`rng.randint(low, high)`, cheaper likewise."""
    return low + int(rng.random() * (high - low + 1))


def _hex(rng: random.Random, bits: int) -> str:
    return f"{rng.getrandbits(bits):0{bits // 4}x}"


def _video(
    rng: random.Random, course: str, base: dict[str, Any], context: dict[str, Any]
) -> dict[str, Any]:
    name = _pick(rng, VIDEO_MIX)
    video = _hex(rng, 64)
    usage = f"block-v1:{course.split(':', 1)[1]}+type@video+block@{video}"
    position = round(rng.uniform(0, 900), 3)
    payload: dict[str, Any] = {"id": video, "code": "html5", "duration": 900.0}
    if name in ("seek_video", "edx.video.position.changed"):
        payload["old_time"] = position
        payload["new_time"] = round(rng.uniform(0, 900), 3)
        payload["type"] = "onSlideSeek"
    elif name == "speed_change_video":
        payload["current_time"] = position
        payload["old_speed"] = "1.0"
        payload["new_speed"] = _one(rng, ("0.75", "1.25", "1.50", "2.0"))
    elif name not in ("complete_video", "edx.video.completed", "load_video", "edx.video.loaded"):
        payload["currentTime"] = position
    context["module"] = {"display_name": "Lecture video", "usage_key": usage}
    legacy = MOBILE_VIDEO.get(name)
    if legacy is not None:  # from the mobile app: `name` and `event_type` differ, `event` a dict
        payload["code"] = "mobile"
        payload["current_time"] = payload.pop("currentTime", position)
        context["application"] = {"name": "edx.mobileapp.android", "version": "2.26.1"}
        return {
            **base,
            "event_source": "mobile",
            "name": name,
            "event_type": legacy,
            "event": payload,
            "page": None,
            "context": context,
        }
    # From the browser: `event` is a JSON string.
    return lms_line(base, "browser", name, json.dumps(payload), f"{LMS}/xblock/{usage}", context)


def _problem(
    rng: random.Random, course: str, base: dict[str, Any], context: dict[str, Any], user_id: int
) -> dict[str, Any]:
    name = _pick(rng, PROBLEM_MIX)
    block = _hex(rng, 64)
    usage = f"block-v1:{course.split(':', 1)[1]}+type@problem+block@{block}"
    context["module"] = {"display_name": "Checkpoint", "usage_key": usage}
    payload: dict[str, Any]
    if name == "problem_check.browser":
        # The browser's problem_check: `event` is the form's inputs, a query string.
        answer = _one(rng, ("choice_0", "choice_1", "choice_2"))
        return {
            **base,
            "event_source": "browser",
            "name": "problem_check",
            "event_type": "problem_check",
            "event": f"input_{block}_2_1={answer}",
            "page": base["referer"],
            "context": context,
        }
    if name == "problem_check":  # graded, from the server
        correct = rng.random() < 0.6
        answers = {f"{block}_2_1": _one(rng, ("choice_0", "choice_1", "choice_2"))}
        payload = {
            "answers": answers,
            "attempts": _int(rng, 1, 3),
            "correct_map": {
                k: {"correctness": "correct" if correct else "incorrect", "npoints": None}
                for k in answers
            },
            "grade": int(correct),
            "max_grade": 1,
            "problem_id": usage,
            "state": {"done": None, "seed": 1, "student_answers": {}},
            "submission": {
                k: {
                    "question": "Which one?",
                    "answer": v,
                    "correct": correct,
                    "response_type": "multiplechoiceresponse",
                    "input_type": "choicegroup",
                    "variant": "",
                    "group_label": "",
                }
                for k, v in answers.items()
            },
            "success": "correct" if correct else "incorrect",
        }
    elif name in ("edx.grades.problem.submitted", "edx.problem.completed"):
        possible = float(_int(rng, 1, 4))
        payload = {
            "problem_id": usage,
            "course_id": course,
            "user_id": str(user_id),
            "weighted_earned": float(_int(rng, 0, int(possible))),
            "weighted_possible": possible,
            "event_transaction_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "event_transaction_type": "edx.grades.problem.submitted",
        }
    elif name == "showanswer":
        payload = {"problem_id": usage}
    else:  # edx.problem.hint.demandhint_displayed
        payload = {
            "module_id": usage,
            "hint_index": _int(rng, 0, 1),
            "hint_len": 2,
            "hint_text": "Think of the sky on a clear day.",
        }
    return lms_line(base, "server", name, payload, None, context)


def _navigation(
    rng: random.Random, course: str, base: dict[str, Any], context: dict[str, Any]
) -> dict[str, Any]:
    name = _pick(rng, NAVIGATION_MIX)
    courseware = f"{LMS}/courses/{course}/courseware/"
    payload: dict[str, Any]
    if name == "edx.ui.lms.link_clicked":
        target = _one(rng, LINK_TARGETS) if rng.random() < 0.5 else base["referer"]
        payload = {"current_url": base["referer"], "target_url": target}
    elif name.endswith("outline.selected"):
        section = _hex(rng, 32)
        payload = {
            "current_url": courseware,
            "target_name": f"Week {_int(rng, 1, 12)}",
            "target_url": f"{courseware}{section}/",
            "widget_placement": "accordion",
        }
    else:
        tab = _int(rng, 1, 8)
        payload = {
            "current_tab": tab,
            "tab_count": 8,
            "id": _block(course, "sequential", rng),
            "widget_placement": "top",
        }
        if name.endswith("tab_selected"):
            payload["target_tab"] = _int(rng, 1, 8)
    return lms_line(base, "browser", name, json.dumps(payload), courseware, context)


def _forum(
    rng: random.Random, course: str, base: dict[str, Any], context: dict[str, Any]
) -> dict[str, Any]:
    name = _pick(rng, FORUM_MIX)
    _, _, post, action = name.split(".")
    thread_id, topic = _one(rng, THREADS), _one(rng, TOPICS)
    # A new post gets a new id; the others act on an existing thread (or one of its posts).
    post_id = thread_id if post == "thread" and action != "created" else _hex(rng, 96)
    payload: dict[str, Any] = {
        "id": post_id,
        "commentable_id": topic,
        "category_name": "Week 1",
        "user_forums_roles": ["Student"],
        "user_course_roles": [],
        "url": f"{LMS}/courses/{course}/discussion/forum/{topic}/threads/{thread_id}",
    }
    if post == "thread":
        payload["title"] = "Question about the problem set"
        context["path"] = (
            f"/courses/{course}/discussion/{topic}/threads/create"
            if action == "created"
            else f"/api/discussion/v1/threads/{post_id}/"
        )
        if action == "created":
            payload["thread_type"] = _one(rng, ("discussion", "question"))
    else:
        payload["discussion"] = {"id": thread_id}
        context["path"] = (
            "/api/discussion/v1/comments/"
            if action == "created"
            else f"/api/discussion/v1/comments/{post_id}/"
        )
        if post == "comment":
            payload["response"] = {"id": _hex(rng, 96)}
    if action in ("created", "edited"):
        payload["body"] = "I do not understand part (b). " * _int(rng, 1, 6)
        payload["truncated"] = False
        payload["anonymous"] = False
    elif action == "voted":
        payload["vote_value"] = "up" if rng.random() < 0.9 else "down"
        payload["undo_vote"] = False
    elif action == "viewed":
        payload["target_username"] = _one(rng, ("instructor", "ta_1", "learner_00001_a"))
    return lms_line(base, "server", name, payload, None, context)


def _service(
    rng: random.Random,
    world: _World,
    course: str,
    base: dict[str, Any],
    context: dict[str, Any],
    user_id: int,
    stamp: str,
) -> dict[str, Any]:
    name = _pick(rng, SERVICE_MIX)
    payload: dict[str, Any] = {"user_id": user_id, "course_id": course}
    if name.startswith("edx.course.enrollment."):
        payload["mode"] = _one(rng, ("audit", "verified"))
        # event-bus style: name / data / timestamp, no `event` or `time`
        return {
            "name": name,
            "timestamp": stamp,
            "data": payload,
            "context": {"user_id": user_id, "course_id": course, "org_id": world.org},
        }
    transaction = {
        "event_transaction_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "event_transaction_type": "edx.grades.problem.submitted",
    }
    if name == "edx.completion.block_completion.changed":
        kind = _one(rng, ("problem", "video", "html"))
        payload.update(
            context_key=course,
            block_id=_block(course, kind, rng),
            block_type=kind,
            completion=1.0 if rng.random() < 0.8 else round(rng.random(), 2),
        )
    elif name == "edx.grades.subsection.grade_calculated":
        possible = float(_int(rng, 1, 10))
        earned = float(_int(rng, 0, int(possible)))
        payload.update(
            block_id=_block(course, "sequential", rng),
            course_version=_hex(rng, 96),
            weighted_total_earned=earned,
            weighted_total_possible=possible,
            weighted_graded_earned=earned,
            weighted_graded_possible=possible,
            first_attempted=stamp,
            visible_blocks_hash="aW5jb25zZXF1ZW50aWFsX2hhc2g=",
            **transaction,
        )
    elif name == "edx.grades.course.grade_calculated":
        percent = round(rng.random(), 2)
        payload.update(
            course_version=_hex(rng, 96),
            percent_grade=percent,
            letter_grade="Pass" if percent >= 0.5 else "",
            course_edited_timestamp=stamp,
            grading_policy_hash="ChVp0lHGQGCevD0t4njna/C44zQ=",
            **transaction,
        )
    elif name.startswith("edx.course.grade."):
        payload.update(transaction)
    else:  # edx.special_exam.{kind}.attempt.{step}
        kind, step = name.split(".")[2], name.split(".")[4]
        submitted = step == "submitted"
        started = datetime.fromisoformat(stamp) - timedelta(minutes=_int(rng, 5, 90))
        payload = {
            "exam_id": _int(rng, 1, 50),
            "exam_content_id": _block(course, "sequential", rng),
            "exam_name": "Midterm",
            "exam_default_time_limit_mins": 60,
            "exam_is_proctored": kind == "proctored",
            "exam_is_practice_exam": kind == "practice",
            "exam_is_active": True,
            "attempt_id": _int(rng, 1, 10**6),
            "attempt_user_id": user_id,
            "attempt_started_at": started.isoformat() if submitted else None,
            "attempt_completed_at": stamp if submitted else None,
            "attempt_code": str(uuid.UUID(int=rng.getrandbits(128), version=4)).upper(),
            "attempt_allowed_time_limit_mins": 60 if submitted else None,
            "attempt_status": step,
            "attempt_event_elapsed_time_secs": (
                (datetime.fromisoformat(stamp) - started).total_seconds() if submitted else None
            ),
        }
    return lms_line(base, "server", name, payload, None, context)


def _event(rng: random.Random, world: _World, moment: datetime) -> dict[str, Any]:
    user_id, username = _one(rng, world.users)
    course = _one(rng, world.courses)
    stamp = moment.isoformat()
    session = f"{rng.getrandbits(128):032x}"
    host = rng.getrandbits(24)  # one draw for the address (randint is the slow part)
    context: dict[str, Any] = {
        "user_id": user_id,
        "org_id": world.org,
        "course_id": course,
        "path": f"/courses/{course}/courseware",
        "enterprise_uuid": "",
    }
    base = {
        "username": username,
        "session": session,
        "ip": f"10.{host >> 16}.{(host >> 8) & 255}.{(host & 255) % 254 + 1}",
        "agent": _one(rng, AGENTS),
        "host": "courses.example.org",
        "referer": f"{LMS}/courses/{course}/courseware/{rng.getrandbits(32):08x}/",
        "accept_language": "en-US,en;q=0.9",
        "time": stamp,
    }
    roll = rng.random()
    if roll < 0.40:  # video: browser (JSON string payload) or mobile
        return _video(rng, course, base, context)
    if roll < 0.60:  # problems: graded checks, grades, answers and hints
        return _problem(rng, course, base, context, user_id)
    if roll < 0.80:  # navigation, from the browser
        return _navigation(rng, course, base, context)
    if roll < 0.92:  # a page view, from the server
        return {
            **base,
            "event_source": "server",
            "event_type": f"/courses/{course}/courseware/",
            "event": {"GET": {}, "POST": {}},
            "page": None,
            "context": context,
        }
    if roll < 0.97:  # forum (free text)
        return _forum(rng, course, base, context)
    # enrollment, completion, grades, special exams
    return _service(rng, world, course, base, context, user_id, stamp)


def _prefix(rng: random.Random, moment: datetime) -> str:
    return SYSLOG_PREFIX.format(
        month=moment.strftime("%b"),
        day=moment.day,
        clock=moment.strftime("%H:%M:%S"),
        host=rng.randint(1, 9),
        pid=rng.randint(100, 99999),
    )


def generate_tracking_logs(
    out_dir: Path,
    *,
    days: int,
    events_per_day: int,
    seed: int = 0,
    org: str = "MITx",
    site: str = "prod",
    start: date = date(2024, 3, 1),
    users: int = 5000,
    courses: int = 20,
    prefixed_every: int = 500,
    bad_every: int = 5000,
) -> TrackingLogSummary:
    """Write `days` daily logs of `events_per_day` events each (plus bad lines, 1 in
    `bad_every`; 1 event in `prefixed_every` behind a syslog prefix; 0 turns either off)."""
    started = time.monotonic()
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    world = _world(rng, org, users, courses)
    events = prefixed = bad = plain_bytes = packed_bytes = 0
    for offset in range(days):
        day = start + timedelta(days=offset)
        midnight = datetime(day.year, day.month, day.day, tzinfo=UTC)
        step = 86_400 / max(events_per_day, 1)
        lines: list[str] = []
        for i in range(events_per_day):
            moment = midnight + timedelta(seconds=i * step + rng.random() * step)
            line = json.dumps(_event(rng, world, moment))
            if prefixed_every and i % prefixed_every == prefixed_every - 1:
                line = f"{_prefix(rng, moment)} {line}"
                prefixed += 1
            lines.append(line)
            if bad_every and i % bad_every == bad_every - 1:
                lines.append(rng.choice(NOT_JSON))
                bad += 1
        events += events_per_day
        data = ("\n".join(lines) + "\n").encode("utf-8")
        path = out_dir / f"{org}-{site}-events-{day.isoformat()}.log.gz"
        packed = gzip.compress(data, compresslevel=6, mtime=0)
        path.write_bytes(packed)
        plain_bytes += len(data)
        packed_bytes += len(packed)
    return TrackingLogSummary(
        files=days,
        events=events,
        prefixed_events=prefixed,
        bad_lines=bad,
        plaintext_bytes=plain_bytes,
        compressed_bytes=packed_bytes,
        seconds=time.monotonic() - started,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir")
    parser.add_argument("--days", type=int, default=2)
    parser.add_argument("--events-per-day", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    summary = generate_tracking_logs(
        Path(args.out_dir), days=args.days, events_per_day=args.events_per_day, seed=args.seed
    )
    print(json.dumps(summary.to_dict(), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
