"""The data package job reading from a real S3 endpoint (moto's server on 127.0.0.1): a package
of GPG-encrypted files in a bucket prefix is listed with boto3, its members read by byte range
on the executors and decrypted by the real gpg; the tables and the ledger are read back exactly,
and a rerun finds nothing new without starting Spark."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from olx_spark.config import Config
from olx_spark.packages.tables import COURSE_STRUCTURE_TABLE, LEDGER_TABLE, dump_table_name
from olx_spark.spark.data_packages import DataPackageJob, ingest_data_packages
from tests.packages_fixtures import (
    AUTH_USER,
    COURSE,
    COURSE_ID,
    COURSE_STRUCTURE,
    PASSPHRASE,
    member,
    zip_bytes,
)
from tests.spark.test_s3_source import bucket  # noqa: F401  (the bucket fixture)

pytestmark = pytest.mark.spark

PASSPHRASE_ENV = "TEST_OLX_SPARK_PASSPHRASE"
STRUCTURE_MEMBER = f"{COURSE}-course_structure-prod-analytics.json.gpg"
ENROLLMENT = (
    "id\tuser_id\tcourse_id\tcreated\tis_active\tmode\n7\t1\tX\t2024-01-01 00:00:00\t1\taudit\n"
)


def no_session(_: Config) -> Any:
    raise AssertionError("a run with nothing new built a Spark session")


def _rows(spark: Any, config: Config, table: str, columns: str, order: str) -> list[tuple]:
    name = f"`{config.warehouse.raw_schema}`.`{table}`"
    return [tuple(r) for r in spark.sql(f"SELECT {columns} FROM {name} ORDER BY {order}").collect()]


def test_packages_load_from_a_bucket_prefix(
    spark,
    config,
    bucket,  # noqa: F811
    s3_config,
    gpg_keys,
    monkeypatch,
):
    monkeypatch.setenv(PASSPHRASE_ENV, PASSPHRASE)
    client, name = bucket
    enc = gpg_keys.encrypt
    package = zip_bytes(
        {
            member("auth_user"): enc(AUTH_USER),
            member("student_courseenrollment"): enc(ENROLLMENT),
            STRUCTURE_MEMBER: enc(COURSE_STRUCTURE),
        }
    )
    client.put_object(Bucket=name, Key="edx/packages/mitx-2024-01-07.zip", Body=package)
    client.put_object(Bucket=name, Key="edx/elsewhere/mitx-2024-01-14.zip", Body=b"not listed")
    s3 = replace(config, s3=s3_config)
    prefix = f"s3://{name}/edx/packages/"
    job = DataPackageJob(prefix, gnupg_home=gpg_keys.home, passphrase_env=PASSPHRASE_ENV)

    first = ingest_data_packages(s3, job, lambda _: spark)

    assert first.spark_used
    summary = first.summary
    assert (summary.files_seen, summary.loaded, summary.rejected, summary.warnings) == (3, 3, 0, [])
    package_uri = f"{prefix}mitx-2024-01-07.zip"
    assert _rows(
        spark,
        config,
        dump_table_name("auth_user"),
        "file_uri, line_number, id, username, email, last_login, course_id, package_date",
        "line_number",
    ) == [
        (f"{package_uri}!/{member('auth_user')}", 2, "1", "alice", "alice@example.org",
         "2024-01-02 03:04:05", COURSE_ID, date(2024, 1, 7)),
        (f"{package_uri}!/{member('auth_user')}", 3, "2", "bob", None, None, COURSE_ID,
         date(2024, 1, 7)),
    ]  # fmt: skip
    assert _rows(
        spark,
        config,
        dump_table_name("student_courseenrollment"),
        "id, user_id, source_course_id, created, is_active, mode, course_id",
        "id",
    ) == [("7", "1", "X", "2024-01-01 00:00:00", "1", "audit", COURSE_ID)]
    assert _rows(
        spark,
        config,
        COURSE_STRUCTURE_TABLE,
        "block_id, category, parent_block_id, position, source_system",
        "block_id",
    ) == [
        ("block-v1:MITx+6.00x+2024_T1+type@chapter+block@ch1", "chapter",
         "block-v1:MITx+6.00x+2024_T1+type@course+block@course", 0, "prod"),
        ("block-v1:MITx+6.00x+2024_T1+type@chapter+block@ch2", "chapter",
         "block-v1:MITx+6.00x+2024_T1+type@course+block@course", 1, "prod"),
        ("block-v1:MITx+6.00x+2024_T1+type@course+block@course", "course", None, None, "prod"),
    ]  # fmt: skip
    ledger = _rows(
        spark,
        config,
        LEDGER_TABLE,
        "file_uri, source_uri, file_kind, status, row_count, member_count, encrypted",
        "file_uri",
    )
    assert ledger == [
        (package_uri, package_uri, "package", "loaded", None, 3, None),
        (f"{package_uri}!/{member('auth_user')}", package_uri, "table", "loaded", 2, None, True),
        (f"{package_uri}!/{STRUCTURE_MEMBER}", package_uri, "course_structure", "loaded", 3,
         None, True),
        (f"{package_uri}!/{member('student_courseenrollment')}", package_uri, "table", "loaded",
         1, None, True),
    ]  # fmt: skip

    again = ingest_data_packages(s3, job, no_session)

    assert (again.spark_used, again.precheck) == (False, "nothing new")
    assert (again.summary.files_seen, again.summary.unchanged, again.summary.loaded) == (3, 3, 0)
    assert len(_rows(spark, config, LEDGER_TABLE, "file_uri", "file_uri")) == 4
