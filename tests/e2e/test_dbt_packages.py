"""The data package dbt models, run for real: two hand-made packages ingested by the job (a zip
of gpg-encrypted files, then an unzipped, decrypted one a week later), then `run_transform`
with `--select tag:data_packages` (the models and their dbt tests) stages them, typed.

dbt on Spark costs seconds per node here, so this is one build and one rerun: the build's rows
are checked value for value (ids, booleans, grades and datetimes typed; a value that does not
parse is null; columns a header lacks are null; `user_id_map`'s `id`/`user_id`), the latest
snapshot per course and table is the latest LOADED file (an identical later file is recorded
as unchanged and is not a new snapshot), and a rerun with nothing new changes nothing.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from olx_spark.config import Config
from olx_spark.spark.data_packages import DataPackageJob, run_data_packages
from olx_spark.transform import dbt_schema, run_transform
from tests.packages_fixtures import (
    AUTH_USER,
    COURSE,
    COURSE_ID,
    COURSE_STRUCTURE,
    FORUM,
    PASSPHRASE,
    STUDENTMODULE,
    member,
    write_package,
)

pytestmark = pytest.mark.e2e

PASSPHRASE_ENV = "TEST_OLX_SPARK_PASSPHRASE"
SELECT = ["tag:data_packages"]
MODELS_ONLY = ["--exclude-resource-type", "test"]
STAGING = [
    "stg__edxorg__s3__tables__auth_user",
    "stg__edxorg__s3__tables__auth_userprofile",
    "stg__edxorg__s3__tables__student_courseenrollment",
    "stg__edxorg__s3__tables__courseware_studentmodule",
    "stg__edxorg__s3__tables__certificates_generatedcertificate",
    "stg__edxorg__s3__tables__user_id_map",
    "stg__edxorg__s3__course_structure",
    "stg__edxorg__s3__forum_documents",
    "stg__edxorg__s3__data_package_files",
]
SNAPSHOTS = "int__edxorg__s3__data_package_latest_snapshots"

PROFILE = (
    "id\tuser_id\tname\tgender\tyear_of_birth\tlevel_of_education\tcountry\tallow_certificate\n"
    "5\t1\tAlice A.\tf\t1990\tm\tUS\t1\n"
    "6\t2\tBob B.\tNULL\tnot a year\t\tFR\t0\n"
)
ENROLLMENT = (
    "id\tuser_id\tcourse_id\tcreated\tis_active\tmode\n"
    f"100\t1\t{COURSE_ID}\t2024-01-01 10:00:00\t1\taudit\n"
    f"101\t2\t{COURSE_ID}\t2024-01-02 11:30:00.250000\t0\tverified\n"
)
ENROLLMENT_LATER = ENROLLMENT + f"102\t3\t{COURSE_ID}\tnot a date\tyes\taudit\n"
CERTIFICATES = (
    "id\tuser_id\tgrade\tcourse_id\tdistinction\tstatus\tname\tcreated_date\tmodified_date\tmode\n"
    f"7\t1\t0.87\t{COURSE_ID}\t0\tdownloadable\tAlice A.\t2024-02-01 00:00:00\t"
    "2024-02-02 12:00:00\tverified\n"
    f"8\t2\t\t{COURSE_ID}\t1\tnotpassing\tBob B.\t2024-02-01 00:00:00\tNULL\taudit\n"
)
USER_ID_MAP = "hash_id\tid\tusername\na1b2\t1\talice\nc3d4\t2\tbob\n"
USER_ID_MAP_LATER = "hash_id\tuser_id\tusername\na1b2\t1\talice\nc3d4\t2\tbob\ne5f6\t3\tcarol\n"


def block(block_type: str, name: str) -> str:
    return f"block-v1:MITx+6.00x+2024_T1+type@{block_type}+block@{name}"


def table(spark: SparkSession, config: Config, name: str) -> DataFrame:
    layer = "intermediate" if name.startswith("int__") else "staging"
    return spark.table(f"`{dbt_schema(config, layer)}`.`{name}`")


def rows(spark: SparkSession, config: Config, name: str, *columns: str) -> list[tuple[Any, ...]]:
    df = table(spark, config, name)
    return sorted(tuple(r) for r in df.select(*columns).collect())


def fingerprints(df: DataFrame) -> list[str]:
    """One hash per row over every column, sorted: equal lists, equal tables."""
    found = df.select(F.sha2(F.to_json(F.struct(*df.columns)), 256).alias("h")).collect()
    return sorted(r["h"] for r in found)


def snapshot(spark: SparkSession, config: Config) -> dict[str, list[str]]:
    return {name: fingerprints(table(spark, config, name)) for name in [*STAGING, SNAPSHOTS]}


def test_dbt_stages_data_packages(
    spark: SparkSession, config: Config, tmp_path: Path, gpg_keys: Any, monkeypatch: Any
) -> None:
    monkeypatch.setenv(PASSPHRASE_ENV, PASSPHRASE)
    src = tmp_path / "packages"
    enc = gpg_keys.encrypt
    write_package(
        src / "mitx-2024-01-07.zip",
        {
            member("auth_user"): enc(AUTH_USER),
            member("auth_userprofile"): enc(PROFILE),
            member("student_courseenrollment"): enc(ENROLLMENT),
            member("courseware_studentmodule"): enc(STUDENTMODULE),
            member("certificates_generatedcertificate"): enc(CERTIFICATES),
            member("user_id_map"): enc(USER_ID_MAP),
            f"{COURSE}-course_structure-prod-analytics.json.gpg": enc(COURSE_STRUCTURE),
            f"{COURSE}-prod.mongo.gpg": enc(FORUM),
        },
    )
    # A week later, unzipped and decrypted: auth_user identical (recorded as unchanged, not
    # written), enrollments with one more row, user_id_map naming its user id `user_id`.
    later = src / "mitx-2024-01-14"
    later.mkdir()
    for name, content in {
        "auth_user": AUTH_USER,
        "student_courseenrollment": ENROLLMENT_LATER,
        "user_id_map": USER_ID_MAP_LATER,
    }.items():
        (later / member(name).removesuffix(".gpg")).write_text(content)
    job = DataPackageJob(str(src), gnupg_home=gpg_keys.home, passphrase_env=PASSPHRASE_ENV)
    summary = run_data_packages(spark, config, job)
    assert (summary.loaded, summary.duplicates, summary.rejected) == (10, 1, 0), summary.render()

    # 1. The package models and every dbt test on them.
    assert run_transform(config, select=SELECT) == 0

    jan7, jan14 = date(2024, 1, 7), date(2024, 1, 14)
    assert rows(
        spark, config, "stg__edxorg__s3__tables__auth_user",
        "user_line_number", "courserun_id", "user_id", "user_username", "user_email",
        "user_is_staff", "user_is_active", "user_last_login", "user_joined_on", "user_package_date",
    ) == [
        (2, COURSE_ID, 1, "alice", "alice@example.org", False, None, "2024-01-02T03:04:05.000000Z", None, jan7),
        (3, COURSE_ID, 2, "bob", None, True, None, None, None, jan7),
    ]  # fmt: skip
    assert rows(
        spark, config, "stg__edxorg__s3__tables__auth_userprofile",
        "userprofile_id", "user_id", "user_full_name", "user_gender", "user_year_of_birth",
        "user_level_of_education", "user_address_country", "userprofile_allows_certificate",
    ) == [
        (5, 1, "Alice A.", "f", 1990, "m", "US", True),
        (6, 2, "Bob B.", None, None, "", "FR", False),
    ]  # fmt: skip
    assert rows(
        spark, config, "stg__edxorg__s3__tables__student_courseenrollment",
        "enrollment_package_date", "enrollment_id", "courserun_id", "user_id", "enrollment_mode",
        "enrollment_is_active", "enrollment_created_on",
    ) == [
        (jan7, 100, COURSE_ID, 1, "audit", True, "2024-01-01T10:00:00.000000Z"),
        (jan7, 101, COURSE_ID, 2, "verified", False, "2024-01-02T11:30:00.250000Z"),
        (jan14, 100, COURSE_ID, 1, "audit", True, "2024-01-01T10:00:00.000000Z"),
        (jan14, 101, COURSE_ID, 2, "verified", False, "2024-01-02T11:30:00.250000Z"),
        (jan14, 102, COURSE_ID, 3, "audit", True, None),
    ]  # fmt: skip
    module = rows(
        spark,
        config,
        "stg__edxorg__s3__tables__courseware_studentmodule",
        "studentmodule_id",
        "courserun_id",
        "user_id",
        "coursestructure_block_id",
        "coursestructure_block_category",
        "studentmodule_problem_grade",
        "studentmodule_problem_max_grade",
        "studentmodule_created_on",
    )
    assert module == [
        (10, COURSE_ID, 1, block("problem", "p1"), "problem", 0.5, None, None),
        (11, COURSE_ID, 2, block("problem", "p2"), "problem", None, None, None),
        (13, COURSE_ID, 1, block("video", "v1"), "video", None, None, None),
    ]  # the line with 4 fields is in the bad-lines table, not here
    assert rows(
        spark,
        config,
        "stg__edxorg__s3__tables__courseware_studentmodule",
        "studentmodule_id",
        "studentmodule_state_data",
    )[0] == (10, '{"answer": "a\\tb", "path": "C:\\\\temp"}')
    assert rows(
        spark, config, "stg__edxorg__s3__tables__certificates_generatedcertificate",
        "certificate_id", "user_id", "courserun_id", "certificate_grade", "certificate_status",
        "certificate_mode", "certificate_has_distinction", "certificate_created_on",
        "certificate_updated_on",
    ) == [
        (7, 1, COURSE_ID, 0.87, "downloadable", "verified", False, "2024-02-01T00:00:00.000000Z", "2024-02-02T12:00:00.000000Z"),
        (8, 2, COURSE_ID, None, "notpassing", "audit", True, "2024-02-01T00:00:00.000000Z", None),
    ]  # fmt: skip
    assert rows(
        spark,
        config,
        "stg__edxorg__s3__tables__user_id_map",
        "usermap_package_date",
        "user_hash_id",
        "user_id",
        "user_username",
    ) == [
        (jan7, "a1b2", 1, "alice"),
        (jan7, "c3d4", 2, "bob"),
        (jan14, "a1b2", 1, "alice"),
        (jan14, "c3d4", 2, "bob"),
        (jan14, "e5f6", 3, "carol"),
    ]
    assert rows(
        spark, config, "stg__edxorg__s3__course_structure",
        "coursestructure_block_id", "courserun_id", "coursestructure_block_category",
        "coursestructure_parent_block_id", "coursestructure_block_position",
        "coursestructure_block_title", "coursestructure_block_start_on",
        "coursestructure_block_is_graded",
    ) == [
        (block("chapter", "ch1"), COURSE_ID, "chapter", block("course", "course"), 0, "Week 1", None, None),
        (block("chapter", "ch2"), COURSE_ID, "chapter", block("course", "course"), 1, "Week 2", None, True),
        (block("course", "course"), COURSE_ID, "course", None, None, "Intro to CS", "2024-01-01T00:00:00.000000Z", None),
    ]  # fmt: skip
    assert rows(
        spark, config, "stg__edxorg__s3__forum_documents",
        "forumdocument_line_number", "forumdocument_type", "courserun_id", "user_id",
        "user_username", "forumdocument_comment_thread_id", "forumdocument_created_on",
        "forumdocument_updated_on",
    ) == [
        (1, "CommentThread", COURSE_ID, 1, "alice", None, "2024-01-01T00:00:00.000000Z", "2024-01-01T00:00:01.500000Z"),
        (2, "Comment", COURSE_ID, 2, "bob", "65a000000000000000000001", "2024-01-02T00:00:00.000000Z", "2024-01-02T00:00:00.000000Z"),
    ]  # fmt: skip
    raw_ledger = spark.table(f"`{config.warehouse.raw_schema}`.raw__edxorg__s3__data_package_files")
    ledger = rows(
        spark,
        config,
        "stg__edxorg__s3__data_package_files",
        "packagefile_kind",
        "packagefile_status",
    )
    assert len(ledger) == raw_ledger.count() == 13  # 11 files and 2 package rows
    assert ledger.count(("table", "unchanged")) == 1

    # The latest snapshot per course and table: the latest LOADED file. auth_user of the second
    # package is identical to the first's: the snapshot stays the first, current as of the second.
    latest = {r["packagefile_table_name"]: r for r in table(spark, config, SNAPSHOTS).collect()}
    assert sorted(latest) == sorted(
        [
            "auth_user", "auth_userprofile", "student_courseenrollment", "courseware_studentmodule",
            "certificates_generatedcertificate", "user_id_map", "course_structure", "forum",
        ]
    )  # fmt: skip
    columns = (
        "courserun_id", "packagefile_source_system", "packagefile_package_date",
        "packagefile_latest_package_date", "packagefile_loaded_file_count", "packagefile_row_count",
    )  # fmt: skip
    assert {name: tuple(latest[name][c] for c in columns) for name in latest} == {
        "auth_user": (COURSE_ID, "prod", jan7, jan14, 1, 2),  # unchanged on Jan 14
        "auth_userprofile": (COURSE_ID, "prod", jan7, jan7, 1, 2),
        "student_courseenrollment": (COURSE_ID, "prod", jan14, jan14, 2, 3),
        "courseware_studentmodule": (COURSE_ID, "prod", jan7, jan7, 1, 3),
        "certificates_generatedcertificate": (COURSE_ID, "prod", jan7, jan7, 1, 2),
        "user_id_map": (COURSE_ID, "prod", jan14, jan14, 2, 3),
        "course_structure": (COURSE_ID, "prod", jan7, jan7, 1, 3),
        "forum": (COURSE_ID, "prod", jan7, jan7, 1, 2),
    }
    assert latest["auth_user"]["packagefile_uri"].endswith(
        f"mitx-2024-01-07.zip!/{member('auth_user')}"
    )
    assert latest["student_courseenrollment"]["packagefile_uri"].endswith(
        f"mitx-2024-01-14/{member('student_courseenrollment').removesuffix('.gpg')}"
    )
    assert latest["forum"]["packagefile_target_table"] == "raw__edxorg__s3__forum_documents"
    # The rows of a snapshot: a staging model's file column joined to packagefile_uri.
    enrolled = table(spark, config, "stg__edxorg__s3__tables__student_courseenrollment").join(
        table(spark, config, SNAPSHOTS).where(
            "packagefile_table_name = 'student_courseenrollment'"
        ),
        F.col("enrollment_file_uri") == F.col("packagefile_uri"),
    )
    assert sorted(r["enrollment_id"] for r in enrolled.collect()) == [100, 101, 102]

    # 2. Run again with nothing new: every model is exactly what it was.
    before = snapshot(spark, config)
    assert run_transform(config, select=SELECT, extra=MODELS_ONLY) == 0
    assert snapshot(spark, config) == before

    # 3. A course run with packages and no archive: the course marts take its structure from
    # the newest package's course_structure (the course and its two chapters, in children
    # order), one course run however many packages carried one. A third package (plain) renames
    # the course.
    newest = src / "mitx-2024-01-21"
    newest.mkdir()
    (newest / f"{COURSE}-course_structure-prod-analytics.json").write_text(
        COURSE_STRUCTURE.replace('"Intro to CS"', '"Intro to CS, revised"')
    )
    assert run_data_packages(spark, config, job).loaded == 1
    marts = ["+marts__course_runs", "+marts__course_blocks"]  # with what they stand on
    assert run_transform(config, select=marts, extra=MODELS_ONLY) == 0
    marts_schema = dbt_schema(config, "marts")
    (course_run,) = spark.table(f"`{marts_schema}`.marts__course_runs").collect()
    assert (
        course_run["courserun_id"],
        course_run["courserun_org"],
        course_run["courserun_title"],
        course_run["courserun_start_on"],
        course_run["chapter_count"],
        course_run["courserun_structure_source"],
    ) == (
        COURSE_ID,
        "MITx",
        "Intro to CS, revised",
        "2024-01-01T00:00:00.000000Z",
        2,
        "course_structure",
    )
    blocks = spark.table(f"`{marts_schema}`.marts__course_blocks").orderBy("course_order_index")
    assert [
        (r["block_id"], r["course_order_index"], r["chapter_block_id"]) for r in blocks.collect()
    ] == [
        (block("course", "course"), 0, None),
        (block("chapter", "ch1"), 1, block("chapter", "ch1")),
        (block("chapter", "ch2"), 2, block("chapter", "ch2")),
    ]
