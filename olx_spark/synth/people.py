"""The learners of a generated world and their enrollments (pure Python, deterministic).

A world's learners are drawn once, from the seed: ids, usernames, names, the profile fields the
LMS stores and the marts decode (gender, year of birth, level of education, country: where the
course's language is spoken more often), how they reach the LMS (browser or the mobile app),
and how good they are at the problems. Each learner enrolls in one or more of the courses,
within the course's activity window, and each enrollment says how engaged the learner will be
(from never showing up to finishing the course), whether and when they upgrade to verified,
and whether and when they unenroll. The tracking logs and the data package are both written
from these records, so they agree.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from olx_spark.synth.courseware import Courseware


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_FIRST = _words(
    "Ana María Lucía Sofía Carlos Javier Diego Pablo Emma Lena Jonas Felix Lukas Marie Paul "
    "John Mary James Linda Michael Sarah David Laura Wei Fang Li Na Priya Arjun Ravi Ananya "
    "Fatima Omar Amina Yusuf Chen Hiroshi Yuki Olga Ivan Chidi Ngozi Kwame Ama Lucas "
    "Beatriz"
)
_LAST = _words(
    "García Martínez López Müller Schmidt Schneider Fischer Smith Johnson Brown Williams "
    "Wang Zhang Liu Patel Sharma Singh Khan Ahmed Hassan Okafor Mensah Silva Santos Tanaka "
    "Sato Ivanova Petrov Dubois Martin Rossi Kowalski Nguyen Kim Park"
)
_GENDERS = (("m", 52), ("f", 40), ("o", 2), ("", 6))
_EDUCATION = (
    ("b", 30),
    ("m", 25),
    ("hs", 15),
    ("p", 6),
    ("a", 6),
    ("jhs", 3),
    ("el", 1),
    ("other", 4),
    ("none", 2),
    ("", 8),
)
_COUNTRIES = {
    "en": (("US", 30), ("IN", 18), ("GB", 7), ("NG", 5), ("CA", 5), ("BR", 4), ("CN", 4)),
    "es": (("ES", 20), ("MX", 20), ("CO", 14), ("AR", 10), ("PE", 6), ("US", 10), ("CL", 5)),
    "de": (("DE", 45), ("AT", 12), ("CH", 10), ("US", 8), ("IN", 6), ("PL", 4)),
    "fr": (("FR", 40), ("CA", 12), ("BE", 8), ("SN", 6), ("MA", 6)),
    "ru": (("RU", 40), ("UA", 10), ("KZ", 8), ("US", 5)),
    "zh": (("CN", 50), ("TW", 10), ("SG", 6), ("US", 8)),
}
_OTHER_COUNTRIES = (("EG", 3), ("PK", 3), ("ID", 3), ("KE", 2), ("GH", 2), ("AU", 2), ("", 5))
MOBILE_AGENT = "edX/org.edx.mobile (2.26.1; OS Version 17.3 (Build 21D50))"
BROWSER_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/122.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_3) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.3 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:123.0) Gecko/20100101 Firefox/123.0",
)
FIRST_USER_ID = 100_001


def _weighted(rng: random.Random, pairs: Sequence[tuple[str, int]]) -> str:
    return rng.choices([v for v, _ in pairs], [w for _, w in pairs])[0]


@dataclass(frozen=True)
class Learner:
    """A learner (or, with `is_staff`, a member of edX staff) and their LMS profile."""

    user_id: int
    username: str
    name: str
    email: str
    gender: str  # m, f, o, or "" (not given)
    year_of_birth: int | None
    education: str  # the LMS's level_of_education code, or ""
    country: str  # ISO code, or ""
    language: str
    joined: datetime
    is_staff: bool
    agent: str  # the browser they use
    mobile: bool  # also uses the mobile app
    ip: str
    skill: float  # chance a first answer is right
    hour: int  # the hour of day (UTC) they usually study

    @property
    def first_name(self) -> str:
        return self.name.split(" ", 1)[0]

    @property
    def last_name(self) -> str:
        return self.name.split(" ", 1)[-1]


@dataclass(frozen=True)
class Enrollment:
    """One learner in one course run: when and how they enrolled, and what they will do."""

    enrollment_id: int
    user_id: int
    course_id: str
    created: datetime
    mode: str  # the mode they enrolled in
    upgraded_at: datetime | None  # to verified
    unenrolled_at: datetime | None
    engagement: float  # 0 never shows up .. 1 finishes the course
    active_until: datetime  # no session after this (dropping out)

    def mode_at(self, moment: datetime) -> str:
        return "verified" if self.upgraded_at and self.upgraded_at <= moment else self.mode

    def final_mode(self) -> str:
        return "verified" if self.upgraded_at else self.mode

    def active_at(self, moment: datetime) -> bool:
        """Enrolled, and still coming to the course, at `moment`."""
        if moment < self.created or moment > self.active_until or self.engagement <= 0:
            return False
        return self.unenrolled_at is None or moment < self.unenrolled_at


def make_learners(rng: random.Random, count: int, languages: Sequence[str]) -> list[Learner]:
    """`count` learners; each one's country follows one of `languages` (the courses')."""
    learners = []
    for index in range(count):
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        username = f"{_ascii(first).lower()}_{_ascii(last).lower()[:6]}{index + 1}"
        language = rng.choice(list(languages)) if languages else "en"
        countries = _COUNTRIES.get(language, _COUNTRIES["en"]) + _OTHER_COUNTRIES
        year = int(rng.triangular(1950, 2008, 1994)) if rng.random() < 0.92 else None
        host = rng.getrandbits(24)
        learners.append(
            Learner(
                user_id=FIRST_USER_ID + index,
                username=username,
                name=f"{first} {last}",
                email=f"{username}@example.org",
                gender=_weighted(rng, _GENDERS),
                year_of_birth=year,
                education=_weighted(rng, _EDUCATION),
                country=_weighted(rng, countries),
                language=language,
                joined=datetime(2012, 1, 1, tzinfo=UTC),  # see with_join_dates
                is_staff=False,
                agent=rng.choice(BROWSER_AGENTS),
                mobile=rng.random() < 0.2,
                ip=f"10.{host >> 16}.{(host >> 8) & 255}.{(host & 255) % 254 + 1}",
                skill=rng.uniform(0.35, 0.95),
                hour=int(rng.triangular(0, 23, 15)),
            )
        )
    return learners


def staff_member(org: str, user_id: int) -> Learner:
    """One edX staff account per org: enrolled in its courses, checks them like a learner."""
    username = f"{_ascii(org).lower()}_staff"
    return Learner(
        user_id=user_id,
        username=username,
        name=f"{org} Course Team",
        email=f"{username}@example.org",
        gender="",
        year_of_birth=None,
        education="",
        country="",
        language="en",
        joined=datetime(2012, 1, 1, tzinfo=UTC),
        is_staff=True,
        agent=BROWSER_AGENTS[0],
        mobile=False,
        ip="10.0.0.2",
        skill=0.95,
        hour=9,
    )


def _ascii(text: str) -> str:
    table = str.maketrans("áéíóúñüöäßç", "aeiounuoasc")
    return "".join(c for c in text.lower().translate(table) if c.isascii() and c.isalnum())


def enroll(
    rng: random.Random,
    learners: Sequence[Learner],
    courses: Sequence[Courseware],
    windows: dict[str, tuple[datetime, datetime]],
) -> list[Enrollment]:
    """Each learner enrolls in one course (most), two or three; staff in all of their org's.
    Enrollment times crowd around the course's start and thin out after it."""
    enrollments: list[Enrollment] = []
    for learner in learners:
        if learner.is_staff:
            picked = [c for c in courses if _ascii(c.org) == learner.username[: -len("_staff")]]
        else:
            wanted = 1 if rng.random() < 0.72 else (2 if rng.random() < 0.8 else 3)
            same = [c for c in courses if c.language == learner.language]
            first = rng.choice(same or list(courses))
            others = [c for c in courses if c is not first]
            picked = [first, *rng.sample(others, min(len(others), wanted - 1))]
        for course in picked:
            enrollments.append(_enrollment(rng, learner, course, windows[course.course_id]))
    enrollments.sort(key=lambda e: (e.created, e.user_id, e.course_id))
    return [replace(e, enrollment_id=i + 1) for i, e in enumerate(enrollments)]


def with_join_dates(
    rng: random.Random, learners: Sequence[Learner], enrollments: Sequence[Enrollment]
) -> list[Learner]:
    """The learners, each having joined the LMS some time before their first enrollment."""
    first: dict[int, datetime] = {}
    for e in enrollments:
        first[e.user_id] = min(first.get(e.user_id, e.created), e.created)
    joined = []
    for learner in learners:
        since = first.get(learner.user_id)
        if since is None:
            joined.append(learner)
            continue
        before = timedelta(days=rng.choice((0, 0, 0, 1, 30, 200, 700)), minutes=rng.randrange(600))
        joined.append(replace(learner, joined=since - before - timedelta(minutes=5)))
    return joined


def _enrollment(
    rng: random.Random, learner: Learner, course: Courseware, window: tuple[datetime, datetime]
) -> Enrollment:
    first, last = window
    span = (last - first).total_seconds()
    if learner.is_staff:
        created = first + timedelta(hours=10)
        return Enrollment(
            0, learner.user_id, course.course_id, created, "honor", None, None, 0.5, last
        )
    # Most enroll before the start and in its first weeks: a skewed draw over the window.
    created = first + timedelta(seconds=span * 0.75 * rng.betavariate(1.3, 3.2))
    created = created.replace(hour=learner.hour, minute=rng.randrange(60), second=rng.randrange(60))
    created = max(first, min(created, last - timedelta(hours=1)))
    roll = rng.random()
    if roll < 0.25:
        engagement = 0.0  # registered, never came back
    elif roll < 0.62:
        engagement = rng.uniform(0.05, 0.3)
    elif roll < 0.9:
        engagement = rng.uniform(0.3, 0.7)
    else:
        engagement = rng.uniform(0.7, 1.0)
    active_until = created + timedelta(seconds=span * 1.3 * engagement**2)
    mode = "verified" if rng.random() < 0.06 else "audit"
    upgraded = None
    if mode == "audit" and engagement > 0.45 and rng.random() < 0.3:
        upgraded = created + timedelta(days=rng.uniform(2, 25), minutes=rng.randrange(600))
        if upgraded >= min(active_until, last):
            upgraded = None
    unenrolled = None
    if rng.random() < 0.09:
        unenrolled = created + timedelta(seconds=max(3600.0, span * rng.uniform(0.01, 0.4)))
        if unenrolled >= last:
            unenrolled = None
        elif upgraded and upgraded >= unenrolled:
            upgraded = None
    return Enrollment(
        0,
        learner.user_id,
        course.course_id,
        created,
        mode,
        upgraded,
        unenrolled,
        engagement,
        active_until,
    )
