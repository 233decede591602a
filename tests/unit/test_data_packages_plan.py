"""The data package job's "what is left to read" decision, without a JVM: which ledger rows make
a package complete or a file final, what a run plans from them, and that the check before
Spark hands every undecidable or unfinished case to Spark."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from olx_spark.config import Config, SparkConfig, WarehouseConfig
from olx_spark.packages.names import KIND_PACKAGE, KIND_TABLE
from olx_spark.packages.tables import STATUS_INCOMPLETE, STATUS_LOADED, STATUS_REJECTED
from olx_spark.spark.data_packages import DataPackageJob, ingest_data_packages
from olx_spark.spark.data_packages_ledger import LedgerRow, ledger_state
from olx_spark.spark.data_packages_plan import plan_run, plan_units
from olx_spark.storage.listing import SourceFile, to_micros

WHEN = datetime(2024, 1, 8, 12, 0, tzinfo=UTC)
MICROS = to_micros(WHEN)
ZIP = SourceFile("/p/mitx-2024-01-07.zip", 100, WHEN)
LOOSE = SourceFile("/p/mitx-2024-01-14/MITx-X-R-auth_user-prod-analytics.sql", 10, WHEN)
STRAY = SourceFile("/p/notes.csv", 5, WHEN)


class SessionWanted(Exception):
    pass


def no_session(config: Config) -> object:
    raise SessionWanted


def package_row(f: SourceFile, status: str, retryable: bool = False) -> LedgerRow:
    return LedgerRow(KIND_PACKAGE, status, retryable, f.uri, f.uri, f.size, MICROS, 3)


def file_row(f: SourceFile, status: str, retryable: bool = False, size: int = 0) -> LedgerRow:
    return LedgerRow(KIND_TABLE, status, retryable, f.uri, f.uri, size or f.size, MICROS, None)


def _plan(rows: list[LedgerRow]) -> tuple[set[tuple[str, int, int]], int, int]:
    units, listing_rows = plan_units([ZIP, LOOSE, STRAY], ".zip")
    others = [r["source_uri"] for r in listing_rows]
    plan = plan_run(units, listing_rows, ledger_state(rows, units, others))
    return plan.unchanged, plan.files_seen, plan.files_if_nothing_new


def test_a_run_over_final_rows_has_nothing_to_read():
    rows = [
        package_row(ZIP, STATUS_LOADED),
        file_row(LOOSE, "unchanged"),
        file_row(STRAY, STATUS_REJECTED),  # rejected for good
    ]
    unchanged, files_seen, files = _plan(rows)
    assert unchanged == {ZIP.identity, LOOSE.identity, STRAY.identity}
    assert (files_seen, files) == (4, 5)  # the zip counts its 3 members


@pytest.mark.parametrize(
    ("rows", "left"),
    [
        # an incomplete package (a member will be retried) is opened again
        (
            [
                package_row(ZIP, STATUS_INCOMPLETE, retryable=True),
                file_row(LOOSE, STATUS_LOADED),
                file_row(STRAY, STATUS_REJECTED),
            ],
            ZIP,
        ),
        # a file rejected as retryable (no key, storage error) is read again
        (
            [
                package_row(ZIP, STATUS_LOADED),
                file_row(LOOSE, STATUS_REJECTED, retryable=True),
                file_row(STRAY, STATUS_REJECTED),
            ],
            LOOSE,
        ),
        # a file listed with another size is a new version
        (
            [
                package_row(ZIP, STATUS_LOADED),
                file_row(LOOSE, STATUS_LOADED, size=11),
                file_row(STRAY, STATUS_REJECTED),
            ],
            LOOSE,
        ),
        # a rejection found while listing, not in the ledger yet, is written
        ([package_row(ZIP, STATUS_LOADED), file_row(LOOSE, STATUS_LOADED)], STRAY),
    ],
)
def test_anything_not_final_is_left_to_read(rows, left):
    unchanged, _, _ = _plan(rows)
    assert {ZIP.identity, LOOSE.identity, STRAY.identity} - unchanged == {left.identity}


def test_spark_decides_when_the_ledger_cannot_be_read_without_it(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("TEST_PASSPHRASE", "x")
    (tmp_path / "src").mkdir()
    (tmp_path / "gnupg").mkdir()
    config = Config(
        warehouse=WarehouseConfig(dir=str(tmp_path / "wh")), spark=SparkConfig(master="local[1]")
    )
    job = DataPackageJob(str(tmp_path / "src"), str(tmp_path / "gnupg"), "TEST_PASSPHRASE")
    with pytest.raises(SessionWanted):  # no tables yet: Spark creates them
        ingest_data_packages(config, job, no_session)  # type: ignore[arg-type]
