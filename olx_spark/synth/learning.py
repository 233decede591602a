"""One coherent world of learning, from a seed: learners, enrollments, and their days.

`World.build` takes the courses (`Courseware`, read from real archives), draws the learners and
their enrollments (`olx_spark.synth.people`), and `World.days` then plays the courses' activity
windows day by day: the enrollment events of the day (activated, upgraded to verified,
unenrolled), and learning sessions, each one learner in one course walking through
subsections in course order (the courseware page, sequence navigation, reading, videos,
problems, discussions: `olx_spark.synth.activity`), with the grade events the LMS logs when a
graded subsection was worked on, the first time a learner passes, and a certificate for a
verified learner who passes. The number of sessions a day follows the target events per course
and day, a weekly rhythm and the course's phase (quiet before the start, busy in its first
weeks), spread over the learners still coming, by engagement.

Everything is drawn from one `random.Random`, in a fixed order, so a seed gives the same lines
and the same final state (`Progress`, `Forum`) every time; the data package is written from that
state after the last day (`olx_spark.synth.research`).
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import accumulate

from olx_spark.synth.activity import Actions, Forum, Progress, course_version
from olx_spark.synth.courseware import Courseware, Section, Subsection, activity_window
from olx_spark.synth.events import Line, Visit, enrollment_line, transaction
from olx_spark.synth.people import (
    Enrollment,
    Learner,
    enroll,
    make_learners,
    staff_member,
    with_join_dates,
)
from olx_spark.synth.tracking import LMS

_WEEKDAY = (1.15, 1.1, 1.05, 1.0, 0.85, 0.8, 0.95)  # Monday first


@dataclass
class World:
    """The courses, learners and enrollments of a generated world, and its state as it plays."""

    seed: int
    courses: list[Courseware]
    learners: list[Learner]
    enrollments: list[Enrollment]
    windows: dict[str, tuple[datetime, datetime]]
    events_per_day: int
    progress: dict[tuple[str, int], Progress] = field(default_factory=dict)
    forums: dict[str, Forum] = field(default_factory=dict)
    event_count: int = 0
    _by_id: dict[int, Learner] = field(default_factory=dict, repr=False)

    @classmethod
    def build(
        cls,
        courses: Sequence[Courseware],
        *,
        learners: int,
        days: int,
        events_per_day: int,
        seed: int = 0,
    ) -> World:
        """Draw the learners and enrollments of a world over `courses` (each course's activity
        covers `days` days; see `activity_window`)."""
        if not courses:
            raise ValueError("a world needs at least one course")
        if learners < 1 or days < 1 or events_per_day < 0:
            raise ValueError("learners and days must be >= 1, events_per_day >= 0")
        rng = random.Random(f"olx-spark-world:{seed}")
        ordered = sorted(courses, key=lambda c: c.course_id)
        windows = {c.course_id: activity_window(c, days) for c in ordered}
        people = make_learners(rng, learners, sorted({c.language for c in ordered}))
        orgs = sorted({c.org for c in ordered})
        people += [staff_member(org, people[-1].user_id + 1 + i) for i, org in enumerate(orgs)]
        enrollments = enroll(rng, people, ordered, windows)
        world = cls(
            seed,
            ordered,
            with_join_dates(rng, people, enrollments),
            enrollments,
            windows,
            events_per_day,
        )
        world.progress = {(e.course_id, e.user_id): Progress(e) for e in enrollments}
        world.forums = {c.course_id: Forum() for c in ordered}
        return world

    @property
    def orgs(self) -> list[str]:
        return sorted({c.org for c in self.courses})

    @property
    def last_day(self) -> date:
        return max(last for _, last in self.windows.values()).date()

    def learner(self, user_id: int) -> Learner:
        if not self._by_id:
            self._by_id.update((learner.user_id, learner) for learner in self.learners)
        return self._by_id[user_id]

    def days(self) -> Iterator[tuple[date, dict[str, list[Line]]]]:
        """Play the world: for each day with activity, its lines by org, in time order."""
        rng = random.Random(f"olx-spark-days:{self.seed}")
        sim = _Day(self, rng)
        calendar = sorted(
            {
                (first + timedelta(days=i)).date()
                for first, last in self.windows.values()
                for i in range((last - first).days)
            }
        )
        pending: dict[date, dict[str, list[Line]]] = defaultdict(lambda: defaultdict(list))
        for day in calendar:
            for course in self.courses:
                first, last = self.windows[course.course_id]
                if first.date() <= day < last.date():
                    for line in sim.course_day(course, day):
                        moment = datetime.fromisoformat(line["time"])
                        pending[moment.date()][course.org].append(line)
            yield from _flush(pending, lambda d, day=day: d <= day)
        yield from _flush(pending, lambda d: True)


def _flush(
    pending: dict[date, dict[str, list[Line]]], ready: Callable[[date], bool]
) -> Iterator[tuple[date, dict[str, list[Line]]]]:
    for day in sorted(d for d in pending if ready(d)):
        by_org = pending.pop(day)
        for lines in by_org.values():
            lines.sort(key=lambda line: line["time"])
        yield day, dict(sorted(by_org.items()))


class _Day:
    """Plays one course's day: enrollment events, then sessions."""

    def __init__(self, world: World, rng: random.Random) -> None:
        self.world, self.rng = world, rng
        self.actions = Actions(rng)
        self.changes: dict[tuple[str, date], list[tuple[datetime, Enrollment, str, str]]] = (
            defaultdict(list)
        )
        for e in world.enrollments:
            self.changes[(e.course_id, e.created.date())].append(
                (e.created, e, "activated", e.mode)
            )
            if e.upgraded_at:
                change = (e.upgraded_at, e, "mode_changed", "verified")
                self.changes[(e.course_id, e.upgraded_at.date())].append(change)
            if e.unenrolled_at:
                change = (e.unenrolled_at, e, "deactivated", e.mode_at(e.unenrolled_at))
                self.changes[(e.course_id, e.unenrolled_at.date())].append(change)
        self.by_course: dict[str, list[Progress]] = defaultdict(list)
        for key, progress in world.progress.items():
            self.by_course[key[0]].append(progress)

    def course_day(self, course: Courseware, day: date) -> list[Line]:
        world = self.world
        lines = [
            enrollment_line(world.learner(e.user_id), course, moment, action, mode)
            for moment, e, action, mode in sorted(
                self.changes.get((course.course_id, day), []), key=lambda c: (c[0], c[1].user_id)
            )
        ]
        midnight = datetime(day.year, day.month, day.day, tzinfo=UTC)
        # Who comes today: enrolled and not dropped out, and more often the more engaged.
        coming = [
            p
            for p in self.by_course[course.course_id]
            if (
                p.enrollment.active_at(midnight + timedelta(hours=23))
                or p.enrollment.active_at(midnight + timedelta(hours=1))
            )
            and self.rng.random() < 0.1 + 0.6 * p.enrollment.engagement
        ]
        target = world.events_per_day * _rhythm(course, midnight)
        # Sessions until the day's target is met, a learner at most 1-3 a day (by engagement).
        produced, sessions = 0, 0
        quota = {id(p): 1 + int(p.enrollment.engagement * 2.5) for p in coming}
        weights = list(accumulate(p.enrollment.engagement for p in coming))
        while coming and produced < target and sessions < 4 * len(coming):
            progress = self.rng.choices(coming, cum_weights=weights)[0]
            sessions += 1
            if quota[id(progress)] == 0:
                continue
            quota[id(progress)] -= 1
            session = self._session(course, progress, midnight)
            produced += len(session)
            lines += session
        world.event_count += len(lines)
        return lines

    def _start(self, progress: Progress, midnight: datetime) -> datetime | None:
        """When a session starts: around the learner's usual hour, while they are enrolled."""
        e, rng = progress.enrollment, self.rng
        hour = min(21.5, max(0.0, self.world.learner(e.user_id).hour + rng.gauss(0, 2)))
        start = midnight + timedelta(hours=hour, seconds=rng.randrange(3600))
        start = max(start, e.created + timedelta(minutes=2))
        if start.date() != midnight.date() or not e.active_at(start):
            return None
        if e.unenrolled_at and start + timedelta(hours=4) > e.unenrolled_at:
            return None
        return start

    def _session(self, course: Courseware, progress: Progress, midnight: datetime) -> list[Line]:
        rng = self.rng
        start = self._start(progress, midnight)
        if start is None:
            return []
        learner = self.world.learner(progress.enrollment.user_id)
        mobile = learner.mobile and rng.random() < 0.5
        visit = Visit(learner, course, f"{rng.getrandbits(128):032x}", mobile)
        subsections = course.subsections
        if not subsections:
            return []
        lines: list[Line] = []
        moment = start
        engagement = progress.enrollment.engagement
        for count in range(1 + (engagement > 0.5) + (engagement > 0.85)):
            if progress.next_subsection < len(subsections) and rng.random() < 0.85:
                index = progress.next_subsection
            else:
                index = rng.randrange(len(subsections))
            section, subsection = subsections[index]
            done, moment = self._subsection(
                visit, progress, section, subsection, moment, lines, outline=count == 0
            )
            if done and index == progress.next_subsection:
                progress.next_subsection += 1
            if rng.random() > 0.25 + 0.45 * engagement:
                break
        return lines

    def _subsection(
        self,
        visit: Visit,
        progress: Progress,
        section: Section,
        subsection: Subsection,
        moment: datetime,
        lines: list[Line],
        *,
        outline: bool,
    ) -> tuple[bool, datetime]:
        rng, actions, course = self.rng, self.actions, visit.course
        page = course.courseware_url(LMS, section, subsection)
        if outline and rng.random() < 0.4:
            lines.append(visit.outline_selected(moment, section, subsection, page))
            moment = actions.later(moment, 1, 4)
        visit = visit.on(page)
        lines.append(visit.page_view(moment, section, subsection))
        position = 1 + section.subsections.index(subsection)
        progress.touch(section.block_id, "chapter", moment, position=position)
        engagement = progress.enrollment.engagement
        checked = False
        done = True
        for number, unit in enumerate(subsection.units, start=1):
            if number > 1:
                moment = actions.later(moment, 3, 20)
                name = "next_selected" if rng.random() < 0.8 else "tab_selected"
                lines.append(visit.sequence(moment, name, subsection, number - 1, number))
            progress.touch(subsection.block_id, "sequential", moment, position=number)
            for component in unit.components:
                kind = component.block_type
                if kind == "video" and rng.random() < 0.45 + 0.45 * engagement:
                    more, moment = actions.watch(visit, progress, component, moment)
                elif kind == "problem" and component.parts:
                    if progress.scores.get(component.block_id, (0, 1))[0] == len(component.parts):
                        continue
                    if rng.random() > (0.9 if subsection.graded else 0.6):
                        continue
                    more, moment = actions.solve(visit, progress, component, moment)
                    checked = checked or subsection.graded
                elif kind == "html":
                    more, moment = actions.read(visit, progress, component, moment)
                elif kind == "discussion" and rng.random() < 0.3:
                    forum = self.world.forums[course.course_id]
                    more, moment = actions.discuss(visit, forum, component.discussion_id, moment)
                else:
                    moment = actions.later(moment, 10, 60)
                    continue
                lines += more
            if rng.random() < 0.12 * (1 - engagement):
                done = False
                break
        if checked:
            moment = actions.later(moment, 1, 5)
            lines += self._grades(visit, progress, subsection, moment)
        return done, actions.later(moment, 5, 60)

    def _grades(
        self, visit: Visit, progress: Progress, subsection: Subsection, moment: datetime
    ) -> list[Line]:
        """The subsection's and the course's grade, recalculated; passing and certificate."""
        rng, course = self.rng, visit.course
        earned, possible = _points(progress, [subsection])
        all_earned, all_possible = _points(progress, [s for _, s in course.subsections if s.graded])
        percent = round(all_earned / all_possible, 2) if all_possible else 0.0
        version = course_version(course)
        lines = [
            visit.service(
                moment,
                "edx.grades.subsection.grade_calculated",
                {
                    "block_id": subsection.block_id,
                    "course_version": version,
                    "weighted_total_earned": float(earned),
                    "weighted_total_possible": float(possible),
                    "weighted_graded_earned": float(earned),
                    "weighted_graded_possible": float(possible),
                    "first_attempted": moment.isoformat(),
                    "visible_blocks_hash": "aW5jb25zZXF1ZW50aWFsX2hhc2g=",
                    **transaction(rng),
                },
            ),
            visit.service(
                moment + timedelta(milliseconds=200),
                "edx.grades.course.grade_calculated",
                {
                    "course_version": version,
                    "percent_grade": percent,
                    "letter_grade": "Pass" if percent >= course.passing_grade else "",
                    "course_edited_timestamp": course.start.isoformat(),
                    "grading_policy_hash": "ChVp0lHGQGCevD0t4njna/C44zQ=",
                    **transaction(rng),
                },
            ),
        ]
        if percent >= course.passing_grade and progress.passed_at is None:
            progress.passed_at = moment
            lines.append(
                visit.service(
                    moment + timedelta(milliseconds=400),
                    "edx.course.grade.passed.first_time",
                    transaction(rng),
                )
            )
        e = progress.enrollment
        if progress.passed_at and not progress.certified_at and e.mode_at(moment) == "verified":
            progress.certified_at = moment + timedelta(seconds=2)
            lines.append(
                visit.service(
                    progress.certified_at,
                    "edx.certificate.created",
                    {
                        "certificate_id": certificate_uuid(self.world.seed, e),
                        "certificate_url": f"{LMS}/certificates/{certificate_uuid(self.world.seed, e)}",
                        "enrollment_mode": "verified",
                        "generation_mode": "self",
                    },
                )
            )
        return lines


def certificate_uuid(seed: int, enrollment: Enrollment) -> str:
    return f"{random.Random(f'cert:{seed}:{enrollment.enrollment_id}').getrandbits(128):032x}"


def _points(progress: Progress, subsections: Sequence[Subsection]) -> tuple[int, int]:
    """(earned, possible) over the problems of `subsections`: unanswered ones earn nothing."""
    earned = possible = 0
    for subsection in subsections:
        for unit in subsection.units:
            for component in unit.components:
                if component.block_type == "problem" and component.parts:
                    possible += len(component.parts)
                    earned += progress.scores.get(component.block_id, (0, 0))[0]
    return earned, possible


def course_grade(course: Courseware, progress: Progress) -> float:
    """The learner's grade in the course: the share of graded points earned."""
    earned, possible = _points(progress, [s for _, s in course.subsections if s.graded])
    return round(earned / possible, 2) if possible else 0.0


def _rhythm(course: Courseware, midnight: datetime) -> float:
    """How busy the course is that day, relative to the average: quiet before the start,
    busiest in its first weeks, and a weekly rhythm."""
    weeks = (midnight - course.start).days / 7
    if weeks < 0:
        phase = 0.35
    elif weeks < 3:
        phase = 1.5
    else:
        phase = max(0.6, 1.5 - 0.15 * (weeks - 3))
    return phase * _WEEKDAY[midnight.weekday()]
