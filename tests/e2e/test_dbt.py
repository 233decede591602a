"""The dbt project, run for real: course archives and tracking logs ingested by the jobs, the
logs made into xAPI statements, then `run_transform` (dbt build, session method, on the test's
Spark session) stages them incrementally on Delta.

dbt on Spark costs seconds per model and per test on a small machine, so this is one scenario in
steps rather than many tests: build everything (models and every dbt test) once, then rerun
only the edxorg staging models and the tracking log / xAPI models (without the dbt tests,
already passed) to show that a rerun changes nothing and that a new archive version and a new
log add exactly their rows, row for row. (The tracking log and xAPI models ride along here
rather than in a test of their own: the full build runs them anyway, and every dbt invocation
costs a parse of the whole project.) The new version's changes are known one by one, so the
change log between versions (marts__course_block_changes) rides along too: its rows are worked
out by hand (BLOCK_CHANGES), and a re-export of the same content adds none.
"""

from __future__ import annotations

import gzip
import hashlib
import hmac
import json
import uuid
from collections import Counter
from dataclasses import fields
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from olx_spark.config import Config
from olx_spark.olx.changes import BlockChange, diff_versions
from olx_spark.olx.parse import parse_course_archive
from olx_spark.olx.tables import CONTENT_ENTITIES, ENTITIES, course_table_name
from olx_spark.olx.versions import CourseVersion
from olx_spark.spark.course_archives import CourseArchiveJob, run_course_archives
from olx_spark.spark.tracking_logs import TrackingLogJob, run_tracking_logs
from olx_spark.spark.xapi_statements import XapiJob, run_xapi
from olx_spark.tracking.tables import EVENTS_TABLE
from olx_spark.transform import dbt_schema, run_dbt, run_transform
from olx_spark.xapi.tables import STATEMENTS_TABLE
from tests.spark.courses import write_tar_gz

pytestmark = pytest.mark.e2e

RUN = "2024_T1"
COURSE_ID = f"course-v1:OLXSparkX+DBT101+{RUN}"
KEY = f"OLXSparkX+DBT101+{RUN}"
EDXORG_STAGING = [f"stg__edxorg__s3__course_xml_{entity}" for entity in ENTITIES]
TRACKING_STAGING = [
    "stg__edxorg__s3__tracking_logs",
    "stg__edxorg__s3__tracking_logs_files",
    "stg__xapi__statements",
]
MODELS_ONLY = ["--exclude-resource-type", "test"]
DBT_MODELS = Path(__file__).resolve().parents[2] / "dbt" / "models"
# The marts and their intermediate models, bar the change log between course versions (and the
# pairs of versions it reads), with only the tests whose every parent is built.
WITHOUT_LEARNER_MARTS = [
    "--exclude",
    *sorted(
        path.stem
        for folder in ("marts", "intermediate/marts")
        for path in (DBT_MODELS / folder).glob("*.sql")
        if path.stem not in ("marts__course_block_changes", "int__course_versions__consecutive")
    ),
    "--indirect-selection",
    "cautious",
]
GRADER = [
    {"type": "Homework", "short_label": "HW", "min_count": 1, "drop_count": 0, "weight": 0.4},
    {"type": "Final Exam", "short_label": "Final", "min_count": 1, "drop_count": 0, "weight": 0.6},
]


def block_id(block_type: str, url_name: str) -> str:
    return f"block-v1:{KEY}+type@{block_type}+block@{url_name}"


def course_files(version: int) -> dict[str, str]:
    """A small course: a graded homework with two units (a video and a problem; four html
    blocks, one with its body in html/a.html, the other unit pretty-printed as Studio writes
    it), a draft of the first unit, course dates in policy.json and a two-type grading policy.

    Version 2 changes what BLOCK_CHANGES lists, every kind of change once or more: a new
    title and end date (course settings, one of them from policy.json), the homework's units
    swapped, the video moved to the second unit, a problem added after q1, q1's settings
    (weight removed, max_attempts changed, showanswer added) and answer, html a's body, html c
    moved from third to first in its unit, html d inserted, html e deleted, and the draft
    edited (drafts are not in the change log). The chapter's subtree changes only below it."""
    v2 = version == 2
    title = "dbt on Spark, 2nd ed." if v2 else "dbt on Spark"
    units = ("unit2", "unit1") if v2 else ("unit1", "unit2")
    unit1 = (
        '<problem url_name="q1"/><problem url_name="q2"/>'
        if v2
        else '<video url_name="vid1"/><problem url_name="q1"/>'
    )
    html = {
        name: f'<html url_name="{name}" display_name="{name.upper()}"><p>{name}</p></html>'
        for name in "bcde"
    }
    unit2 = (
        [html["c"], '<html url_name="a"/>', html["d"], html["b"], '<video url_name="vid1"/>']
        if v2
        else ['<html url_name="a"/>', html["b"], html["c"], html["e"]]
    )
    q1 = (
        '<problem display_name="Q1" max_attempts="5" showanswer="never">'
        '<stringresponse answer="43"/></problem>'
        if v2
        else '<problem display_name="Q1" weight="2.0" max_attempts="3">'
        '<stringresponse answer="42"/></problem>'
    )
    files = {
        "course/course.xml": f'<course url_name="{RUN}" org="OLXSparkX" course="DBT101"/>',
        f"course/course/{RUN}.xml": (
            f'<course display_name="{title}" start="2024-01-15T00:00:00Z" language="en">'
            '<chapter url_name="week1"/></course>'
        ),
        "course/chapter/week1.xml": (
            '<chapter display_name="Week 1" start="2024-01-22T12:00:00Z">'
            '<sequential url_name="hw1"/></chapter>'
        ),
        "course/sequential/hw1.xml": (
            '<sequential display_name="Homework 1" graded="true" format="Homework" '
            'due="2024-02-01T23:59:00Z">'
            + "".join(f'<vertical url_name="{unit}"/>' for unit in units)
            + "</sequential>"
        ),
        "course/vertical/unit1.xml": f'<vertical display_name="Unit 1">{unit1}</vertical>',
        "course/vertical/unit2.xml": (
            '<vertical display_name="Unit 2">\n'
            + "".join(f"  {child}\n" for child in unit2)
            + "</vertical>\n"
        ),
        "course/html/a.xml": '<html filename="a" display_name="A"/>',
        "course/html/a.html": "<p>a, revised</p>" if v2 else "<p>a</p>",
        "course/video/vid1.xml": (
            '<video display_name="Welcome" youtube_id_1_0="abcDEF12345" '
            'edx_video_id="c0ffee-0001"><video_asset client_video_id="welcome.mp4" '
            'duration="125.5"/></video>'
        ),
        "course/problem/q1.xml": q1,
        "course/drafts/vertical/unit1.xml": (
            '<vertical display_name="Unit 1 (draft)" index_in_children_list="0" '
            f'parent_url="{block_id("sequential", "hw1")}"><html url_name="note"/></vertical>'
        ),
        "course/drafts/html/note.xml": (
            f'<html display_name="Draft note{", edited" if v2 else ""}"/>'
        ),
        f"course/policies/{RUN}/policy.json": json.dumps(
            {
                f"course/{RUN}": {
                    "end": "2024-07-31T00:00:00Z" if v2 else "2024-06-30T00:00:00Z",
                    "enrollment_start": "2023-12-01T00:00:00Z",
                    "self_paced": False,
                }
            }
        ),
        f"course/policies/{RUN}/grading_policy.json": json.dumps(
            {
                "GRADER": GRADER,
                "GRADE_CUTOFFS": {"Pass": 0.5, "A": 0.9},
            }
        ),
        "course/about/overview.html": "<section>About dbt on Spark</section>",
        "course/static/handout.txt": "read me",
    }
    if v2:
        files["course/problem/q2.xml"] = (
            '<problem display_name="Q2"><stringresponse answer="7"/></problem>'
        )
    return files


# --- the change log between course versions -----------------------------------------------

CHANGE_LOG = "marts__course_block_changes"
COURSE, WEEK1 = block_id("course", "course"), block_id("chapter", "week1")
HW1, UNIT1, UNIT2 = (block_id(t, n) for t, n in (("sequential", "hw1"), ("vertical", "unit1"), ("vertical", "unit2")))  # fmt: skip
VID1, Q1, Q2 = block_id("video", "vid1"), block_id("problem", "q1"), block_id("problem", "q2")
HTML = {name: block_id("html", name) for name in "abcde"}
# Version 1 -> 2, row by row: (block, type, change, changed_settings, old parent, new parent,
# old position, new position). Not in it: the chapter (its subtree changed only below it),
# html b (moves from 1 to 3, but among the siblings it keeps, a before it and c after it in
# version 1, only c moved), the drafts (the note was edited) and unit2's own XML (pretty-printed:
# the whitespace around its child pointers is not content).
BLOCK_CHANGES = [
    # display_name in the course's XML, end in policy.json: the settings after policy
    (COURSE, "course", "settings_changed", ["display_name", "end"], None, None, None, None),
    (HW1, "sequential", "children_changed", None, WEEK1, WEEK1, 0, 0),
    (UNIT1, "vertical", "children_changed", None, HW1, HW1, 0, 1),
    (UNIT2, "vertical", "children_changed", None, HW1, HW1, 1, 0),
    # the units swapped: two longest runs in order ([unit1], [unit2]), the one that keeps the
    # earliest in old order (unit1) stays, so unit2 is the reordered one
    (UNIT2, "vertical", "reordered", None, HW1, HW1, 1, 0),
    (VID1, "video", "moved", None, UNIT1, UNIT2, 0, 4),
    # q1 goes from 1 to 0 as vid1 leaves (not a reorder); its answer and three settings change
    (Q1, "problem", "content_changed", None, UNIT1, UNIT1, 1, 0),
    (Q1, "problem", "settings_changed", ["max_attempts", "showanswer", "weight"], UNIT1, UNIT1, 1, 0),
    (Q2, "problem", "added", None, None, UNIT1, None, 1),
    (HTML["a"], "html", "content_changed", None, UNIT2, UNIT2, 0, 1),  # its body, html/a.html
    # unit2's children in both versions, a b c, come in the order c a b: c moved from last to
    # first, a and b keep their order (d inserted between them, e deleted, reorder nothing)
    (HTML["c"], "html", "reordered", None, UNIT2, UNIT2, 2, 0),
    (HTML["d"], "html", "added", None, None, UNIT2, None, 2),
    (HTML["e"], "html", "removed", None, UNIT2, None, 3, None),
]  # fmt: skip


def change_log(spark: SparkSession, config: Config) -> DataFrame:
    return spark.table(f"`{dbt_schema(config, 'marts')}`.{CHANGE_LOG}")


def check_block_changes(spark: SparkSession, config: Config, v1: str, v2: str) -> None:
    """The change log after version 2: exactly BLOCK_CHANGES, every row naming both versions."""
    archives = {r["coursearchive_sha256"]: r for r in staged(spark, config, "archives").collect()}
    rows = change_log(spark, config).collect()
    assert sorted(
        (
            (
                r["block_id"],
                r["block_type"],
                r["change_type"],
                r["changed_settings"],
                r["old_parent_block_id"],
                r["new_parent_block_id"],
                r["old_position"],
                r["new_position"],
            )
            for r in rows
        ),
        key=lambda row: (row[0], row[2]),
    ) == sorted(BLOCK_CHANGES, key=lambda row: (row[0], row[2]))
    old, new = archives[v1], archives[v2]
    assert old["coursearchive_course_version"] != new["coursearchive_course_version"]
    versions = (
        "edxorg",
        COURSE_ID,
        old["coursearchive_course_version"],
        new["coursearchive_course_version"],
        v1,
        v2,
        old["coursearchive_retrieved_at"],
        new["coursearchive_retrieved_at"],
    )
    columns = ("platform", "courserun_id", "from_course_version", "to_course_version")
    columns += ("from_archive_sha256", "to_archive_sha256", "from_retrieved_at", "to_retrieved_at")
    assert {tuple(r[c] for c in columns) for r in rows} == {versions}
    assert len({r["block_change_key"] for r in rows}) == len(rows)


def check_same_as_olx_diff(spark: SparkSession, config: Config, old: Path, new: Path) -> None:
    """The mart and `olx diff` (olx_spark.olx.changes, pure Python) apply the same rules."""

    def version(path: Path) -> CourseVersion:
        with path.open("rb") as handle:
            return CourseVersion.from_parsed(parse_course_archive(handle, path.name))

    columns = [f.name for f in fields(BlockChange)]

    def row(values: list[Any]) -> tuple[Any, ...]:
        return tuple(tuple(v) if isinstance(v, list) else v for v in values)

    mart = {row([r[c] for c in columns]) for r in change_log(spark, config).collect()}
    changes = diff_versions(version(old), version(new))
    python = {row([c.as_dict()[k] for k in columns]) for c in changes}
    assert len(changes) == len(mart) == 13
    assert mart == python


def ingest(spark: SparkSession, config: Config, source: Path) -> None:
    summary = run_course_archives(spark, config, CourseArchiveJob(str(source), "edxorg", "prod"))
    assert summary.loaded == 1 and summary.rejected == 0, summary.render()


def staged(spark: SparkSession, config: Config, entity: str) -> DataFrame:
    return spark.table(f"`{dbt_schema(config, 'staging')}`.stg__edxorg__s3__course_xml_{entity}")


def fingerprints(df: DataFrame) -> list[str]:
    """One hash per row over every column (maps included), sorted: equal lists, equal tables."""
    rows = df.select(F.sha2(F.to_json(F.struct(*df.columns)), 256).alias("h")).collect()
    return sorted(r["h"] for r in rows)


def snapshot(spark: SparkSession, config: Config) -> dict[str, list[str]]:
    return {entity: fingerprints(staged(spark, config, entity)) for entity in ENTITIES}


def raw_count(spark: SparkSession, config: Config, entity: str, sha: str) -> int:
    table = f"`{config.warehouse.raw_schema}`.{course_table_name('edxorg', entity)}"
    return spark.table(table).where(F.col("archive_sha256") == sha).count()


def one(df: DataFrame, **where: Any) -> dict[str, Any]:
    for column, value in where.items():
        df = df.where(F.col(column) == value)
    rows = df.collect()
    assert len(rows) == 1, f"{len(rows)} rows where {where}"
    return rows[0].asDict()


# --- tracking logs and xAPI ------------------------------------------------------------------

SALT = "dbt-test-salt-not-a-secret"
LMS = "https://courses.example.org"
ORG = "OLXSparkX"
LOG1, LOG2, LOG3 = (f"mitx-prod-events-2024-03-0{day}.log.gz" for day in (3, 4, 5))
LEFTOVER_SHA = "0" * 64  # a file a killed run wrote rows for, without its ledger row
PROBLEM = block_id("problem", "q1")
QUESTIONS = ("q1_2_1", "q1_3_1")
PROBLEM_IRI = f"{LMS}/xblock/{PROBLEM}"
VERB = "http://adlnet.gov/expapi/verbs/"


def pseudonym(user_id: int) -> str:
    """The xAPI job's pseudonymous actor id of a user (salted HMAC as a UUID)."""
    digest = hmac.new(SALT.encode(), str(user_id).encode(), hashlib.sha256).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


def context(user_id: int, **more: Any) -> dict[str, Any]:
    return {"course_id": COURSE_ID, "org_id": ORG, "user_id": user_id, **more}


def enrollment(name: str, time: str, user_id: int, username: str) -> dict[str, Any]:
    return {
        "name": name,
        "event_type": name,
        "event_source": "server",
        "timestamp": time,
        "username": username,
        "data": {"course_id": COURSE_ID, "mode": "audit", "user_id": user_id},
        "context": context(user_id),
    }


def video(event_type: str, time: str, position: float) -> dict[str, Any]:
    payload = {"id": "vid1", "currentTime": position, "code": "html5", "duration": 125.5}
    return {
        "event_type": event_type,
        "event_source": "browser",
        "time": time,
        "username": "alice",
        "session": "sess-1",
        "page": f"{LMS}/courses/{COURSE_ID}/courseware/week1/hw1/",
        "event": json.dumps(payload),  # browser events: JSON in a string
        "context": context(7),
    }


def question(text: str, answer: str, correct: bool) -> dict[str, Any]:
    return {
        "question": text,
        "answer": answer,
        "response_type": "stringresponse",
        "input_type": "textline",
        "correct": correct,
        "variant": "",
        "group_label": "",
    }


ENROLLED = enrollment(
    "edx.course.enrollment.activated", "2024-03-03T10:00:00.000001+00:00", 7, "alice"
)
LOG1_LINES = [
    json.dumps(ENROLLED),
    json.dumps(video("play_video", "2024-03-03T10:05:00.500000+00:00", 12.5)),
    "not a JSON event",  # a bad line: in the bad-lines table, not staged
    json.dumps(
        {  # two questions: a parent statement with the score, and one child per question
            "event_type": "problem_check",
            "event_source": "server",
            "time": "2024-03-03T10:10:00+00:00",
            "username": "alice",
            "event": {
                "problem_id": PROBLEM,
                "grade": 1,
                "max_grade": 2,
                "success": "incorrect",
                "attempts": 1,
                "answers": {QUESTIONS[0]: "42", QUESTIONS[1]: "8"},
                "submission": {
                    QUESTIONS[0]: question("Six times seven?", "42", True),
                    QUESTIONS[1]: question("Two plus two?", "8", False),
                },
            },
            "context": context(7, module={"display_name": "Q1", "usage_key": PROBLEM}),
        }
    ),
    json.dumps(
        {
            "name": "edx.completion.block_completion.changed",
            "event_type": "edx.completion.block_completion.changed",
            "event_source": "server",
            "timestamp": "2024-03-03T10:11:00+00:00",
            "data": {"block_id": PROBLEM, "completion": 1.0},
            "context": context(7),
        }
    ),
    json.dumps(
        {  # a page view: an event, but no xAPI statement (no transformer)
            "event_type": f"/courses/{COURSE_ID}/courseware/",
            "event_source": "server",
            "time": "2024-03-03T10:12:00+00:00",
            "username": "alice",
            "event": {"GET": {}, "POST": {}},
            "context": context(7),
        }
    ),
]
LOG2_LINES = [  # logged again the next day: the same statement id as LOG1's first event
    json.dumps(ENROLLED),
    json.dumps(
        enrollment("edx.course.enrollment.deactivated", "2024-03-04T08:00:00+00:00", 7, "alice")
    ),
]
LOG3_LINES = [
    json.dumps(video("pause_video", "2024-03-05T09:00:00+00:00", 30.25)),
    json.dumps(
        enrollment("edx.course.enrollment.activated", "2024-03-05T09:30:00+00:00", 9, "bob")
    ),
]


def write_log(folder: Path, name: str, lines: list[str], truncated: bool = False) -> None:
    """A gzipped log; `truncated` cuts the gzip trailer: every line is there, but the stream is
    damaged, so the ledger says `partial` (the lines are still staged)."""
    folder.mkdir(parents=True, exist_ok=True)
    packed = gzip.compress(("\n".join(lines) + "\n").encode(), mtime=0)
    (folder / name).write_bytes(packed[:-8] if truncated else packed)


def land_logs(spark: SparkSession, config: Config, logs: Path) -> None:
    """The tracking log job, then the xAPI job, on whatever `logs` holds that is new."""
    run_tracking_logs(spark, config, TrackingLogJob(str(logs)))
    run_xapi(spark, config, XapiJob(lms_root_url=LMS))


def leave_killed_run_rows(spark: SparkSession, config: Config) -> None:
    """Rows as a killed run leaves them: written, but their file is in no ledger. Never staged."""
    for table, sha_column in (
        (EVENTS_TABLE, "file_sha256"),
        (STATEMENTS_TABLE, "source_file_sha256"),
    ):
        name = f"`{config.warehouse.raw_schema}`.{table}"
        row = spark.table(name).limit(1).withColumn(sha_column, F.lit(LEFTOVER_SHA))
        row.write.insertInto(name)


def tracking_table(spark: SparkSession, config: Config, name: str) -> DataFrame:
    layer = "intermediate" if name.startswith("int__") else "staging"
    return spark.table(f"`{dbt_schema(config, layer)}`.{name}")


def tracking_snapshot(spark: SparkSession, config: Config) -> dict[str, list[str]]:
    return {name: fingerprints(tracking_table(spark, config, name)) for name in TRACKING_STAGING}


def log_name(uri: str) -> str:
    return uri.rsplit("/", 1)[-1]


def staged_events(spark: SparkSession, config: Config) -> list[tuple[Any, ...]]:
    rows = tracking_table(spark, config, "stg__edxorg__s3__tracking_logs").collect()
    return sorted(
        (
            log_name(r["useractivity_file_uri"]),
            r["useractivity_line_number"],
            r["useractivity_event_name"],
            r["useractivity_event_source"],
            r["useractivity_timestamp"],
            r["useractivity_event_date"],
            r["user_id"],
            r["user_username"],
            r["courserun_id"],
            r["courserun_org"],
            r["useractivity_source_system"],
        )
        for r in rows
    )


def staged_statements(spark: SparkSession, config: Config) -> list[tuple[Any, ...]]:
    rows = tracking_table(spark, config, "stg__xapi__statements").collect()
    return sorted(
        (
            log_name(r["xapistatement_source_file_uri"]),
            r["xapistatement_source_line_number"],
            r["xapistatement_verb_display"],
            r["xapistatement_object_id"],
            r["xapistatement_timestamp"],
            r["xapistatement_result_score_scaled"],
            r["xapistatement_result_success"],
            r["xapistatement_result_completion"],
            r["xapistatement_result_response"],
            r["xapistatement_video_time_seconds"],
            r["xapistatement_progress_percent"],
        )
        for r in rows
    )


def check_tracking_build(spark: SparkSession, config: Config) -> None:
    """The tracking log and xAPI models after the first build: exact rows, typed."""
    alice = (7, "alice", COURSE_ID, ORG, "prod")
    day1, day2 = date(2024, 3, 3), date(2024, 3, 4)
    assert staged_events(spark, config) == [
        (LOG1, 1, "edx.course.enrollment.activated", "server", "2024-03-03T10:00:00.000001Z", day1, *alice),
        (LOG1, 2, "play_video", "browser", "2024-03-03T10:05:00.500000Z", day1, *alice),
        (LOG1, 4, "problem_check", "server", "2024-03-03T10:10:00.000000Z", day1, *alice),
        (LOG1, 5, "edx.completion.block_completion.changed", "server", "2024-03-03T10:11:00.000000Z", day1, 7, None, COURSE_ID, ORG, "prod"),
        (LOG1, 6, f"/courses/{COURSE_ID}/courseware/", "server", "2024-03-03T10:12:00.000000Z", day1, *alice),
        (LOG2, 1, "edx.course.enrollment.activated", "server", "2024-03-03T10:00:00.000001Z", day1, *alice),
        (LOG2, 2, "edx.course.enrollment.deactivated", "server", "2024-03-04T08:00:00.000000Z", day2, *alice),
    ]  # fmt: skip
    events = tracking_table(spark, config, "stg__edxorg__s3__tracking_logs")
    play = one(events, useractivity_event_name="play_video")
    assert json.loads(play["useractivity_event_json"])["currentTime"] == 12.5
    assert play["useractivity_session_id"] == "sess-1"
    assert play["useractivity_timestamp_text"] == "2024-03-03T10:05:00.500000+00:00"
    assert json.loads(play["useractivity_context_json"])["user_id"] == 7

    ledger = tracking_table(spark, config, "stg__edxorg__s3__tracking_logs_files").collect()
    assert sorted(
        (
            log_name(r["trackinglogfile_uri"]),
            r["trackinglogfile_status"],
            r["trackinglogfile_line_count"],
            r["trackinglogfile_event_count"],
            r["trackinglogfile_bad_line_count"],
            r["trackinglogfile_error_count"],
            r["trackinglogfile_log_date"],
            r["trackinglogfile_source_system"],
        )
        for r in ledger
    ) == [(LOG1, "loaded", 6, 5, 1, 0, day1, "prod"), (LOG2, "partial", 2, 2, 0, 1, day2, "prod")]

    course_iri = f"{LMS}/course/{COURSE_ID}"
    child_iris = [f"{LMS}/xblock/{PROBLEM.rsplit('@', 1)[0]}@{q}" for q in QUESTIONS]
    check_time, none5 = "2024-03-03T10:10:00.000000Z", (None,) * 5
    assert staged_statements(spark, config) == [
        (LOG1, 1, "registered", course_iri, "2024-03-03T10:00:00.000001Z", *none5, None),
        (LOG1, 2, "played", f"{LMS}/xblock/block-v1:{KEY}+type@video+block@vid1", "2024-03-03T10:05:00.500000Z", None, None, None, None, 12.5, None),
        # the group (ERB): success only when the whole problem is correct, no response
        (LOG1, 4, "evaluated", PROBLEM_IRI, check_time, 0.5, False, None, None, None, None),
        (LOG1, 4, "evaluated", child_iris[0], check_time, None, True, None, "42", None, None),
        (LOG1, 4, "evaluated", child_iris[1], check_time, None, False, None, "8", None, None),
        (LOG1, 5, "progressed", PROBLEM_IRI, "2024-03-03T10:11:00.000000Z", None, None, True, None, None, 100.0),
        (LOG2, 1, "registered", course_iri, "2024-03-03T10:00:00.000001Z", *none5, None),
        (LOG2, 2, "unregistered", course_iri, "2024-03-04T08:00:00.000000Z", *none5, None),
    ]  # fmt: skip
    statements = tracking_table(spark, config, "stg__xapi__statements")
    for row in statements.collect():
        statement = json.loads(row["xapistatement_json"])
        assert statement["id"] == row["xapistatement_id"]
        assert statement["verb"]["id"] == row["xapistatement_verb_id"]
        assert row["xapistatement_actor_id"] == pseudonym(7)
        assert (row["courserun_id"], row["courserun_org"]) == (COURSE_ID, ORG)
        assert row["xapistatement_source_system"] == "prod"
        assert row["xapistatement_retrieved_at"].endswith("Z")
    in_log1 = statements.where(F.col("xapistatement_source_file_uri").endswith(LOG1))
    registered = one(in_log1, xapistatement_verb_id=VERB + "registered")
    assert registered["xapistatement_object_name"] == "dbt on Spark"  # from the course tables
    assert registered["xapistatement_object_type"] == "http://adlnet.gov/expapi/activities/course"
    assert registered["xapistatement_event_name"] == "edx.course.enrollment.activated"
    # The multi-question problem_check: the parent has the score, each child points to it.
    parent = one(
        statements.where(F.col("xapistatement_object_id") == PROBLEM_IRI).where(
            F.col("xapistatement_verb_display") == "evaluated"
        )
    )
    score = ("xapistatement_result_score_raw", "xapistatement_result_score_max")
    assert tuple(parent[c] for c in score) == (1.0, 2.0)
    children = statements.where(F.col("xapistatement_parent_statement_id").isNotNull()).collect()
    assert sorted(c["xapistatement_object_id"] for c in children) == child_iris
    assert {c["xapistatement_parent_statement_id"] for c in children} == {
        parent["xapistatement_id"]
    }
    played = one(statements, xapistatement_verb_display="played")
    assert played["xapistatement_session_id"] == "sess-1"

    # One row per statement id: the enrollment logged in both files is kept once, from LOG1.
    deduped = tracking_table(spark, config, "int__xapi__statements_deduped")
    assert deduped.count() == 7 == statements.select("xapistatement_id").distinct().count()
    twice = one(deduped, xapistatement_copy_count=2)
    kept = (
        log_name(twice["xapistatement_source_file_uri"]),
        twice["xapistatement_source_line_number"],
    )
    assert kept == (LOG1, 1)
    assert twice["xapistatement_id"] == registered["xapistatement_id"]


def check_new_log(spark: SparkSession, config: Config, before: dict[str, list[str]]) -> None:
    """After LOG3 and an incremental run: exactly its rows are added (2 events, its ledger row,
    2 statements), and every row staged before is still there, unchanged."""
    after = tracking_snapshot(spark, config)
    added = {name: len(after[name]) - len(before[name]) for name in TRACKING_STAGING}
    assert added == dict(zip(TRACKING_STAGING, (2, 1, 2), strict=True))
    for name in TRACKING_STAGING:
        assert not Counter(before[name]) - Counter(after[name]), name
    alice, bob = (7, "alice", COURSE_ID, ORG, "prod"), (9, "bob", COURSE_ID, ORG, "prod")
    day3 = date(2024, 3, 5)
    assert [e for e in staged_events(spark, config) if e[0] == LOG3] == [
        (LOG3, 1, "pause_video", "browser", "2024-03-05T09:00:00.000000Z", day3, *alice),
        (LOG3, 2, "edx.course.enrollment.activated", "server", "2024-03-05T09:30:00.000000Z", day3, *bob),
    ]  # fmt: skip
    assert [s for s in staged_statements(spark, config) if s[0] == LOG3] == [
        (LOG3, 1, "paused", f"{LMS}/xblock/block-v1:{KEY}+type@video+block@vid1", "2024-03-05T09:00:00.000000Z", None, None, None, None, 30.25, None),
        (LOG3, 2, "registered", f"{LMS}/course/{COURSE_ID}", "2024-03-05T09:30:00.000000Z", None, None, None, None, None, None),
    ]  # fmt: skip
    statements = tracking_table(spark, config, "stg__xapi__statements")
    registered = one(statements, xapistatement_actor_id=pseudonym(9))
    assert registered["xapistatement_object_name"] == "dbt on Spark, 2nd ed."  # the new title
    assert tracking_table(spark, config, "int__xapi__statements_deduped").count() == 9


def test_dbt_stages_course_archives_incrementally(
    spark: SparkSession, config: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "archives"
    write_tar_gz(source / "DBT101-v1.tar.gz", course_files(1))
    ingest(spark, config, source)
    # Two days of tracking logs (the second a damaged gzip: `partial`, its lines still staged),
    # made into xAPI statements; and rows of a killed run, which no ledger lists.
    monkeypatch.setenv("OLX_SPARK_XAPI_SALT", SALT)
    logs = tmp_path / "logs"
    write_log(logs, LOG1, LOG1_LINES)
    write_log(logs, LOG2, LOG2_LINES, truncated=True)
    land_logs(spark, config, logs)
    leave_killed_run_rows(spark, config)

    # 1. Everything but the learner marts (tests/e2e/test_marts.py builds and checks those, on
    # data made for them): the staging models (course archives, packages, tracking logs, xAPI),
    # the intermediate models, the change log between versions, and every dbt test of them.
    ansi = spark.conf.get("spark.sql.ansi.enabled")
    assert run_transform(config, extra=WITHOUT_LEARNER_MARTS) == 0
    assert spark.conf.get("spark.sql.ansi.enabled") == ansi  # dbt-spark's override undone

    archives = staged(spark, config, "archives")
    archive = one(archives)
    v1 = archive["coursearchive_sha256"]
    assert archive["courserun_id"] == COURSE_ID
    assert archive["coursearchive_status"] == "loaded"
    assert archive["coursearchive_block_count"] == 13
    assert (archive["courserun_org"], archive["courserun_course_number"]) == ("OLXSparkX", "DBT101")
    assert archive["coursearchive_retrieved_at"].endswith("Z")

    blocks = staged(spark, config, "blocks")
    assert blocks.count() == 13
    assert blocks.where("coursestructure_block_is_draft").count() == 2
    assert {r[0] for r in blocks.select("courserun_id").distinct().collect()} == {COURSE_ID}
    course = one(blocks, coursestructure_block_type="course")
    assert course["coursestructure_block_id"] == block_id("course", "course")
    assert len(course["coursestructure_subtree_hash"]) == 64
    assert blocks.where("coursestructure_subtree_hash is null").count() == 0
    assert course["coursestructure_block_title"] == "dbt on Spark"
    assert course["coursestructure_block_start_on"] == "2024-01-15T00:00:00.000000Z"
    chapter = one(blocks, coursestructure_block_id=block_id("chapter", "week1"))
    assert chapter["coursestructure_block_start_on"] == "2024-01-22T12:00:00.000000Z"
    homework = one(blocks, coursestructure_block_id=block_id("sequential", "hw1"))
    assert homework["coursestructure_block_due_on"] == "2024-02-01T23:59:00.000000Z"
    assert homework["coursestructure_block_is_graded"] is True
    assert homework["coursestructure_block_format"] == "Homework"
    problem = one(blocks, coursestructure_block_id=block_id("problem", "q1"))
    assert problem["coursestructure_block_weight"] == 2.0
    assert problem["coursestructure_block_max_attempts"] == 3
    video = one(blocks, coursestructure_block_type="video")
    assert video["coursestructure_video_youtube_id"] == "abcDEF12345"
    assert video["coursestructure_video_edx_video_id"] == "c0ffee-0001"
    assert video["coursestructure_video_duration_seconds"] == 125.5
    # The unit exists twice, published and draft: two rows, two keys.
    units = blocks.where(F.col("coursestructure_block_id") == block_id("vertical", "unit1"))
    drafts = sorted(r[0] for r in units.select("coursestructure_block_is_draft").collect())
    assert drafts == [False, True]

    assert staged(spark, config, "edges").count() == 12
    assert staged(spark, config, "policies").count() == 5
    page = one(staged(spark, config, "pages"))
    assert (page["coursepage_type"], page["coursepage_name"]) == ("about", "overview")
    static_file = one(staged(spark, config, "static_files"))
    assert static_file["coursestaticfile_path"] == "static/handout.txt"

    intermediate = dbt_schema(config, "intermediate")
    courserun = one(spark.table(f"`{intermediate}`.int__combined__course_xml_courseruns"))
    assert courserun["platform"] == "edxorg"
    assert courserun["courserun_id"] == COURSE_ID
    assert courserun["courserun_title"] == "dbt on Spark"
    assert courserun["courserun_run_tag"] == RUN
    assert courserun["courserun_start_on"] == "2024-01-15T00:00:00.000000Z"
    assert courserun["courserun_end_on"] == "2024-06-30T00:00:00.000000Z"
    assert courserun["courserun_enrollment_start_on"] == "2023-12-01T00:00:00.000000Z"
    assert courserun["courserun_enrollment_end_on"] is None
    assert courserun["courserun_is_self_paced"] is False
    assert courserun["courserun_pacing"] == "instructor_paced"
    assert courserun["courserun_language"] == "en"
    assert courserun["courserun_passing_grade"] == 0.5
    assert courserun["coursearchive_sha256"] == v1
    grading = spark.table(f"`{intermediate}`.int__combined__course_xml_grading_policy")
    assert [
        tuple(r)
        for r in grading.orderBy("grading_policy_position")
        .select(
            "grading_policy_position",
            "grading_policy_assignment_type",
            "grading_policy_short_label",
            "grading_policy_min_count",
            "grading_policy_drop_count",
            "grading_policy_weight",
        )
        .collect()
    ] == [(0, "Homework", "HW", 1, 0, 0.4), (1, "Final Exam", "Final", 1, 0, 0.6)]

    # `dbt docs generate` works on the same session: the docs site with every model and its
    # column descriptions (manifest), and a catalog of what Spark reports. dbt-spark's catalog
    # lists no open-source Delta tables (their metastore entry has no columns), only the views.
    docs = tmp_path / "docs"
    assert run_dbt(config, ["docs", "generate", "--target-path", str(docs)]) == 0
    assert (docs / "index.html").is_file()
    manifest = json.loads((docs / "manifest.json").read_text())
    models = {n["name"]: n for n in manifest["nodes"].values() if n["resource_type"] == "model"}
    assert set(EDXORG_STAGING) <= set(models)
    assert models["stg__edxorg__s3__course_xml_blocks"]["columns"]["coursestructure_block_id"][
        "description"
    ]
    catalog = json.loads((docs / "catalog.json").read_text())
    cataloged = {node.rsplit(".", 1)[-1] for node in catalog["nodes"]}
    assert "int__combined__course_xml_courseruns" in cataloged

    check_tracking_build(spark, config)

    # 2. Run again with nothing new: the staged tables are exactly what they were.
    before = snapshot(spark, config)
    tracking_before = tracking_snapshot(spark, config)
    assert run_transform(config, select=EDXORG_STAGING + TRACKING_STAGING, extra=MODELS_ONLY) == 0
    assert snapshot(spark, config) == before
    assert tracking_snapshot(spark, config) == tracking_before

    # 3. A new version of the course and a new day of logs: their rows are added, the rows
    # staged before stay as they were.
    v2_files = course_files(2)
    write_tar_gz(source / "DBT101-v2.tar.gz", v2_files)
    ingest(spark, config, source)
    write_log(logs, LOG3, LOG3_LINES)
    land_logs(spark, config, logs)
    assert (
        run_transform(
            config, select=[*EDXORG_STAGING, *TRACKING_STAGING, CHANGE_LOG], extra=MODELS_ONLY
        )
        == 0
    )
    check_new_log(spark, config, tracking_before)
    after = snapshot(spark, config)
    archives = staged(spark, config, "archives")
    v2 = one(archives, coursearchive_block_count=14)["coursearchive_sha256"]
    assert archives.count() == 2
    sha_column = {
        "blocks": "coursestructure_archive_sha256",
        "edges": "coursestructure_archive_sha256",
        "policies": "coursepolicy_archive_sha256",
        "pages": "coursepage_archive_sha256",
        "static_files": "coursestaticfile_archive_sha256",
    }
    for entity in CONTENT_ENTITIES:
        table = staged(spark, config, entity)
        old = table.where(F.col(sha_column[entity]) == v1)
        assert fingerprints(old) == before[entity], entity
        new = table.where(F.col(sha_column[entity]) == v2).count()
        assert new == raw_count(spark, config, entity, v2) > 0, entity
        assert len(after[entity]) == len(before[entity]) + new, entity
    assert staged(spark, config, "blocks").where(F.col(sha_column["blocks"]) == v2).count() == 14

    courserun = one(spark.table(f"`{intermediate}`.int__combined__course_xml_courseruns"))
    assert courserun["courserun_title"] == "dbt on Spark, 2nd ed."
    assert courserun["coursearchive_sha256"] == v2
    assert courserun["courserun_version_count"] == 2
    check_block_changes(spark, config, v1, v2)
    check_same_as_olx_diff(spark, config, source / "DBT101-v1.tar.gz", source / "DBT101-v2.tar.gz")

    # 4. The same content again, re-exported (other bytes, the same course_version): a loaded
    # archive but no new version, so no new pair of versions. Its ledger row staged (all the
    # pairs are made of) and the change log run again: it is what it was (a rerun adds
    # nothing). This time the change log's dbt tests run, on its rows.
    change_log_before = fingerprints(change_log(spark, config))
    write_tar_gz(source / "DBT101-v2-reexport.tar.gz", v2_files, mtime=1_800_000_000)
    ingest(spark, config, source)
    ledger_and_log = ["stg__edxorg__s3__course_xml_archives", CHANGE_LOG]
    staging_tests = ["--exclude", "resource_type:test,path:models/staging"]
    assert run_transform(config, select=ledger_and_log, extra=staging_tests) == 0
    archives = staged(spark, config, "archives")
    reexport = one(archives.where(~F.col("coursearchive_sha256").isin(v1, v2)))
    assert reexport["coursearchive_status"] == "loaded"
    same = one(archives, coursearchive_sha256=v2)["coursearchive_course_version"]
    assert reexport["coursearchive_course_version"] == same
    pair = one(spark.table(f"`{intermediate}`.int__course_versions__consecutive"))
    assert (pair["from_archive_sha256"], pair["to_archive_sha256"]) == (v1, v2)
    assert (pair["from_version_number"], pair["to_version_number"]) == (1, 2)
    assert fingerprints(change_log(spark, config)) == change_log_before
