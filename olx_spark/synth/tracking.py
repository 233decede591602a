"""A deterministic generator of realistic tracking logs (pure Python, no Spark).

Benchmarks and demos need tracking logs that look like the LMS's without shipping real learner
data: `generate_tracking_logs` writes one gzip file per day, named like edX.org's
(`{org}-{site}-events-{YYYY-MM-DD}.log.gz`), with a seeded mix of server and browser events
(video, problems, navigation, enrollment, forum, event-bus style `name`/`data` lines), `event`
as a dict or as a JSON string the way the LMS writes them, and, at chosen rates, syslog-prefixed
lines and lines that are not JSON. It returns what it wrote, so a run can be checked against it.

    python -m olx_spark.synth.tracking OUT_DIR --days 4 --events-per-day 250000
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import time
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

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


def _block(course: str, kind: str, rng: random.Random) -> str:
    return f"block-v1:{course.split(':', 1)[1]}+type@{kind}+block@{rng.getrandbits(64):016x}"


def _event(rng: random.Random, world: _World, moment: datetime) -> dict[str, Any]:
    user_id, username = rng.choice(world.users)
    course = rng.choice(world.courses)
    stamp = moment.isoformat()
    session = f"{rng.getrandbits(128):032x}"
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
        "ip": f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
        "agent": rng.choice(AGENTS),
        "host": "courses.example.org",
        "referer": f"{LMS}/courses/{course}/courseware/{rng.getrandbits(32):08x}/",
        "accept_language": "en-US,en;q=0.9",
        "time": stamp,
    }
    roll = rng.random()
    if roll < 0.40:  # video, from the browser: `event` is a JSON string
        name = rng.choice(("play_video", "pause_video", "seek_video", "load_video"))
        payload = {
            "id": f"{rng.getrandbits(64):016x}",
            "code": "html5",
            "currentTime": round(rng.uniform(0, 900), 3),
            "duration": 900.0,
        }
        context["module"] = {
            "display_name": "Lecture video",
            "usage_key": _block(course, "video", rng),
        }
        return {
            **base,
            "event_source": "browser",
            "name": name,
            "event_type": name,
            "event": json.dumps(payload),
            "page": f"{LMS}/xblock/{context['module']['usage_key']}",
            "context": context,
        }
    if roll < 0.60:  # a graded problem, from the server
        usage = _block(course, "problem", rng)
        correct = rng.random() < 0.6
        answers = {f"{usage}_2_1": rng.choice(("choice_0", "choice_1", "choice_2"))}
        payload = {
            "answers": answers,
            "attempts": rng.randint(1, 3),
            "correct_map": {
                k: {"correctness": "correct" if correct else "incorrect", "npoints": None}
                for k in answers
            },
            "grade": int(correct),
            "max_grade": 1,
            "problem_id": usage,
            "state": {"done": None, "seed": 1, "student_answers": {}},
            "submission": {
                k: {"question": "Which one?", "answer": v, "correct": correct}
                for k, v in answers.items()
            },
            "success": "correct" if correct else "incorrect",
        }
        context["module"] = {"display_name": "Checkpoint", "usage_key": usage}
        return {
            **base,
            "event_source": "server",
            "name": "problem_check",
            "event_type": "problem_check",
            "event": payload,
            "page": None,
            "context": context,
        }
    if roll < 0.80:  # navigation, from the browser
        name = rng.choice(
            (
                "edx.ui.lms.sequence.next_selected",
                "edx.ui.lms.sequence.tab_selected",
                "edx.ui.lms.outline.selected",
            )
        )
        payload = {
            "current_tab": rng.randint(1, 8),
            "tab_count": 8,
            "id": _block(course, "sequential", rng),
        }
        return {
            **base,
            "event_source": "browser",
            "name": name,
            "event_type": name,
            "event": json.dumps(payload),
            "page": f"{LMS}/courses/{course}/courseware/",
            "context": context,
        }
    if roll < 0.92:  # a page view, from the server
        return {
            **base,
            "event_source": "server",
            "event_type": f"/courses/{course}/courseware/",
            "event": {"GET": {}, "POST": {}},
            "page": None,
            "context": context,
        }
    if roll < 0.97:  # forum post (free text)
        return {
            **base,
            "event_source": "server",
            "name": "edx.forum.thread.created",
            "event_type": "edx.forum.thread.created",
            "event": {
                "title": "Question about the problem set",
                "body": "I do not understand part (b). " * rng.randint(1, 6),
                "id": f"{rng.getrandbits(96):024x}",
                "commentable_id": "course",
                "anonymous": False,
                "user_forums_roles": ["Student"],
            },
            "page": None,
            "context": context,
        }
    # event-bus style: name / data / timestamp, no `event` or `time`
    return {
        "name": "edx.course.enrollment.activated",
        "timestamp": stamp,
        "data": {
            "course_id": course,
            "user_id": user_id,
            "mode": rng.choice(("audit", "verified")),
        },
        "context": {"user_id": user_id, "course_id": course, "org_id": world.org},
    }


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
