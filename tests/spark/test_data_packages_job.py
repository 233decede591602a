"""The data package job for real: local Spark, real gpg, Delta tables read back exactly.

One test walks a package's life, to keep Spark runs few: a first package (zip of .gpg files of
every kind, one encrypted to a key we do not have, one malformed line), a rerun that changes
nothing, a run "killed" before its ledger commit and run again, and a second package, already
unzipped and decrypted, where one file is identical (recorded, not written), one dump gains a
column, and an old-style course spells its id `org/course/run`.
"""

from __future__ import annotations

import json
import zipfile
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from olx_spark.config import Config
from olx_spark.packages.tables import BAD_LINES_TABLE, LEDGER_TABLE, dump_table_name
from olx_spark.spark import data_packages as data_packages_job
from olx_spark.spark.data_packages import DataPackageJob, run_data_packages
from olx_spark.spark.tasks import TaskSizing
from tests.packages_fixtures import (
    ASSESSMENT,
    AUTH_USER,
    COURSE,
    COURSE_ID,
    COURSE_STRUCTURE,
    EMAIL_OPT_IN,
    FORUM,
    PASSPHRASE,
    STUDENTMODULE,
    member,
    write_package,
)
from tests.spark.courses import tiny_course, write_tar_gz
from tests.spark.packing import record_task_counts

pytestmark = pytest.mark.spark

PASSPHRASE_ENV = "TEST_OLX_SPARK_PASSPHRASE"
OLD = "MITx-6.002x-2012_Fall"
OLD_STRUCTURE = json.dumps(
    {
        "i4x://MITx/6.002x/course/2012_Fall": {
            "category": "course",
            "children": ["i4x://MITx/6.002x/chapter/ch1"],
            "metadata": {"display_name": "Circuits"},
        },
        "i4x://MITx/6.002x/chapter/ch1": {"category": "chapter", "children": [], "metadata": {}},
    }
)


def _q(config: Config, table: str) -> str:
    return f"`{config.warehouse.raw_schema}`.`{table}`"


def _rows(spark: Any, config: Config, table: str, columns: str, order: str) -> list[tuple]:
    sql = f"SELECT {columns} FROM {_q(config, table)} ORDER BY {order}"
    return [tuple(r) for r in spark.sql(sql).collect()]


def _counts(spark: Any, config: Config, tables: list[str]) -> dict[str, int]:
    return {t: spark.table(_q(config, t)).count() for t in tables}


def test_packages_land_every_table_exactly_once(spark, config, tmp_path, gpg_keys, monkeypatch):
    monkeypatch.setenv(PASSPHRASE_ENV, PASSPHRASE)
    src = tmp_path / "src"
    course_tar = write_tar_gz(tmp_path / "course.tar.gz", tiny_course()).read_bytes()
    enc = gpg_keys.encrypt
    write_package(
        src / "mitx-2024-01-07.zip",
        {
            member("auth_user"): enc(AUTH_USER),
            member("courseware_studentmodule"): enc(STUDENTMODULE),
            member("assessment_assessment", ora=True): enc(ASSESSMENT),
            f"{COURSE}-course_structure-prod-analytics.json.gpg": enc(COURSE_STRUCTURE),
            f"{COURSE}-prod.mongo.gpg": enc(FORUM),
            "MITx-email_opt_in-prod-analytics.csv.gpg": enc(EMAIL_OPT_IN),
            f"{COURSE}-course-prod.xml.tar.gz.gpg": enc(course_tar),
            member("student_courseenrollment"): enc("id\tuser_id\n1\t1\n", to_other=True),
        },
    )
    job = DataPackageJob(str(src), gnupg_home=gpg_keys.home, passphrase_env=PASSPHRASE_ENV)

    task_counts = record_task_counts(monkeypatch, data_packages_job)
    first = run_data_packages(spark, config, job)

    # Read tasks sized by Spark's split rule for the session (a member weighs its stored,
    # compressed size), not one per file: 8 small members on 2 cores are 2 tasks.
    with zipfile.ZipFile(src / "mitx-2024-01-07.zip") as package:
        sizes = [info.compress_size for info in package.infolist()]
    sizing = TaskSizing.of(spark).task_count(sizes)
    assert task_counts == [sizing] and sizing == 2

    assert (first.files_seen, first.loaded, first.rejected, first.duplicates) == (8, 7, 1, 0)
    assert first.loaded_with_errors == 2  # studentmodule and forum each have one bad line
    rendered = first.render()
    assert "no_secret_key" in rendered and "line 4: 4 fields" in rendered
    assert PASSPHRASE not in rendered and PASSPHRASE not in first.to_json()
    assert _rows(
        spark,
        config,
        dump_table_name("auth_user"),
        "id, username, email, is_staff, last_login, course_id, source_system, package_date, "
        "line_number",
        "line_number",
    ) == [
        ("1", "alice", "alice@example.org", "0", "2024-01-02 03:04:05", COURSE_ID, "prod",
         date(2024, 1, 7), 2),
        ("2", "bob", None, "1", None, COURSE_ID, "prod", date(2024, 1, 7), 3),
    ]  # fmt: skip
    module = _rows(
        spark,
        config,
        dump_table_name("courseware_studentmodule"),
        "line_number, id, state, grade, source_course_id",
        "line_number",
    )
    assert module == [
        (2, "10", '{"answer": "a\\tb", "path": "C:\\\\temp"}', "0.5", COURSE_ID),
        (3, "11", '{"say": "\\"hi\\"", "lines": "one\\ntwo"}', "tab\there\nnew\\line", COURSE_ID),
        (5, "13", None, "", COURSE_ID),
    ]
    assert json.loads(module[1][2]) == {"say": '"hi"', "lines": "one\ntwo"}
    columns = spark.table(_q(config, dump_table_name("courseware_studentmodule"))).columns
    assert columns[:9] == [
        "source_system",
        "course_id",
        "file_uri",
        "file_sha256",
        "retrieved_at",
        "retrieved_date",
        "package_date",
        "line_number",
        "id",
    ]
    assert _rows(spark, config, dump_table_name("assessment_assessment"), "*", "id")[0][-3:] == (
        "7",
        "abc-123",
        "2024-01-03 00:00:00",
    )
    assert _rows(
        spark, config, dump_table_name("email_opt_in"), "full_name, course_id, line_number", "1"
    ) == [("Alice, A.", None, 2), ('Bob "B" Jones', None, 3)]
    structure = _rows(
        spark,
        config,
        "raw__edxorg__s3__course_structure",
        "category, parent_block_id IS NULL, position, course_id",
        "block_id",
    )
    assert structure == [
        ("chapter", False, 0, COURSE_ID),
        ("chapter", False, 1, COURSE_ID),
        ("course", True, None, COURSE_ID),
    ]
    forum = _rows(
        spark,
        config,
        "raw__edxorg__s3__forum_documents",
        "document_type, author_username, comment_thread_id, CAST(created_at AS STRING), line_number",
        "line_number",
    )
    assert forum == [
        ("CommentThread", "alice", None, "2024-01-01 00:00:00", 1),
        ("Comment", "bob", "65a000000000000000000001", "2024-01-02 00:00:00", 2),
    ]
    assert _rows(
        spark, config, BAD_LINES_TABLE, "target_table, line_number, reason, line", "target_table"
    ) == [
        ("raw__edxorg__s3__forum_documents", 3, "not valid JSON (Expecting value: line 1 column 1 (char 0))", "this is not json"),
        (dump_table_name("courseware_studentmodule"), 4, "4 fields where the header has 7", "12\tproblem\tbad\tline"),
    ]  # fmt: skip
    assert spark.table(_q(config, "raw__edxorg__s3__course_xml_blocks")).count() == 6
    ledger = {
        r["member_path"]: r
        for r in spark.table(_q(config, LEDGER_TABLE)).collect()
        if r["member_path"]
    }
    rejected = ledger[member("student_courseenrollment")]
    assert (rejected["status"], rejected["retryable"]) == ("rejected", True)
    assert rejected["errors"][0]["kind"] == "no_secret_key"
    assert PASSPHRASE not in repr(spark.table(_q(config, LEDGER_TABLE)).collect())
    assert "4 fields" in ledger[member("courseware_studentmodule")]["errors"][0]["message"]
    (package,) = spark.sql(
        f"SELECT status, member_count FROM {_q(config, LEDGER_TABLE)} WHERE file_kind = 'package'"
    ).collect()
    assert tuple(package) == ("incomplete", 8)  # the file we have no key for is retried
    content = [
        dump_table_name(t)
        for t in ("auth_user", "courseware_studentmodule", "assessment_assessment", "email_opt_in")
    ] + [
        "raw__edxorg__s3__course_structure",
        "raw__edxorg__s3__forum_documents",
        BAD_LINES_TABLE,
        "raw__edxorg__s3__course_xml_blocks",
    ]
    counts = _counts(spark, config, content)

    # A rerun reads only the file that must be retried, and writes nothing else.
    again = run_data_packages(spark, config, job)
    assert (again.files_seen, again.unchanged, again.loaded, again.rejected) == (8, 7, 0, 1)
    assert _counts(spark, config, content) == counts

    # A run killed before its ledger commit: the content was written, the ledger was not.
    spark.sql(f"DELETE FROM {_q(config, LEDGER_TABLE)}")
    redo = run_data_packages(spark, config, job)
    # The course export's bytes are in the course archive ledger (committed before ours): it is
    # a duplicate now, the rest loads again, replacing what the killed run wrote.
    assert (redo.loaded, redo.duplicates) == (6, 1)
    assert _counts(spark, config, content) == counts

    # The second package, unzipped and decrypted: auth_user identical, a new column, an old course.
    second = src / "mitx-2024-01-14"
    second.mkdir()
    (second / member("auth_user").removesuffix(".gpg")).write_text(AUTH_USER)
    (second / member("courseware_studentmodule").removesuffix(".gpg")).write_text(
        "id\tstate\tdone\n14\t{}\tNA\n"
    )
    (second / f"{OLD}-course_structure-prod-analytics.json").write_text(OLD_STRUCTURE)
    (second / member("auth_user", course=OLD).removesuffix(".gpg")).write_text(AUTH_USER)

    later = run_data_packages(spark, config, job)

    assert (later.loaded, later.duplicates) == (3, 1)
    assert (
        spark.sql(
            f"SELECT count(*) FROM {_q(config, dump_table_name('auth_user'))} WHERE course_id = '{COURSE_ID}'"
        ).first()[0]
        == 2
    )
    assert _rows(
        spark,
        config,
        dump_table_name("courseware_studentmodule"),
        "id, state, done, grade",
        "package_date, line_number",
    ) == [
        ("10", '{"answer": "a\\tb", "path": "C:\\\\temp"}', None, "0.5"),
        ("11", '{"say": "\\"hi\\"", "lines": "one\\ntwo"}', None, "tab\there\nnew\\line"),
        ("13", None, None, ""),
        ("14", "{}", "NA", None),
    ]
    old = _rows(spark, config, dump_table_name("auth_user"), "DISTINCT course_id", "course_id")
    assert old == [("MITx/6.002x/2012_Fall",), (COURSE_ID,)]
    statuses = {
        Path(r["member_path"]).name: r["status"]
        for r in spark.table(_q(config, LEDGER_TABLE))
        .where("package_date = '2024-01-14'")
        .collect()
        if r["member_path"]
    }
    assert statuses[member("auth_user").removesuffix(".gpg")] == "unchanged"
