"""What one learner does at one block, and what it leaves behind.

The learning simulation walks a learner through units; at each component this module decides
what happens and returns the tracking log lines for it, updating the learner's `Progress` (the
rows `courseware_studentmodule` will hold: a video's saved position, a problem's attempts,
answers and score) and the course's `Forum` (the documents of the forum dump). Videos are
watched as the video player logs it (load, play, pause or seek, play again, stop at the end),
so the marts' viewings rebuild from the lines; problems are answered part by part, right with
the learner's skill, retried within the problem's attempts; discussions get threads, responses
and comments whose ids the forum dump holds.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from olx_spark.synth.courseware import Answer, Component, Courseware, Part
from olx_spark.synth.events import Line, Visit, transaction
from olx_spark.synth.people import Enrollment
from olx_spark.synth.tracking import LMS

_TITLES = (
    "Question about the problem set",
    "Stuck on part (b)",
    "Where can I find the slides?",
    "Is the deadline extended?",
    "Great lecture, one question",
    "Study group for this week",
)
_BODIES = (
    "I do not understand how the second step follows from the first.",
    "Could someone explain the answer to the last question?",
    "The video says one thing and the notes another. Which is right?",
    "Thanks, that helped a lot!",
    "I had the same problem; re-reading the unit helped.",
    "Try drawing it first, then write the equation.",
)


@dataclass
class Module:
    """A `courseware_studentmodule` row in the making."""

    block_type: str
    created: datetime
    modified: datetime
    state: dict[str, Any]
    grade: float | None = None
    max_grade: float | None = None


@dataclass
class Progress:
    """One enrollment's learning so far."""

    enrollment: Enrollment
    next_subsection: int = 0
    modules: dict[str, Module] = field(default_factory=dict)
    scores: dict[str, tuple[int, int]] = field(default_factory=dict)  # problem -> (earned, max)
    completed: set[str] = field(default_factory=set)
    passed_at: datetime | None = None
    certified_at: datetime | None = None

    def touch(self, block: str, block_type: str, moment: datetime, **state: Any) -> Module:
        module = self.modules.get(block)
        if module is None:
            module = self.modules[block] = Module(block_type, moment, moment, {})
        module.modified = max(module.modified, moment)
        module.state.update(state)
        return module


@dataclass
class Thread:
    thread_id: str
    topic: str
    author: str
    title: str
    document: dict[str, Any]
    responses: list[str] = field(default_factory=list)


@dataclass
class Forum:
    """One course's discussions: threads by topic, and every document for the dump."""

    threads: dict[str, list[Thread]] = field(default_factory=dict)
    documents: list[dict[str, Any]] = field(default_factory=list)


def oid(rng: random.Random) -> str:
    return f"{rng.getrandbits(96):024x}"


def _date(moment: datetime) -> dict[str, int]:
    return {"$date": int(moment.timestamp() * 1000)}


def course_version(course: Courseware) -> str:
    return hashlib.sha1(course.course_id.encode("utf-8")).hexdigest()[:24]


class Actions:
    """The per-block behaviour, sharing the simulation's random generator."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def later(self, moment: datetime, low: float, high: float) -> datetime:
        return moment + timedelta(seconds=self.rng.uniform(low, high))

    # --- video ---------------------------------------------------------------------------

    def watch(
        self, visit: Visit, progress: Progress, video: Component, moment: datetime
    ) -> tuple[list[Line], datetime]:
        """Load, play from the saved position, pause / seek / resume, stop at the end."""
        rng, duration = self.rng, video.duration
        engagement = progress.enrollment.engagement
        saved = progress.modules.get(video.block_id)
        position = float(saved.state.get("_position", 0.0)) if saved else 0.0
        if position >= duration - 5:
            position = 0.0
        lines: list[Line] = []
        if not visit.mobile:
            lines.append(visit.video(moment, "load", video))
        moment = self.later(moment, 1, 6)
        lines.append(visit.video(moment, "play", video, currentTime=position, duration=duration))
        for _ in range(rng.randint(1, 4)):
            watched = min(duration - position, rng.expovariate(1 / (duration * engagement + 30)))
            watched = max(watched, 3.0)
            moment += timedelta(seconds=watched)
            position = min(duration, position + watched)
            if position >= duration - 0.5:
                lines.append(visit.video(moment, "stop", video, currentTime=duration))
                if video.block_id not in progress.completed:
                    lines.append(visit.video(moment, "complete", video, duration=duration))
                    lines.append(self._completion(visit, moment, video, progress))
                position = duration
                break
            if rng.random() < 0.3:  # jumps ahead or back, and the player plays on from there
                target = round(rng.uniform(0, duration - 1), 1)
                lines.append(
                    visit.video(moment, "seek", video, old_time=round(position, 1), new_time=target)
                )
                position = target
                moment = self.later(moment, 0.5, 2)
                lines.append(
                    visit.video(moment, "play", video, currentTime=position, duration=duration)
                )
                continue
            lines.append(
                visit.video(
                    moment, "pause", video, currentTime=round(position, 1), duration=duration
                )
            )
            if rng.random() < 0.08 and not visit.mobile:
                lines.append(visit.transcript(self.later(moment, 1, 5), video, True, position))
            if rng.random() < 0.5:
                break
            moment = self.later(moment, 5, 90)
            lines.append(
                visit.video(
                    moment, "play", video, currentTime=round(position, 1), duration=duration
                )
            )
        clock = (
            f"{int(position) // 3600:02d}:{int(position) // 60 % 60:02d}:{int(position) % 60:02d}"
        )
        progress.touch(
            video.block_id,
            "video",
            moment,
            saved_video_position=clock,
            speed="1.0",
            _position=position,
        )
        return lines, moment

    # --- problems ------------------------------------------------------------------------

    def _answer(self, part: Part, right: bool) -> Answer:
        return part.correct if right or not part.wrong else self.rng.choice(part.wrong)

    def solve(
        self, visit: Visit, progress: Progress, problem: Component, moment: datetime
    ) -> tuple[list[Line], datetime]:
        """Check the problem until right, out of attempts, or giving up."""
        rng, lines = self.rng, []
        module = progress.modules.get(problem.block_id)
        attempts = int(module.state.get("attempts", 0)) if module else 0
        limit = problem.max_attempts or 3
        if attempts >= limit:  # nothing left to submit: a look at it, no more
            return [], self.later(moment, 5, 30)
        possible = len(problem.parts)
        skill = visit.learner.skill
        earned = 0
        while attempts < limit:
            attempts += 1
            moment = self.later(moment, 20, 240)
            chance = min(0.97, skill + 0.15 * (attempts - 1))
            picks = {p.answer_id: self._answer(p, rng.random() < chance) for p in problem.parts}
            correct = {p.answer_id: picks[p.answer_id] == p.correct for p in problem.parts}
            earned = sum(correct.values())
            answers = {key: value for key, (value, _) in picks.items()}
            if not visit.mobile:
                lines.append(visit.problem_check_browser(moment, problem, answers))
            lines.append(
                visit.problem_check(
                    moment + timedelta(milliseconds=rng.randint(80, 600)),
                    problem,
                    self._check_payload(problem, picks, correct, attempts, earned),
                )
            )
            moment += timedelta(seconds=1)
            lines.append(
                visit.problem_event(
                    moment,
                    "edx.grades.problem.submitted",
                    problem,
                    {
                        "problem_id": problem.block_id,
                        "course_id": visit.course.course_id,
                        "user_id": str(visit.learner.user_id),
                        "weighted_earned": float(earned),
                        "weighted_possible": float(possible),
                        **transaction(rng),
                    },
                )
            )
            progress.touch(
                problem.block_id,
                "problem",
                moment,
                attempts=attempts,
                done=True,
                correct_map={k: {"correctness": _word(ok)} for k, ok in correct.items()},
                student_answers=answers,
                last_submission_time=moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
                score={"raw_earned": earned, "raw_possible": possible},
            )
            if earned == possible or rng.random() > 0.6:
                break
            if rng.random() < 0.15:
                moment = self.later(moment, 5, 40)
                lines.append(
                    visit.problem_event(
                        moment,
                        "edx.problem.hint.demandhint_displayed",
                        problem,
                        {
                            "module_id": problem.block_id,
                            "hint_index": 0,
                            "hint_len": 1,
                            "hint_text": "Read the question again, slowly.",
                        },
                    )
                )
        module = progress.modules[problem.block_id]
        module.grade, module.max_grade = float(earned), float(possible)
        progress.scores[problem.block_id] = (earned, possible)
        if earned < possible and attempts >= limit and rng.random() < 0.4:
            moment = self.later(moment, 3, 30)
            lines.append(
                visit.problem_event(moment, "showanswer", problem, {"problem_id": problem.block_id})
            )
        if problem.block_id not in progress.completed:
            lines.append(self._completion(visit, moment, problem, progress))
        return lines, moment

    def _check_payload(
        self,
        problem: Component,
        picks: dict[str, Answer],
        correct: dict[str, bool],
        attempts: int,
        earned: int,
    ) -> Line:
        parts = {part.answer_id: part for part in problem.parts}
        return {
            "answers": {key: value for key, (value, _) in picks.items()},
            "attempts": attempts,
            "correct_map": {
                key: {
                    "correctness": _word(ok),
                    "npoints": None,
                    "msg": "",
                    "hint": "",
                    "hintmode": None,
                    "queuestate": None,
                }
                for key, ok in correct.items()
            },
            "grade": earned,
            "max_grade": len(problem.parts),
            "problem_id": problem.block_id,
            "state": {"done": None, "seed": 1, "student_answers": {}},
            "submission": {
                key: {
                    "question": parts[key].question,
                    "answer": text,
                    "correct": correct[key],
                    "response_type": parts[key].response_type,
                    "input_type": parts[key].input_type,
                    "variant": "",
                    "group_label": "",
                }
                for key, (_, text) in picks.items()
            },
            "success": "correct" if earned == len(problem.parts) else "incorrect",
        }

    def _completion(
        self, visit: Visit, moment: datetime, block: Component, progress: Progress
    ) -> Line:
        progress.completed.add(block.block_id)
        return visit.service(
            moment,
            "edx.completion.block_completion.changed",
            {
                "context_key": visit.course.course_id,
                "block_id": block.block_id,
                "block_type": block.block_type,
                "completion": 1.0,
            },
        )

    def read(
        self, visit: Visit, progress: Progress, block: Component, moment: datetime
    ) -> tuple[list[Line], datetime]:
        """Reading an html block: time, and its completion the first time."""
        moment = self.later(moment, 15, 150)
        if block.block_id in progress.completed:
            return [], moment
        return [self._completion(visit, moment, block, progress)], moment

    # --- discussions ---------------------------------------------------------------------

    def discuss(
        self, visit: Visit, forum: Forum, topic: str, moment: datetime
    ) -> tuple[list[Line], datetime]:
        """View a thread of the topic, start one, answer one, comment on an answer, or vote."""
        rng, course = self.rng, visit.course
        threads = forum.threads.setdefault(topic, [])
        moment = self.later(moment, 10, 200)
        roll = rng.random()
        common = {
            "commentable_id": topic,
            "category_name": topic[:8],
            "user_forums_roles": ["Student"],
            "user_course_roles": [],
        }
        base = f"/courses/{course.course_id}/discussion"
        if not threads or roll < 0.2:
            thread = Thread(oid(rng), topic, visit.learner.username, rng.choice(_TITLES), {})
            body = rng.choice(_BODIES)
            kind = "question" if rng.random() < 0.4 else "discussion"
            thread.document = self._document(
                visit,
                "CommentThread",
                thread.thread_id,
                moment,
                body,
                title=thread.title,
                thread_type=kind,
                commentable_id=topic,
                comment_count=0,
            )
            threads.append(thread)
            forum.documents.append(thread.document)
            payload = {
                **common,
                "id": thread.thread_id,
                "title": thread.title,
                "thread_type": kind,
                "body": body,
                "truncated": False,
                "anonymous": False,
                "url": f"{LMS}{base}/forum/{topic}/threads/{thread.thread_id}",
            }
            line = visit.forum(
                moment, "edx.forum.thread.created", payload, f"{base}/{topic}/threads/create"
            )
            return [line], moment
        thread = rng.choice(threads)
        url = f"{LMS}{base}/forum/{topic}/threads/{thread.thread_id}"
        if roll < 0.55:
            payload = {
                **common,
                "id": thread.thread_id,
                "title": thread.title,
                "url": url,
                "target_username": thread.author,
            }
            path = f"/api/discussion/v1/threads/{thread.thread_id}/"
            return [visit.forum(moment, "edx.forum.thread.viewed", payload, path)], moment
        if roll < 0.8 or not thread.responses:
            response = oid(rng)
            body = rng.choice(_BODIES)
            forum.documents.append(
                self._document(
                    visit,
                    "Comment",
                    response,
                    moment,
                    body,
                    depth=0,
                    comment_thread_id={"$oid": thread.thread_id},
                )
            )
            thread.responses.append(response)
            thread.document["comment_count"] = thread.document.get("comment_count", 0) + 1
            payload = {
                **common,
                "id": response,
                "discussion": {"id": thread.thread_id},
                "body": body,
                "truncated": False,
                "anonymous": False,
                "url": url,
            }
            path = f"{base}/threads/{thread.thread_id}/reply"
            return [visit.forum(moment, "edx.forum.response.created", payload, path)], moment
        if roll < 0.92:
            parent = rng.choice(thread.responses)
            comment = oid(rng)
            body = rng.choice(_BODIES)
            forum.documents.append(
                self._document(
                    visit,
                    "Comment",
                    comment,
                    moment,
                    body,
                    depth=1,
                    comment_thread_id={"$oid": thread.thread_id},
                    parent_id={"$oid": parent},
                    parent_ids=[{"$oid": parent}],
                )
            )
            thread.document["comment_count"] = thread.document.get("comment_count", 0) + 1
            payload = {
                **common,
                "id": comment,
                "discussion": {"id": thread.thread_id},
                "response": {"id": parent},
                "body": body,
                "truncated": False,
                "anonymous": False,
                "url": url,
            }
            path = f"{base}/comments/{parent}/reply"
            return [visit.forum(moment, "edx.forum.comment.created", payload, path)], moment
        votes = thread.document.setdefault("votes", {"up_count": 0, "down_count": 0})
        votes["up_count"] = votes.get("up_count", 0) + 1
        payload = {
            **common,
            "id": thread.thread_id,
            "vote_value": "up",
            "undo_vote": False,
            "url": url,
        }
        path = f"/api/discussion/v1/threads/{thread.thread_id}/"
        return [visit.forum(moment, "edx.forum.thread.voted", payload, path)], moment

    def _document(
        self,
        visit: Visit,
        kind: str,
        document_id: str,
        moment: datetime,
        body: str,
        **fields: Any,
    ) -> dict[str, Any]:
        """A forum document as the dump writes it (MongoDB extended JSON)."""
        return {
            "_id": {"$oid": document_id},
            "_type": kind,
            "course_id": visit.course.course_id,
            "author_id": str(visit.learner.user_id),
            "author_username": visit.learner.username,
            "body": body,
            "anonymous": False,
            "anonymous_to_peers": False,
            "visible": True,
            "abuse_flaggers": [],
            "created_at": _date(moment),
            "updated_at": _date(moment),
            **fields,
        }


def _word(ok: bool) -> str:
    return "correct" if ok else "incorrect"
