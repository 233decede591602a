"""The marts, run for real on a hand-made world (tests/marts_fixtures.py): a course archive, a
data package and a tracking log landed by the jobs, then `run_transform` builds staging,
intermediate and marts with every dbt test. Every mart value below is worked out by hand from
the fixture's events; the comments say how.

Then a second log arrives (one more event) and only the tracking staging and the incremental
activity marts are rebuilt: the new day is added, the week it falls in is recomputed, every
other row stays as it was. Last a package names a learner the second log knew by username only:
her day is recomputed though no log is new.
"""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from pyspark.sql import SparkSession

from olx_spark.config import Config
from olx_spark.report.build import build_report
from olx_spark.spark.course_archives import CourseArchiveJob, run_course_archives
from olx_spark.spark.data_packages import DataPackageJob, run_data_packages
from olx_spark.spark.tracking_logs import TrackingLogJob, run_tracking_logs
from olx_spark.transform import dbt_schema, run_transform, transform_command
from tests.marts_fixtures import (
    COURSE_ID,
    OTHER_COURSE_ID,
    PACKAGE_COURSE,
    block,
    line,
    write_inputs,
)

pytestmark = pytest.mark.e2e

C = COURSE_ID
VID1 = block("video", "vid1")
P1, P2 = block("problem", "p1"), block("problem", "p2")
CH1, CH2, CH3 = block("chapter", "ch1"), block("chapter", "ch2"), block("chapter", "ch3")
S1, S2 = block("sequential", "s1"), block("sequential", "s2")


def mart(spark: SparkSession, config: Config, name: str, *columns: str) -> list[tuple[Any, ...]]:
    df = spark.table(f"`{dbt_schema(config, 'marts')}`.`{name}`")
    return sorted(
        (tuple(r) for r in df.select(*columns).collect()),
        key=lambda row: tuple((v is None, str(v)) for v in row),
    )


def model_versions(spark: SparkSession, config: Config) -> dict[str, int]:
    """Every Delta model table of the three dbt schemas -> its latest version (Spark's history)."""
    versions = {}
    for layer in ("staging", "intermediate", "marts"):
        schema = dbt_schema(config, layer)
        for row in spark.sql(f"SHOW TABLES IN `{schema}`").collect():
            if row.isTemporary:
                continue
            name = f"`{schema}`.`{row.tableName}`"
            if (
                spark.sql(f"DESCRIBE TABLE EXTENDED {name}")
                .filter("col_name = 'Type'")
                .first()["data_type"]
                == "VIEW"
            ):
                continue
            history = spark.sql(f"DESCRIBE HISTORY {name}").agg({"version": "max"}).first()
            versions[row.tableName] = history[0]
    return versions


def test_marts_from_hand_made_inputs(spark: SparkSession, config: Config, tmp_path: Path) -> None:
    sources = write_inputs(tmp_path)
    assert (
        run_course_archives(
            spark, config, CourseArchiveJob(str(sources["archives"]), "edxorg", "prod")
        ).loaded
        == 1
    )
    assert run_data_packages(spark, config, DataPackageJob(str(sources["packages"]))).rejected == 0
    assert run_tracking_logs(spark, config, TrackingLogJob(str(sources["logs"]))).loaded == 1

    # Every model and every dbt test, marts included, as `olx-spark transform` runs them: the
    # build is stamped with the raw tables' versions it read.
    said: list[str] = []
    assert transform_command(config, say=said.append) == 0
    assert said == []  # nothing stamped yet: every model

    assert mart(
        spark,
        config,
        "marts__course_runs",
        "platform",
        "courserun_id",
        "courserun_key",
        "courserun_org",
        "courserun_course_number",
        "courserun_run_tag",
        "courserun_title",
        "courserun_start_on",
        "courserun_end_on",
        "courserun_is_self_paced",
        "courserun_passing_grade",
        "chapter_count",
        "sequential_count",
        "vertical_count",
        "problem_count",
        "video_count",
        "graded_problem_count",
        "courserun_structure_source",
    ) == [
        (
            "edxorg",
            C,
            "MITx+M101+2024_T1",
            "MITx",
            "M101",
            "2024_T1",
            "Marts 101",
            "2024-01-01T00:00:00.000000Z",
            "2024-06-30T00:00:00.000000Z",
            False,
            0.6,  # the lower of Pass 0.6 and A 0.9
            3,
            2,
            2,
            2,
            1,
            1,  # p1 sits in the graded Lesson 1; p2 does not
            "course_xml",
        )
    ]

    # Depth-first by child position: course, Week 1 and all below it, Week 2 ..., Week 3.
    assert [
        row[1:]
        for row in sorted(
            mart(
                spark,
                config,
                "marts__course_blocks",
                "course_order_index",
                "block_id",
                "block_depth",
                "chapter_block_id",
                "sequential_block_id",
                "block_is_graded",
                "block_format",
                "video_duration_seconds",
            )
        )
    ] == [
        (block("course", "course"), 0, None, None, False, None, None),
        (CH1, 1, CH1, None, False, None, None),
        (S1, 2, CH1, S1, True, "Homework", None),
        (block("vertical", "u1"), 3, CH1, S1, True, "Homework", None),
        (P1, 4, CH1, S1, True, "Homework", None),
        (VID1, 4, CH1, S1, True, "Homework", 100.0),
        (CH2, 1, CH2, None, False, None, None),
        (S2, 2, CH2, S2, False, None, None),
        (block("vertical", "u2"), 3, CH2, S2, False, None, None),
        (P2, 4, CH2, S2, False, None, None),
        (block("html", "h2"), 4, CH2, S2, False, None, None),
        (CH3, 1, CH3, None, False, None, None),
    ]

    assert mart(
        spark,
        config,
        "marts__learners",
        "user_id",
        "user_username",
        "user_gender",
        "user_year_of_birth",
        "user_education_label",
        "user_education_group",
        "user_country",
        "user_is_staff",
        "user_source",
    ) == [
        (1, "ann", "f", 1990, "masters", "advanced", "US", False, "package"),
        (2, "ben", "m", 2001, "bachelors", "college", "FR", False, "package"),
        (3, "cat", "o", 1970, "secondary", "high_school_or_less", "US", False, "package"),
        (4, "dan", "unknown", None, "unknown", "unknown", None, True, "package"),  # no profile
        (5, "eve", "unknown", None, "unknown", "unknown", None, None, "tracking_logs"),
    ]

    # The package (2024-01-20) is newer than every enrollment event, so its state is current.
    assert mart(
        spark,
        config,
        "marts__enrollments",
        "user_id",
        "enrollment_first_enrolled_on",
        "enrollment_mode",
        "enrollment_is_active",
        "enrollment_has_unenrolled",
        "enrollment_is_upgraded",
        "enrollment_upgraded_on",
        "enrollment_source",
    ) == [
        (
            1,
            "2024-01-10T09:00:00.000000Z",
            "verified",
            True,
            False,
            True,
            "2024-01-11T09:00:00.000000Z",
            "both",
        ),  # audit, then mode_changed to verified
        (2, "2024-01-10T10:00:00.000000Z", "audit", True, False, False, None, "both"),
        (3, "2024-01-11T12:00:00.000000Z", "audit", False, True, False, None, "both"),
        (4, "2024-01-05T08:00:00.000000Z", "honor", True, False, False, None, "package"),
    ]

    # 01-10: ann, ben enrol (2, 2); 01-11: cat enrols (3, 3); 01-12: cat leaves (2, 3); carried
    # forward to the log's last day, 01-25.
    daily = mart(
        spark,
        config,
        "marts__enrollment_daily",
        "enrollment_date",
        "enrolled_count",
        "cumulative_count",
        "enrollment_source",
    )
    expected_daily = [(date(2024, 1, 10), 2, 2, "events"), (date(2024, 1, 11), 3, 3, "events")]
    expected_daily += [(date(2024, 1, d), 2, 3, "events") for d in range(12, 26)]
    assert daily == expected_daily

    # By mode: ann moves audit -> verified on 01-11, the day cat enrols in audit. Cat's
    # enrollment moves to honor on 01-13 while cat is unenrolled (a server's event: the learner
    # only in the payload): a mode change changes no one's enrollment, so honor is a mode of the
    # course with nobody in it.
    by_mode = mart(
        spark,
        config,
        "marts__enrollment_mode_daily",
        "enrollment_date",
        "enrollment_mode",
        "enrolled_count",
        "cumulative_count",
    )
    expected_modes = [
        (date(2024, 1, 10), "audit", 2, 2),
        (date(2024, 1, 10), "honor", 0, 0),
        (date(2024, 1, 10), "verified", 0, 0),
        (date(2024, 1, 11), "audit", 2, 3),
        (date(2024, 1, 11), "honor", 0, 0),
        (date(2024, 1, 11), "verified", 1, 1),
    ]
    for day in range(12, 26):
        expected_modes += [
            (date(2024, 1, day), "audit", 1, 3),
            (date(2024, 1, day), "honor", 0, 0),
            (date(2024, 1, day), "verified", 1, 1),
        ]
    assert by_mode == expected_modes

    # Activity: enrollment and task events do not count; time on site sums the gaps between a
    # day's events, each capped at 300 s (ann 01-10: 120 + 100 + 300 (380 capped) + 60).
    activity_columns = (
        "courserun_id",
        "user_id",
        "activity_date",
        "event_count",
        "video_play_count",
        "problem_check_count",
        "forum_post_count",
        "navigation_event_count",
        "time_on_site_seconds",
        "first_event_at",
        "last_event_at",
    )
    expected_activity = [
        (
            C,
            1,
            date(2024, 1, 10),
            5,
            1,
            2,
            0,
            1,
            580.0,
            "2024-01-10T10:00:00.000000Z",
            "2024-01-10T10:11:00.000000Z",
        ),
        (
            C,
            1,
            date(2024, 1, 15),
            2,
            0,
            0,
            1,
            1,
            60.0,
            "2024-01-15T09:00:00.000000Z",
            "2024-01-15T09:01:00.000000Z",
        ),
        (
            C,
            2,
            date(2024, 1, 10),
            5,
            2,
            1,
            0,
            0,
            300.0,
            "2024-01-10T11:00:00.000000Z",
            "2024-01-10T11:05:00.000000Z",
        ),
        (
            C,
            2,
            date(2024, 1, 12),
            1,
            0,
            1,
            0,
            0,
            0.0,
            "2024-01-12T14:00:00.000000Z",
            "2024-01-12T14:00:00.000000Z",
        ),
        (
            C,
            3,
            date(2024, 1, 11),
            3,
            2,
            0,
            0,
            0,
            60.0,
            "2024-01-11T13:00:00.000000Z",
            "2024-01-11T13:01:00.000000Z",
        ),
        (
            C,
            5,
            date(2024, 1, 14),
            3,
            1,
            0,
            0,
            1,
            70.0,
            "2024-01-14T10:00:00.000000Z",
            "2024-01-14T10:01:10.000000Z",
        ),
        (
            C,
            5,
            date(2024, 1, 25),
            1,
            0,
            0,
            0,
            1,
            0.0,
            "2024-01-25T16:00:00.000000Z",
            "2024-01-25T16:00:00.000000Z",
        ),
        (
            OTHER_COURSE_ID,
            1,
            date(2024, 1, 13),
            1,
            0,
            0,
            0,
            1,
            0.0,
            "2024-01-13T08:00:00.000000Z",
            "2024-01-13T08:00:00.000000Z",
        ),
    ]
    assert mart(spark, config, "marts__learner_activity_daily", *activity_columns) == sorted(
        expected_activity, key=lambda row: tuple((v is None, str(v)) for v in row)
    )

    weekly_columns = ("courserun_id", "week_start_date", "activity", "learner_count")
    expected_weekly = [
        (C, date(2024, 1, 8), "ACTIVE", 4),  # ann, ben, cat, eve (Sunday 01-14 is in this week)
        (C, date(2024, 1, 8), "ATTEMPTED_PROBLEM", 2),  # ann, ben
        (C, date(2024, 1, 8), "PLAYED_VIDEO", 4),  # ann, ben, cat, eve
        (C, date(2024, 1, 15), "ACTIVE", 1),  # ann
        (C, date(2024, 1, 15), "POSTED_FORUM", 1),  # ann's thread
        (C, date(2024, 1, 22), "ACTIVE", 1),  # eve
        (OTHER_COURSE_ID, date(2024, 1, 8), "ACTIVE", 1),
    ]
    assert mart(spark, config, "marts__course_activity_weekly", *weekly_columns) == expected_weekly

    # Viewings of vid1 (100 s): ann 0-100; ben 0-30, then 80-100 (from the seek's new_time, not
    # the stale currentTime 30 of the play after it); cat 95-100 (its last play never closes).
    # End segment: floor(max(100 - 30, 95) / 5) = 19. 95 %: 19 of the 20 segments.
    assert mart(
        spark,
        config,
        "marts__video_summary",
        "video_block_id",
        "video_title",
        "duration_seconds",
        "duration_source",
        "users_at_start",
        "users_at_end",
        "total_viewed_seconds",
        "unique_viewers",
        "play_count",
        "viewing_count",
        "watched_95_learners",
    ) == [
        (VID1, "Intro video", 100.0, "course", 2, 3, 155.0, 3, 5, 4, 1),
        ("ghost", None, None, None, 1, None, 10.0, 1, 1, 1, None),  # not in the course
    ]
    timeline = mart(
        spark,
        config,
        "marts__video_timeline",
        "video_block_id",
        "segment",
        "num_users",
        "num_views",
    )
    expected_timeline = [(VID1, s, 2, 2) for s in range(7)]  # ann, ben
    expected_timeline += [(VID1, s, 1, 1) for s in range(7, 16)]  # ann
    expected_timeline += [(VID1, s, 2, 2) for s in range(16, 19)]  # ann, ben
    expected_timeline += [(VID1, s, 3, 3) for s in (19, 20)]  # ann, ben, cat
    expected_timeline += [("ghost", s, 1, 1) for s in range(3)]
    assert sorted(timeline) == sorted(expected_timeline)

    # p1: ann wrong then right, ben right. p2: ben wrong (0 of 2).
    assert mart(
        spark,
        config,
        "marts__problem_summary",
        "problem_block_id",
        "problem_title",
        "attempted_learners",
        "first_attempt_correct_learners",
        "last_attempt_correct_learners",
        "mean_attempts",
        "mean_score",
        "problem_summary_source",
    ) == [
        (P1, "Addition", 2, 1, 2, 1.5, 1.0, "events"),
        (P2, "Choices", 1, 0, 0, 1.0, 0.0, "events"),
    ]
    assert mart(
        spark,
        config,
        "marts__answer_distribution",
        "problem_block_id",
        "part_id",
        "answer_value",
        "is_correct",
        "first_response_count",
        "last_response_count",
    ) == [
        (P1, "p1_2_1", "4", True, 1, 2),  # ben's first, both learners' last
        (P1, "p1_2_1", "5", False, 1, 0),  # ann's first
        (P2, "p2_2_1", "a|b", False, 1, 1),  # two choices, one value
    ]

    # 4 enrolled. Week 1: ann (page, problem, video), ben (problem, video), cat (video; and a
    # studentmodule row). Week 2: ann (courseware page of ch2/s2), ben (p2); eve (Lesson 2) has
    # no enrollment, so she is not counted.
    assert mart(
        spark,
        config,
        "marts__section_engagement",
        "course_order_index",
        "section_level",
        "block_id",
        "enrolled_learners",
        "viewed_learners",
        "attempted_learners",
        "video_learners",
        "viewed_share",
        "attempted_share",
        "video_share",
    ) == [
        (1, "chapter", CH1, 4, 3, 2, 3, 0.75, 0.5, 0.75),
        (11, "chapter", CH3, 4, 0, 0, 0, 0.0, 0.0, 0.0),
        (2, "sequential", S1, 4, 3, 2, 3, 0.75, 0.5, 0.75),
        (6, "chapter", CH2, 4, 2, 1, 0, 0.5, 0.25, 0.0),
        (7, "sequential", S2, 4, 2, 1, 0, 0.5, 0.25, 0.0),
    ]

    # Last landed day 01-25: eve active (0 days); ann 10 days but completed -> inactive; ben 13
    # days, enrolled, not passing -> at_risk; cat 14 days -> inactive; dan never -> inactive.
    # Explored = at least half of 3 chapters = 2.
    assert mart(
        spark,
        config,
        "marts__person_course",
        "courserun_id",
        "user_id",
        "registered",
        "viewed",
        "explored",
        "certified",
        "completed",
        "grade",
        "enrollment_mode",
        "event_count",
        "active_days",
        "video_play_count",
        "videos_viewed",
        "problems_attempted",
        "forum_post_count",
        "time_on_site_seconds",
        "chapters_visited",
        "segment",
        "age_band",
        "user_education_group",
    ) == [
        (
            C,
            1,
            True,
            True,
            True,
            True,
            True,
            0.85,
            "verified",
            7,
            2,
            1,
            1,
            1,
            1,
            640.0,
            2,
            "inactive",
            "26_40",
            "advanced",
        ),
        (
            C,
            2,
            True,
            True,
            True,
            False,
            False,
            0.4,
            "audit",
            6,
            2,
            2,
            1,
            2,
            0,
            300.0,
            2,
            "at_risk",
            "25_and_under",
            "college",
        ),
        (
            C,
            3,
            True,
            True,
            False,
            False,
            False,
            None,
            "audit",
            3,
            1,
            2,
            1,
            0,
            0,
            60.0,
            1,
            "inactive",
            "41_and_over",
            "high_school_or_less",
        ),
        (
            C,
            4,
            True,
            False,
            False,
            False,
            False,
            None,
            "honor",
            0,
            0,
            0,
            0,
            0,
            0,
            0.0,
            0,
            "inactive",
            "unknown",
            "unknown",
        ),
        (
            C,
            5,
            False,
            True,
            False,
            False,
            False,
            None,
            None,
            4,
            2,
            1,
            1,
            0,
            0,
            70.0,
            1,
            "active",
            "unknown",
            "unknown",
        ),
        (
            OTHER_COURSE_ID,
            1,
            False,
            False,
            False,
            False,
            False,
            None,
            None,
            1,
            1,
            0,
            0,
            0,
            0,
            0.0,
            0,
            "inactive",
            "26_40",
            "advanced",
        ),
    ]

    # Registered: ann, ben, cat, dan. Median of the grades 0.85 and 0.4 = 0.625.
    assert mart(
        spark,
        config,
        "marts__course_summary",
        "courserun_id",
        "courserun_title",
        "enrolled_learners",
        "active_learners",
        "viewed_learners",
        "explored_learners",
        "certified_learners",
        "passing_learners",
        "failed_learners",
        "verified_learners",
        "active_rate",
        "certified_rate",
        "male_learners",
        "female_learners",
        "other_gender_learners",
        "unknown_gender_learners",
        "country_count",
        "median_grade",
    ) == [(C, "Marts 101", 4, 3, 3, 2, 1, 1, 1, 1, 0.75, 0.25, 1, 1, 1, 1, 2, 0.625)]

    # The report reads these marts as they are: the overview's table is the course summary.
    report = build_report(spark, config, tmp_path / "report")
    assert report.course_pages == 1
    with (tmp_path / "report" / "data" / "course_runs.csv").open(newline="") as handle:
        (row,) = list(csv.DictReader(handle))
    assert {
        k: row[k]
        for k in ("courserun_id", "enrolled_learners", "explored_learners", "median_grade")
    } == {
        "courserun_id": C,
        "enrolled_learners": "4",
        "explored_learners": "2",
        "median_grade": "0.625",
    }

    # A second log: ben comes back on Friday 01-26. Only that day and its week change. Fay, a
    # new learner, is there too, named by username only: no package knows her yet, so her event
    # counts nowhere until one does (below).
    before = set(mart(spark, config, "marts__learner_activity_daily", *activity_columns))
    later = sources["logs"] / "MITx-prod-events-2024-01-26.log"
    event = line(2, "2024-01-26T12:00:00+00:00", "seq_goto", "browser", {"id": S2})
    fay = line(2, "2024-01-26T13:00:00+00:00", "seq_goto", "browser", {"id": S2})
    fay["username"], fay["context"]["user_id"] = "fay", None
    later.write_text(json.dumps(event) + "\n" + json.dumps(fay) + "\n")
    assert run_tracking_logs(spark, config, TrackingLogJob(str(sources["logs"]))).loaded == 1
    # `olx-spark transform` sees from the stamp that only the tracking log tables changed and
    # builds (and tests) only the models downstream of them: the package and course models keep
    # their versions, the activity marts get new ones.
    versions_before = model_versions(spark, config)
    assert transform_command(config, say=said.append) == 0
    assert said == [
        "olx-spark transform: 2 of 24 raw tables changed since the last build "
        "(raw__edxorg__s3__tracking_logs, raw__edxorg__s3__tracking_logs_files): building only "
        "the models downstream of them and their tests (every other model would read what it "
        "read then; --all-models builds every model)"
    ]
    rebuilt = {
        name
        for name, version in model_versions(spark, config).items()
        if version != versions_before[name]
    }
    assert {
        "stg__edxorg__s3__tracking_logs",
        "marts__learner_activity_daily",
        "marts__course_activity_weekly",
        "marts__person_course",
    } <= rebuilt
    # table models: a run of one always commits (an incremental merge of nothing may not)
    assert not rebuilt & {
        "int__packages__learner_profiles",
        "int__packages__enrollments",
        "int__course_blocks__ordered",
        "marts__course_blocks",
        "marts__course_runs",
    }
    incremental = [
        "stg__edxorg__s3__tracking_logs",
        "stg__edxorg__s3__tracking_logs_files",
        "marts__learner_activity_daily",
        "marts__course_activity_weekly",
    ]
    after = set(mart(spark, config, "marts__learner_activity_daily", *activity_columns))
    assert after - before == {
        (
            C,
            2,
            date(2024, 1, 26),
            1,
            0,
            0,
            0,
            1,
            0.0,
            "2024-01-26T12:00:00.000000Z",
            "2024-01-26T12:00:00.000000Z",
        )
    }
    assert before <= after
    weekly = mart(spark, config, "marts__course_activity_weekly", *weekly_columns)
    assert weekly == [
        row if row[1] != date(2024, 1, 22) else (C, date(2024, 1, 22), "ACTIVE", 2)  # eve, ben
        for row in expected_weekly
    ]

    # A package of 01-27 brings fay's account (user 6). No new log, yet the incremental marts
    # recompute the day of her username-only event: she appears on 01-26 and in its week.
    newer = sources["packages"] / "mitx-2024-01-27"
    newer.mkdir()
    (newer / f"{PACKAGE_COURSE}-auth_user-prod-analytics.sql").write_text(
        "id\tusername\temail\tis_staff\tdate_joined\n6\tfay\tfay@example.org\t0\t2024-01-26 00:00:00\n"
    )
    assert run_data_packages(spark, config, DataPackageJob(str(sources["packages"]))).loaded == 1
    # The learner profiles the view of course events resolves usernames with are a table: rebuilt.
    with_fay = [
        *incremental,
        "stg__edxorg__s3__tables__auth_user",
        "int__packages__learner_profiles",
    ]
    assert run_transform(config, select=with_fay, extra=["--exclude-resource-type", "test"]) == 0
    fay_day = (C, 6, date(2024, 1, 26), 1, 0, 0, 0, 1, 0.0)
    fay_day += ("2024-01-26T13:00:00.000000Z", "2024-01-26T13:00:00.000000Z")
    assert set(mart(spark, config, "marts__learner_activity_daily", *activity_columns)) == {
        *after,
        fay_day,
    }
    assert mart(spark, config, "marts__course_activity_weekly", *weekly_columns) == [
        row if row[1] != date(2024, 1, 22) else (C, date(2024, 1, 22), "ACTIVE", 3)  # + fay
        for row in expected_weekly
    ]

    # The same archive, read again as an Open edX instance's (a course run on both platforms):
    # the course marts keep one course run and one tree, the archive read last.
    course_block_columns = ("block_id", "course_order_index", "chapter_block_id", "block_is_graded")
    blocks_before = mart(spark, config, "marts__course_blocks", *course_block_columns)
    job = CourseArchiveJob(str(sources["archives"]), "openedx", "prod")
    assert run_course_archives(spark, config, job).loaded == 1
    course_marts = ["+marts__course_runs", "+marts__course_blocks"]
    assert (
        run_transform(config, select=course_marts, extra=["--exclude-resource-type", "test"]) == 0
    )
    assert mart(spark, config, "marts__course_blocks", *course_block_columns) == blocks_before
    assert {r[0] for r in mart(spark, config, "marts__course_blocks", "platform")} == {"openedx"}
    assert mart(
        spark, config, "marts__course_runs", "platform", "courserun_id", "chapter_count"
    ) == [("openedx", C, 3)]
