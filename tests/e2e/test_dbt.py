"""The dbt project, run for real: course archives ingested by the job, then `run_transform`
(dbt build, session method, on the test's Spark session) stages them incrementally on Delta.

dbt on Spark costs seconds per model and per test on a small machine, so this is one scenario in
steps rather than many tests: build everything (models and every dbt test) once, then rerun
only the edxorg staging models (without the dbt tests, already passed) to show that a rerun
changes nothing and that a new archive version adds exactly its rows, row for row.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from olx_spark.config import Config
from olx_spark.olx.tables import CONTENT_ENTITIES, ENTITIES, course_table_name
from olx_spark.spark.course_archives import CourseArchiveJob, run_course_archives
from olx_spark.transform import dbt_schema, run_dbt, run_transform
from tests.spark.courses import write_tar_gz

pytestmark = pytest.mark.e2e

RUN = "2024_T1"
COURSE_ID = f"course-v1:OLXSparkX+DBT101+{RUN}"
KEY = f"OLXSparkX+DBT101+{RUN}"
EDXORG_STAGING = [f"stg__edxorg__s3__course_xml_{entity}" for entity in ENTITIES]
MODELS_ONLY = ["--exclude-resource-type", "test"]
GRADER = [
    {"type": "Homework", "short_label": "HW", "min_count": 1, "drop_count": 0, "weight": 0.4},
    {"type": "Final Exam", "short_label": "Final", "min_count": 1, "drop_count": 0, "weight": 0.6},
]


def block_id(block_type: str, url_name: str) -> str:
    return f"block-v1:{KEY}+type@{block_type}+block@{url_name}"


def course_files(title: str, extra_problem: bool = False) -> dict[str, str]:
    """A small course: a graded homework with a video and a problem, a draft of its unit,
    course dates in policy.json and a two-type grading policy. Version 2 adds a problem."""
    problems = '<problem url_name="q1"/>' + ('<problem url_name="q2"/>' if extra_problem else "")
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
            'due="2024-02-01T23:59:00Z"><vertical url_name="unit1"/></sequential>'
        ),
        "course/vertical/unit1.xml": (
            f'<vertical display_name="Unit 1"><video url_name="vid1"/>{problems}</vertical>'
        ),
        "course/video/vid1.xml": (
            '<video display_name="Welcome" youtube_id_1_0="abcDEF12345" '
            'edx_video_id="c0ffee-0001"><video_asset client_video_id="welcome.mp4" '
            'duration="125.5"/></video>'
        ),
        "course/problem/q1.xml": (
            '<problem display_name="Q1" weight="2.0" max_attempts="3">'
            '<stringresponse answer="42"/></problem>'
        ),
        "course/drafts/vertical/unit1.xml": (
            '<vertical display_name="Unit 1 (draft)" index_in_children_list="0" '
            f'parent_url="{block_id("sequential", "hw1")}"><html url_name="note"/></vertical>'
        ),
        "course/drafts/html/note.xml": '<html display_name="Draft note"/>',
        f"course/policies/{RUN}/policy.json": json.dumps(
            {
                f"course/{RUN}": {
                    "end": "2024-06-30T00:00:00Z",
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
    if extra_problem:
        files["course/problem/q2.xml"] = (
            '<problem display_name="Q2"><stringresponse answer="7"/></problem>'
        )
    return files


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


def test_dbt_stages_course_archives_incrementally(
    spark: SparkSession, config: Config, tmp_path: Path
) -> None:
    source = tmp_path / "archives"
    write_tar_gz(source / "DBT101-v1.tar.gz", course_files("dbt on Spark"))
    ingest(spark, config, source)

    # 1. Everything: 12 staging models, the intermediate models, and every dbt test.
    ansi = spark.conf.get("spark.sql.ansi.enabled")
    assert run_transform(config) == 0
    assert spark.conf.get("spark.sql.ansi.enabled") == ansi  # dbt-spark's override undone

    archives = staged(spark, config, "archives")
    archive = one(archives)
    v1 = archive["coursearchive_sha256"]
    assert archive["courserun_id"] == COURSE_ID
    assert archive["coursearchive_status"] == "loaded"
    assert archive["coursearchive_block_count"] == 8
    assert (archive["courserun_org"], archive["courserun_course_number"]) == ("OLXSparkX", "DBT101")
    assert archive["coursearchive_retrieved_at"].endswith("Z")

    blocks = staged(spark, config, "blocks")
    assert blocks.count() == 8
    assert blocks.where("coursestructure_block_is_draft").count() == 2
    assert {r[0] for r in blocks.select("courserun_id").distinct().collect()} == {COURSE_ID}
    course = one(blocks, coursestructure_block_type="course")
    assert course["coursestructure_block_id"] == block_id("course", "course")
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

    assert staged(spark, config, "edges").count() == 7
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

    # 2. Run again with nothing new: the staged tables are exactly what they were.
    before = snapshot(spark, config)
    assert run_transform(config, select=EDXORG_STAGING, extra=MODELS_ONLY) == 0
    assert snapshot(spark, config) == before

    # 3. A new version of the course: its rows are added, the first version's stay as they were.
    v2_files = course_files("dbt on Spark, 2nd ed.", extra_problem=True)
    write_tar_gz(source / "DBT101-v2.tar.gz", v2_files)
    ingest(spark, config, source)
    assert run_transform(config, select=EDXORG_STAGING, extra=MODELS_ONLY) == 0
    after = snapshot(spark, config)
    archives = staged(spark, config, "archives")
    v2 = one(archives, coursearchive_block_count=9)["coursearchive_sha256"]
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
    assert staged(spark, config, "blocks").where(F.col(sha_column["blocks"]) == v2).count() == 9

    courserun = one(spark.table(f"`{intermediate}`.int__combined__course_xml_courseruns"))
    assert courserun["courserun_title"] == "dbt on Spark, 2nd ed."
    assert courserun["coursearchive_sha256"] == v2
    assert courserun["courserun_version_count"] == 2
