"""A course archive as simulated learners see it: its outline, videos, problems and forums.

The learning simulation (`olx_spark.synth.learning`) needs the real block ids of a course so
that the tracking logs and data packages it writes name blocks the course archive holds. This
module reads an archive with the same parser the ingest uses (`parse_course_archive`) and keeps
the published tree in course order: sections (chapters) > subsections (sequentials) > units
(verticals) > components, with what learners act on: a video's duration, a problem's parts (the
question, the correct answer and some wrong ones, per CAPA response type), a discussion's topic
id. It also gives the course's dates, passing grade and the `course_structure` JSON blocks that
a research data package carries for it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from lxml import etree

from olx_spark.olx.parse import parse_course_archive
from olx_spark.olx.xml_safety import XmlProblem, parse_xml

# A value as the problem's `answers` map holds it, and as the submission shows it.
Answer = tuple[str | list[str], str | list[str]]

_INPUT_TYPES = {
    "multiplechoiceresponse": "choicegroup",
    "choiceresponse": "checkboxgroup",
    "numericalresponse": "formulaequationinput",
    "stringresponse": "textline",
    "optionresponse": "optioninput",
    "formularesponse": "formulaequationinput",
    "customresponse": "textline",
}
_WRONG_WORDS = ("maybe", "none of these", "42", "I am not sure", "the second one")
_OPTIONS = re.compile(r"'([^']*)'")


class CoursewareError(ValueError):
    """An archive the simulation cannot use (rejected by the parser, or without a course)."""


@dataclass(frozen=True)
class Part:
    """One response (question) of a problem: its answer id, kind, text and answers."""

    answer_id: str  # `{problem url_name}_{2 + index}_1`, as the LMS numbers inputs
    response_type: str
    input_type: str
    question: str
    correct: Answer
    wrong: tuple[Answer, ...]


@dataclass(frozen=True)
class Component:
    """A leaf block of a unit."""

    block_id: str
    block_type: str
    url_name: str
    title: str
    parts: tuple[Part, ...] = ()  # problems
    max_attempts: int | None = None  # problems; None: unlimited
    duration: float = 0.0  # videos, seconds
    discussion_id: str = ""  # discussions: the forum topic (commentable id)


@dataclass(frozen=True)
class Unit:
    block_id: str
    url_name: str
    title: str
    components: tuple[Component, ...]


@dataclass(frozen=True)
class Subsection:
    block_id: str
    url_name: str
    title: str
    graded: bool
    format: str
    units: tuple[Unit, ...]


@dataclass(frozen=True)
class Section:
    block_id: str
    url_name: str
    title: str
    subsections: tuple[Subsection, ...]


@dataclass(frozen=True)
class Courseware:
    """One course run's published tree and what the simulation needs around it."""

    course_id: str
    org: str
    number: str
    run: str
    title: str
    start: datetime
    end: datetime | None
    enrollment_start: datetime | None
    passing_grade: float
    language: str
    sections: tuple[Section, ...]
    structure: dict[str, dict[str, Any]] = field(repr=False)  # course_structure JSON blocks

    @property
    def key(self) -> str:
        """`{org}+{number}+{run}`, as usage keys spell the course."""
        return f"{self.org}+{self.number}+{self.run}"

    @property
    def file_prefix(self) -> str:
        """`{org}-{number}-{run}`, as data package members name the course."""
        return f"{self.org}-{self.number}-{self.run}"

    @property
    def subsections(self) -> tuple[tuple[Section, Subsection], ...]:
        return tuple((s, sub) for s in self.sections for sub in s.subsections)

    def components(self, block_type: str | None = None) -> list[Component]:
        return [
            c
            for _, sub in self.subsections
            for unit in sub.units
            for c in unit.components
            if block_type is None or c.block_type == block_type
        ]

    @property
    def block_ids(self) -> frozenset[str]:
        return frozenset(self.structure)

    def courseware_url(self, lms: str, section: Section, subsection: Subsection) -> str:
        return (
            f"{lms}/courses/{self.course_id}/courseware/{section.url_name}/{subsection.url_name}/"
        )


def load_courseware(path: Path) -> Courseware:
    """Read the course archive at `path` (as the ingest does) into its `Courseware`."""
    with path.open("rb") as handle:
        parsed = parse_course_archive(handle, path.name)
    if parsed.rejection is not None or not parsed.course_id:
        reason = parsed.rejection.message if parsed.rejection else "no course found"
        raise CoursewareError(f"{path}: {reason}")
    blocks = [
        row for row in parsed.rows.get("blocks", []) if not row["is_draft"] and not row["is_orphan"]
    ]
    children: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in blocks:
        if row["parent_block_id"]:
            children[row["parent_block_id"]].append(row)
    for siblings in children.values():
        siblings.sort(key=lambda r: r["position"] if r["position"] is not None else 0)
    roots = [row for row in blocks if row["block_type"] == "course"]
    if not roots:
        raise CoursewareError(f"{path}: the archive has no published course block")
    course = roots[0]
    settings = course["settings"] or {}
    start = _when(settings.get("start")) or datetime(2024, 1, 1, tzinfo=UTC)
    return Courseware(
        course_id=str(parsed.course_id),
        org=str(parsed.org),
        number=str(parsed.course),
        run=str(parsed.run),
        title=str(settings.get("display_name") or course["block_title"] or parsed.course),
        start=start,
        end=_when(settings.get("end")),
        enrollment_start=_when(settings.get("enrollment_start")),
        passing_grade=_passing_grade(parsed.rows.get("policies", [])),
        language=str(settings.get("language") or "en"),
        sections=tuple(_section(row, children) for row in children[course["block_id"]]),
        structure=_structure(blocks, children),
    )


def _when(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(str(value).strip('"').replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _passing_grade(policies: list[dict[str, Any]]) -> float:
    """The lowest grade cutoff of the grading policy (what the marts call passing); 0.5 if none."""
    for row in policies:
        if row["setting"] is None and row["policy_key"] == "GRADE_CUTOFFS":
            try:
                cutoffs = json.loads(row["value_json"])
                return float(min(cutoffs.values()))
            except (ValueError, TypeError, AttributeError):
                break
    return 0.5


def _title(row: dict[str, Any], default: str) -> str:
    return str(row.get("block_title") or default)


def _section(row: dict[str, Any], children: dict[str, list[dict[str, Any]]]) -> Section:
    subsections = tuple(
        _subsection(child, children)
        for child in children[row["block_id"]]
        if child["block_type"] == "sequential"
    )
    return Section(row["block_id"], row["url_name"], _title(row, "Section"), subsections)


def _subsection(row: dict[str, Any], children: dict[str, list[dict[str, Any]]]) -> Subsection:
    settings = row["settings"] or {}
    units = tuple(
        Unit(
            child["block_id"],
            child["url_name"],
            _title(child, "Unit"),
            tuple(_components(child, children)),
        )
        for child in children[row["block_id"]]
        if child["block_type"] == "vertical"
    )
    return Subsection(
        row["block_id"],
        row["url_name"],
        _title(row, "Subsection"),
        str(settings.get("graded", "")).lower() == "true",
        str(settings.get("format") or ""),
        units,
    )


def _components(row: dict[str, Any], children: dict[str, list[dict[str, Any]]]) -> list[Component]:
    found: list[Component] = []
    for child in children[row["block_id"]]:
        if children.get(child["block_id"]):  # library content and other containers: their leaves
            found.extend(_components(child, children))
        else:
            found.append(_component(child))
    return found


def _component(row: dict[str, Any]) -> Component:
    kind, settings = row["block_type"], row["settings"] or {}
    title = _title(row, kind.title())
    if kind == "video":
        digest = hashlib.sha256(row["block_id"].encode("utf-8")).digest()
        duration = 120.0 + int.from_bytes(digest[:4], "big") % 601  # 2 to 12 minutes
        return Component(row["block_id"], kind, row["url_name"], title, duration=duration)
    if kind == "problem":
        attempts = str(settings.get("max_attempts") or "")
        return Component(
            row["block_id"],
            kind,
            row["url_name"],
            title,
            parts=_parts(row["url_name"], row["raw_xml"] or "", title),
            max_attempts=int(attempts) if attempts.isdigit() and int(attempts) > 0 else None,
        )
    if kind == "discussion":
        topic = str(settings.get("discussion_id") or row["url_name"])
        return Component(row["block_id"], kind, row["url_name"], title, discussion_id=topic)
    return Component(row["block_id"], kind, row["url_name"], title)


def _text(element: etree._Element) -> str:
    return " ".join("".join(element.itertext()).split())


def _parts(url_name: str, raw_xml: str, title: str) -> tuple[Part, ...]:
    """The problem's responses in document order, with answers for each kind (none for kinds
    the simulation does not know, so such a problem gets page views but no submissions)."""
    try:
        root = parse_xml(raw_xml.encode("utf-8"), f"problem/{url_name}.xml")
    except XmlProblem:
        return ()
    parts = []
    for index, response in enumerate(r for r in root.iter() if r.tag in _INPUT_TYPES):
        label = response.find(".//label")
        question = _text(label) if label is not None else title
        answers = _answers(response)
        if answers is None:
            continue
        correct, wrong = answers
        parts.append(
            Part(
                f"{url_name}_{index + 2}_1",
                str(response.tag),
                _INPUT_TYPES[str(response.tag)],
                question or title,
                correct,
                wrong,
            )
        )
    return tuple(parts)


def _answers(response: etree._Element) -> tuple[Answer, tuple[Answer, ...]] | None:
    kind = response.tag
    if kind in ("multiplechoiceresponse", "choiceresponse"):
        choices = [
            (f"choice_{i}", _text(choice), choice.get("correct") == "true")
            for i, choice in enumerate(response.iter("choice"))
        ]
        if not choices:
            return None
        right = [(key, text) for key, text, ok in choices if ok] or [choices[0][:2]]
        others = [(key, text) for key, text, ok in choices if (key, text) not in right]
        if kind == "multiplechoiceresponse":
            return right[0], tuple(others)
        keys, texts = [key for key, _ in right], [text for _, text in right]
        wrong: list[Answer] = []
        if len(right) > 1:  # one correct choice missed
            wrong.append((keys[:-1], texts[:-1]))
        if others:  # one wrong choice ticked as well
            wrong.append(([*keys, others[0][0]], [*texts, others[0][1]]))
        return (keys, texts), tuple(wrong) or (([], []),)
    if kind == "optionresponse":
        option = response.find(".//optioninput")
        if option is None:
            return None
        right = option.get("correct") or ""
        wrong = tuple((o, o) for o in _OPTIONS.findall(option.get("options") or "") if o != right)
        return (right, right), wrong or (("never", "never"),)
    if kind == "customresponse":
        line = response.find(".//textline")
        right = (line.get("correct_answer") if line is not None else None) or str(
            response.get("expect") or "1"
        )
    else:
        right = str(response.get("answer") or "")
    if not right:
        return None
    if kind == "numericalresponse":
        try:
            value = float(right)
            wrong_values = (f"{value * 2 or 1:.3g}", f"{-value or -1:.3g}", f"{value + 10:.3g}")
        except ValueError:
            wrong_values = ("0", "1")
        return (right, right), tuple((w, w) for w in wrong_values)
    if kind == "formularesponse":
        return (right, right), (("x^2+y", "x^2+y"), ("2*x*y", "2*x*y"))
    return (right, right), tuple((w, w) for w in _WRONG_WORDS[:3])


_METADATA = ("display_name", "start", "due", "format", "graded", "weight", "max_attempts")


def _structure(
    blocks: list[dict[str, Any]], children: dict[str, list[dict[str, Any]]]
) -> dict[str, dict[str, Any]]:
    """The published blocks as a package's `course_structure` JSON holds them."""
    structure: dict[str, dict[str, Any]] = {}
    for row in blocks:
        settings = row["settings"] or {}
        metadata: dict[str, Any] = {}
        for key in _METADATA:
            value = settings.get(key)
            if value is None or value == "null":
                continue
            if key == "graded":
                metadata[key] = str(value).lower() == "true"
            elif key in ("weight", "max_attempts"):
                try:
                    metadata[key] = float(value) if key == "weight" else int(value)
                except ValueError:
                    continue
            else:
                metadata[key] = value
        structure[row["block_id"]] = {
            "category": row["block_type"],
            "children": [child["block_id"] for child in children.get(row["block_id"], [])],
            "metadata": metadata,
        }
    return structure


def activity_window(course: Courseware, days: int) -> tuple[datetime, datetime]:
    """The `days` days the simulation covers for a course: from two weeks before its start
    (or when enrollment opens, if later), midnight UTC."""
    opens = course.start - timedelta(days=14)
    if course.enrollment_start and course.enrollment_start > opens:
        opens = course.enrollment_start
    first = datetime(opens.year, opens.month, opens.day, tzinfo=UTC)
    return first, first + timedelta(days=days)
