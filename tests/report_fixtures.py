"""Hand-made dbt mart tables (Delta, in a test's marts schema) for the report's tests, and for
anyone who needs marts without running dbt.

The columns of each table are read from the contract, `dbt/models/marts/_marts__models.yml`, in
its order; their types follow the contract's rule (ids and strings `string`, counts `bigint`,
rates, grades and seconds `double`, `*_date` `date`, `*_on` / `*_at` ISO 8601 strings, flags
`boolean`). `write_marts` creates every mart, empty unless rows are given; a row is a dict of
some columns (the others are null).

`full_marts()` holds two course runs: COURSE with rows for every chart of the report, QUIET with
only its course run and blocks (no learner has done anything). `archive_only_marts()` is what a
warehouse with only course archives has: course runs and blocks, every other mart empty.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import yaml

CONTRACT = (
    Path(__file__).resolve().parent.parent / "dbt" / "models" / "marts" / "_marts__models.yml"
)

COURSE = "course-v1:MITx+T.01+2024_T1"
QUIET = "MITx/Quiet/2024"  # an old-style id: the report makes a file name of it

BOOLEANS = {"registered", "viewed", "explored", "certified", "completed", "is_correct"}
BIGINTS = {
    "unique_viewers",
    "users_at_start",
    "users_at_end",
    "num_users",
    "num_views",
    "active_days",
    "videos_viewed",
    "problems_attempted",
    "chapters_visited",
    "user_year_of_birth",
}
DOUBLES = {"grade", "mean_attempts", "mean_score"}

Rows = Mapping[str, Sequence[Mapping[str, Any]]]

# The counts of marts__course_summary (zero for a course run nobody enrolled in).
QUIET_ZEROS = (
    "enrolled_learners",
    "active_learners",
    "viewed_learners",
    "explored_learners",
    "certified_learners",
    "passing_learners",
    "failed_learners",
    "verified_learners",
    "male_learners",
    "female_learners",
    "other_gender_learners",
    "unknown_gender_learners",
    "country_count",
)


def column_type(table: str, name: str) -> str:
    """The Spark type of a mart column, by the contract's naming rule."""
    if name == "segment":  # a 5-second segment index; person_course's is active/at_risk/...
        return "bigint" if table == "marts__video_timeline" else "string"
    if name.endswith("_date"):
        return "date"
    if name.endswith(("_on", "_at")):
        return "string"
    if name in BOOLEANS or "_is_" in name or name == "enrollment_has_unenrolled":
        return "boolean"
    if name in DOUBLES or name.endswith(("_rate", "_share", "_grade", "_seconds")):
        return "double"
    if name in BIGINTS or name.endswith(("_count", "_learners", "_index", "_depth")):
        return "bigint"
    return "string"


@cache
def mart_columns() -> dict[str, tuple[tuple[str, str], ...]]:
    """Every mart of the contract: its (column, type) pairs in the contract's order."""
    models = yaml.safe_load(CONTRACT.read_text(encoding="utf-8"))["models"]
    return {
        model["name"]: tuple(
            (c["name"], column_type(model["name"], c["name"])) for c in model["columns"]
        )
        for model in models
    }


def write_marts(spark: Any, schema: str, rows: Rows) -> None:
    """Create `schema` and every mart in it as a Delta table with `rows` (others empty)."""
    spark.sql(f"DROP DATABASE IF EXISTS `{schema}` CASCADE")
    spark.sql(f"CREATE DATABASE `{schema}`")
    columns = mart_columns()
    unknown = set(rows) - set(columns)
    assert not unknown, f"no such mart in the contract: {unknown}"
    for table, fields in columns.items():
        ddl = ", ".join(f"`{name}` {kind}" for name, kind in fields)
        for row in rows.get(table, ()):
            extra = set(row) - {name for name, _ in fields}
            assert not extra, f"{table} has no column {extra}"
        data = [tuple(row.get(name) for name, _ in fields) for row in rows.get(table, ())]
        frame = spark.createDataFrame(data, schema=ddl)
        frame.write.format("delta").mode("overwrite").saveAsTable(f"`{schema}`.`{table}`")


def _run(course: str, title: str, **extra: Any) -> dict[str, Any]:
    return {
        "platform": "edxorg",
        "courserun_id": course,
        "courserun_title": title,
        "courserun_structure_source": "course_xml",
        **extra,
    }


def _block(course: str, block_id: str, kind: str, title: str, order: int) -> dict[str, Any]:
    return {
        "platform": "edxorg",
        "courserun_id": course,
        "block_id": block_id,
        "block_type": kind,
        "block_title": title,
        "block_url_name": block_id.rsplit("@", 1)[-1],
        "course_order_index": order,
        "block_source": "course_xml",
    }


def _key(kind: str, name: str) -> str:
    return f"block-v1:MITx+T.01+2024_T1+type@{kind}@{name}"


def course_run_rows() -> list[dict[str, Any]]:
    return [
        _run(
            COURSE,
            "Data & Society <Basics>",
            courserun_key="MITx+T.01+2024_T1",
            courserun_org="MITx",
            courserun_start_on="2024-01-08T00:00:00Z",
            courserun_end_on="2024-04-01T00:00:00Z",
            courserun_is_self_paced=False,
            courserun_passing_grade=0.6,
            chapter_count=2,
            sequential_count=3,
            vertical_count=3,
            problem_count=3,
            video_count=2,
            graded_problem_count=2,
        ),
        _run(QUIET, "A quiet course", chapter_count=1, sequential_count=1, problem_count=0),
    ]


def course_block_rows() -> list[dict[str, Any]]:
    c = COURSE
    return [
        _block(c, _key("course", "course"), "course", "Data & Society", 0),
        _block(c, _key("chapter", "ch1"), "chapter", "Getting started", 1),
        _block(c, _key("sequential", "s1"), "sequential", "Welcome", 2),
        _block(c, _key("video", "v1"), "video", "Course video", 3),
        _block(c, _key("problem", "p1"), "problem", "Warm-up (block title)", 4),
        _block(c, _key("sequential", "s2"), "sequential", "First steps", 5),
        _block(c, _key("problem", "p2"), "problem", "Tricky one", 6),
        _block(c, _key("chapter", "ch2"), "chapter", "Going further", 7),
        _block(c, _key("sequential", "s3"), "sequential", "Exam", 8),
        _block(c, _key("video", "v2"), "video", "Second video", 9),
        _block(c, _key("problem", "p3"), "problem", "Final question", 10),
        _block(QUIET, "i4x://MITx/Quiet/course/2024", "course", "A quiet course", 0),
        _block(QUIET, "i4x://MITx/Quiet/chapter/c1", "chapter", "Only section", 1),
    ]


def archive_only_marts() -> dict[str, list[dict[str, Any]]]:
    return {"marts__course_runs": course_run_rows(), "marts__course_blocks": course_block_rows()}


def _person(user: str, **facts: Any) -> dict[str, Any]:
    return {"courserun_id": COURSE, "user_id": user, "user_username": f"user{user}", **facts}


def full_marts() -> dict[str, list[dict[str, Any]]]:
    """COURSE with data for every chart (four registered learners, one more who only acted),
    QUIET with none: as dbt builds it for a course nobody enrolled in, a summary of zeros and
    sections with no enrolled learner (null shares). Rows are given out of order where the
    report must order them."""
    c = COURSE
    d = date
    return {
        **archive_only_marts(),
        "marts__course_summary": [
            {
                "courserun_id": QUIET,
                "courserun_title": "A quiet course",
                **dict.fromkeys(QUIET_ZEROS, 0),
            },
            {
                "courserun_id": c,
                "courserun_title": "Data & Society <Basics>",
                "enrolled_learners": 4,
                "active_learners": 3,
                "viewed_learners": 3,
                "explored_learners": 2,
                "certified_learners": 2,
                "passing_learners": 2,
                "failed_learners": 1,
                "verified_learners": 1,
                "active_rate": 0.75,
                "viewed_rate": 0.75,
                "explored_rate": 0.5,
                "certified_rate": 0.5,
                "passing_rate": 0.5,
                "male_learners": 2,
                "female_learners": 1,
                "other_gender_learners": 0,
                "unknown_gender_learners": 1,
                "country_count": 2,
                "median_grade": 0.65,
            },
        ],
        "marts__enrollment_daily": [
            {
                "courserun_id": c,
                "enrollment_date": d(2024, 1, 3),
                "enrolled_count": 3,
                "cumulative_count": 4,
                "enrollment_source": "events",
            },
            {
                "courserun_id": c,
                "enrollment_date": d(2024, 1, 1),
                "enrolled_count": 2,
                "cumulative_count": 2,
                "enrollment_source": "events",
            },
            {
                "courserun_id": c,
                "enrollment_date": d(2024, 1, 2),
                "enrolled_count": 3,
                "cumulative_count": 3,
                "enrollment_source": "events",
            },
        ],
        "marts__enrollment_mode_daily": [
            {
                "courserun_id": c,
                "enrollment_date": d(2024, 1, 2),
                "enrollment_mode": "verified",
                "enrolled_count": 1,
                "cumulative_count": 1,
                "enrollment_source": "events",
            },
            {
                "courserun_id": c,
                "enrollment_date": d(2024, 1, 1),
                "enrollment_mode": "audit",
                "enrolled_count": 2,
                "cumulative_count": 2,
                "enrollment_source": "events",
            },
            {
                "courserun_id": c,
                "enrollment_date": d(2024, 1, 2),
                "enrollment_mode": "audit",
                "enrolled_count": 2,
                "cumulative_count": 2,
                "enrollment_source": "events",
            },
            {
                "courserun_id": c,
                "enrollment_date": d(2024, 1, 3),
                "enrollment_mode": "audit",
                "enrolled_count": 2,
                "cumulative_count": 3,
                "enrollment_source": "events",
            },
            {
                "courserun_id": c,
                "enrollment_date": d(2024, 1, 3),
                "enrollment_mode": "verified",
                "enrolled_count": 1,
                "cumulative_count": 1,
                "enrollment_source": "events",
            },
        ],
        "marts__course_activity_weekly": [
            {
                "activity_week_key": f"k{i}",
                "courserun_id": c,
                "week_start_date": week,
                "activity": activity,
                "learner_count": n,
            }
            for i, (week, activity, n) in enumerate(
                [
                    (d(2024, 1, 8), "POSTED_FORUM", 1),
                    (d(2024, 1, 1), "ATTEMPTED_PROBLEM", 3),
                    (d(2024, 1, 1), "ACTIVE", 3),
                    (d(2024, 1, 8), "ACTIVE", 2),
                    (d(2024, 1, 1), "PLAYED_VIDEO", 2),
                ]
            )
        ],
        "marts__person_course": [
            _person(
                "1",
                registered=True,
                viewed=True,
                explored=True,
                certified=True,
                completed=True,
                grade=0.92,
                certificate_status="downloadable",
                enrollment_mode="verified",
                event_count=50,
                active_days=5,
                time_on_site_seconds=7200.0,
                videos_viewed=2,
                problems_attempted=3,
                chapters_visited=2,
                forum_post_count=1,
                user_gender="f",
                age_band="25_and_under",
                user_education_group="college",
                user_country="US",
                segment="active",
            ),
            _person(
                "2",
                registered=True,
                viewed=True,
                explored=True,
                certified=True,
                completed=True,
                grade=0.65,
                certificate_status="downloadable",
                enrollment_mode="audit",
                event_count=30,
                active_days=3,
                time_on_site_seconds=3600.0,
                videos_viewed=1,
                problems_attempted=2,
                chapters_visited=2,
                forum_post_count=0,
                user_gender="m",
                age_band="26_40",
                user_education_group="advanced",
                user_country="IN",
                segment="active",
            ),
            _person(
                "3",
                registered=True,
                viewed=True,
                explored=False,
                certified=False,
                completed=False,
                grade=0.35,
                certificate_status="notpassing",
                enrollment_mode="audit",
                event_count=4,
                active_days=1,
                time_on_site_seconds=600.0,
                videos_viewed=1,
                problems_attempted=1,
                chapters_visited=1,
                forum_post_count=0,
                user_gender="m",
                age_band="26_40",
                user_education_group="college",
                user_country="US",
                segment="at_risk",
            ),
            _person(
                "4",
                registered=True,
                viewed=False,
                explored=False,
                certified=False,
                completed=False,
                enrollment_mode="audit",
                user_gender="unknown",
                age_band="unknown",
                user_education_group="unknown",
                segment="inactive",
            ),
            # Acted without enrolling: in no chart of registered learners.
            _person(
                "5",
                registered=False,
                viewed=True,
                certified=False,
                grade=0.99,
                event_count=9,
                active_days=9,
                user_gender="f",
                age_band="41_and_over",
                user_education_group="advanced",
                user_country="FR",
                segment="active",
            ),
        ],
        "marts__section_engagement": [
            _section("sequential", "s3", "Exam", "ch2", 8, 2, 2, 1),
            _section("chapter", "ch1", "Getting started", "ch1", 1, 3, 3, 3),
            _section("sequential", "s1", "Welcome", "ch1", 2, 3, 2, 3),
            _section("sequential", "s2", "First steps", "ch1", 5, 2, 3, 0),
            _section("chapter", "ch2", "Going further", "ch2", 7, 2, 2, 1),
            {
                "courserun_id": QUIET,
                "section_level": "chapter",
                "block_id": "i4x://MITx/Quiet/chapter/c1",
                "block_title": "Only section",
                "chapter_block_id": "i4x://MITx/Quiet/chapter/c1",
                "course_order_index": 1,
                "enrolled_learners": 0,
                "viewed_learners": 0,
                "attempted_learners": 0,
                "video_learners": 0,
            },
        ],
        "marts__video_summary": [
            {
                "courserun_id": c,
                "video_block_id": _key("video", "v2"),
                "video_title": None,
                "duration_seconds": 60.0,
                "duration_source": "course",
                "users_at_start": 1,
                "users_at_end": 1,
                "total_viewed_seconds": 60.0,
                "unique_viewers": 1,
                "play_count": 1,
                "viewing_count": 1,
                "watched_95_learners": 1,
            },
            {
                "courserun_id": c,
                "video_block_id": _key("video", "v1"),
                "video_title": "Welcome video",
                "duration_seconds": 120.0,
                "duration_source": "course",
                "users_at_start": 3,
                "users_at_end": 1,
                "total_viewed_seconds": 600.0,
                "unique_viewers": 3,
                "play_count": 5,
                "viewing_count": 4,
                "watched_95_learners": 1,
            },
            # Not a block of the course (an id only the events carry), duration unknown.
            {
                "courserun_id": c,
                "video_block_id": "legacy-id",
                "video_title": None,
                "duration_seconds": None,
                "duration_source": None,
                "users_at_start": 0,
                "users_at_end": None,
                "total_viewed_seconds": 45.0,
                "unique_viewers": 2,
                "play_count": 2,
                "viewing_count": 2,
                "watched_95_learners": None,
            },
        ],
        "marts__video_timeline": [
            {
                "courserun_id": c,
                "video_block_id": video,
                "segment": segment,
                "num_users": users,
                "num_views": views,
            }
            for video, segment, users, views in [
                (_key("video", "v1"), 3, 1, 1),
                (_key("video", "v1"), 0, 3, 4),
                (_key("video", "v1"), 1, 3, 3),
                (_key("video", "v1"), 2, 2, 2),
                (_key("video", "v2"), 0, 1, 1),
                (_key("video", "v2"), 1, 1, 1),
                ("legacy-id", 1, 1, 1),
                ("legacy-id", 0, 2, 2),
            ]
        ],
        "marts__problem_summary": [
            {
                "courserun_id": c,
                "problem_block_id": _key("problem", "p3"),
                "problem_title": None,
                "attempted_learners": 2,
                "first_attempt_correct_learners": None,
                "last_attempt_correct_learners": 1,
                "mean_attempts": 1.5,
                "mean_score": 0.5,
                "problem_summary_source": "studentmodule",
            },
            {
                "courserun_id": c,
                "problem_block_id": _key("problem", "p1"),
                "problem_title": "Warm-up",
                "attempted_learners": 3,
                "first_attempt_correct_learners": 2,
                "last_attempt_correct_learners": 3,
                "mean_attempts": 4 / 3,
                "mean_score": 0.9,
                "problem_summary_source": "events",
            },
            {
                "courserun_id": c,
                "problem_block_id": _key("problem", "p2"),
                "problem_title": "Tricky one",
                "attempted_learners": 3,
                "first_attempt_correct_learners": 0,
                "last_attempt_correct_learners": 1,
                "mean_attempts": 8 / 3,
                "mean_score": 0.4,
                "problem_summary_source": "events",
            },
        ],
    }


def _section(
    level: str,
    name: str,
    title: str,
    chapter: str,
    order: int,
    viewed: int,
    attempted: int,
    video: int,
) -> dict[str, Any]:
    kind = "chapter" if level == "chapter" else "sequential"
    return {
        "courserun_id": COURSE,
        "section_level": level,
        "block_id": _key(kind, name),
        "block_title": title,
        "chapter_block_id": _key("chapter", chapter),
        "course_order_index": order,
        "enrolled_learners": 4,
        "viewed_learners": viewed,
        "attempted_learners": attempted,
        "video_learners": video,
        "viewed_share": viewed / 4,
        "attempted_share": attempted / 4,
        "video_share": video / 4,
    }
