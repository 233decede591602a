"""A data package rerun with nothing new never starts Spark: the ledger, read straight from its
Delta log with pyarrow, says the same as Spark reads from it, and a run over packages already
loaded (a zip, an unzipped folder, files rejected for good) ends without a session and counts
what a run on Spark counts. Anything new, and the run goes to Spark."""

from __future__ import annotations

from typing import Any

import pytest

from olx_spark.config import Config
from olx_spark.packages.tables import LEDGER_TABLE
from olx_spark.spark.data_packages import DataPackageJob, ingest_data_packages, run_data_packages
from olx_spark.spark.data_packages_ledger import read_ledger_state, read_ledger_without_spark
from olx_spark.spark.data_packages_plan import plan_units
from olx_spark.spark.delta import qualified, table_location
from olx_spark.storage.listing import list_source
from tests.packages_fixtures import (
    AUTH_USER,
    COURSE,
    COURSE_STRUCTURE,
    PASSPHRASE,
    STUDENTMODULE,
    member,
    write_package,
)

pytestmark = pytest.mark.spark

PASSPHRASE_ENV = "TEST_OLX_SPARK_PASSPHRASE"


def no_session(_: Config) -> Any:
    raise AssertionError("a run with nothing new built a Spark session")


def _counts(summary: Any) -> tuple[int, int, int, int, int]:
    return (
        summary.files_seen,
        summary.unchanged,
        summary.loaded,
        summary.duplicates,
        summary.rejected,
    )


def test_rerun_over_loaded_packages_starts_no_spark(spark, config, tmp_path, gpg_keys, monkeypatch):
    monkeypatch.setenv(PASSPHRASE_ENV, PASSPHRASE)
    src = tmp_path / "src"
    enc = gpg_keys.encrypt
    write_package(
        src / "mitx-2024-01-07.zip",
        {
            member("auth_user"): enc(AUTH_USER),
            f"{COURSE}-course_structure-prod-analytics.json.gpg": enc(COURSE_STRUCTURE),
        },
    )
    unzipped = src / "mitx-2024-01-14"
    unzipped.mkdir()
    # The same content as the zip's auth_user: recorded `unchanged`, a final status too.
    (unzipped / member("auth_user").removesuffix(".gpg")).write_text(AUTH_USER)
    (src / "notes.csv").write_text("not in a package\n")  # rejected for good
    (src / "weekly.zip").write_bytes(b"not named like a package")  # rejected for good
    job = DataPackageJob(str(src), gnupg_home=gpg_keys.home, passphrase_env=PASSPHRASE_ENV)

    first = run_data_packages(spark, config, job)
    assert _counts(first) == (5, 0, 2, 1, 2)

    # The ledger read without Spark is the ledger Spark reads.
    files = list_source(str(src), config.packages.suffixes, config.s3)
    units, listing_rows = plan_units(files, config.packages.package_suffix)
    others = [r["source_uri"] for r in listing_rows]
    ledger = spark.read.format("delta").load(
        table_location(spark, qualified(config.warehouse.raw_schema, LEDGER_TABLE))
    )
    direct = read_ledger_without_spark(config, units, others)
    assert direct == read_ledger_state(spark, ledger, units, others)
    assert len(direct.complete_packages) == 3  # the zip, the folder and the misnamed zip
    assert len(direct.final_files) == 2  # the unzipped file and notes.csv

    on_spark = run_data_packages(spark, config, job)  # what a rerun on Spark reports
    outcome = ingest_data_packages(config, job, no_session)

    assert (outcome.spark_used, outcome.precheck) == (False, "nothing new")
    assert _counts(outcome.summary) == _counts(on_spark) == (5, 5, 0, 0, 0)
    assert outcome.summary.rows_written == on_spark.rows_written == {}
    assert "nothing new to load" in outcome.summary.render()

    # A new file in the unzipped package: Spark reads it (and only it).
    (unzipped / member("courseware_studentmodule").removesuffix(".gpg")).write_text(STUDENTMODULE)
    outcome = ingest_data_packages(config, job, lambda _: spark)

    assert (outcome.spark_used, outcome.precheck) == (True, "1 new or changed files")
    assert _counts(outcome.summary) == (6, 5, 1, 0, 0)
    assert ingest_data_packages(config, job, no_session).precheck == "nothing new"
