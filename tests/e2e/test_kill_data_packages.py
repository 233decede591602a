"""A data package run killed in the middle of writing, then run again, leaves exactly the tables
of a clean run: no lost row, no duplicated row.

The job runs as the real console script in its own process group (driver, JVM, Python workers,
gpg), which is SIGKILLed as soon as its first content table has committed and before its ledger
has; the rerun, another process, must then replace what the killed run left. The clean run is
made in this test's own Spark session while the killed run is under way (one JVM start fewer,
and the two overlap), and every table of both warehouses is read back in full and compared row
for row, all columns but the retrieval time.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from olx_spark.packages.tables import COURSE_STRUCTURE_TABLE, FORUM_TABLE, LEDGER_TABLE
from olx_spark.spark.data_packages import DataPackageJob, run_data_packages
from tests.e2e.cli_commands import CLI, SCHEMA
from tests.e2e.killing import start_killer
from tests.packages_fixtures import (
    AUTH_USER,
    COURSE,
    COURSE_STRUCTURE,
    PASSPHRASE,
    STUDENTMODULE,
    member,
    write_package,
)

pytestmark = pytest.mark.e2e

PASSPHRASE_ENV = "TEST_OLX_SPARK_PASSPHRASE"
NOT_COMPARED = ("retrieved_at", "retrieved_date")  # when a run read the file: differs per run
# The first content table the job writes (tables go in name order). The fixed tables are created
# at version 0 before anything is read, so version 1 is the run's write.
FIRST_WRITE = (COURSE_STRUCTURE_TABLE, 1)


def _ingest_cmd(src: Path, warehouse: Path, gnupg_home: str) -> list[str]:
    return [
        *CLI,
        *("ingest", "data-packages", str(src)),
        *("--gnupg-home", gnupg_home, "--passphrase-env", PASSPHRASE_ENV),
        *("--warehouse", str(warehouse), "--json"),
    ]


def _tables_dir(warehouse: Path) -> Path:
    return warehouse / f"{SCHEMA}.db"


def _commit(warehouse: Path, table: str, version: int) -> Path:
    return _tables_dir(warehouse) / table / "_delta_log" / f"{version:020d}.json"


def _content(frame: Any) -> Counter[str]:
    """A table's rows as a multiset of canonical JSON texts (maps and arrays included)."""
    columns = [c for c in frame.columns if c not in NOT_COMPARED]
    return Counter(
        json.dumps(r.asDict(recursive=True), sort_keys=True, default=str)
        for r in frame.select(*columns).collect()
    )


def _written(tables: Iterable[str]) -> set[str]:
    return {t for t in tables if not t.startswith("raw__edxorg__s3__course_xml_")}


def test_killed_package_run_then_rerun_equals_one_clean_run(
    spark, config, tmp_path, gpg_keys, monkeypatch
):
    monkeypatch.setenv(PASSPHRASE_ENV, PASSPHRASE)
    src = tmp_path / "src"
    enc = gpg_keys.encrypt
    write_package(
        src / "mitx-2024-01-07.zip",
        {
            member("auth_user"): enc(AUTH_USER),
            member("courseware_studentmodule"): enc(STUDENTMODULE),  # one bad line
            f"{COURSE}-course_structure-prod-analytics.json.gpg": enc(COURSE_STRUCTURE),
        },
    )
    killed = tmp_path / "killed"
    command = _ingest_cmd(src, killed, gpg_keys.home)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}

    proc = subprocess.Popen(
        command,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    outcome: list[str] = []
    killer = start_killer(proc, _commit(killed, *FIRST_WRITE), outcome)
    try:
        clean = run_data_packages(
            spark, config, DataPackageJob(str(src), gpg_keys.home, PASSPHRASE_ENV)
        )
    finally:
        killer.join()
    assert outcome == ["killed"]
    # The kill landed after a content commit and before the ledger's.
    assert not _commit(killed, LEDGER_TABLE, 1).exists()
    assert (clean.files_seen, clean.loaded, clean.rejected) == (3, 3, 0)

    rerun = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    summary = json.loads(rerun.stdout[rerun.stdout.index("{") :])
    counts = ("files_seen", "loaded", "duplicates", "rejected", "rows_written")
    assert {k: summary[k] for k in counts} == {k: getattr(clean, k) for k in counts}

    # Every table the job wrote (the course tables stay empty: no course export here).
    # (Not the session's temporary views: dbt's `__dbt_tmp` views from other tests are listed too.)
    clean_tables = _written(
        t.name for t in spark.catalog.listTables(config.warehouse.raw_schema) if not t.isTemporary
    )
    killed_tables = _written(
        p.name for p in _tables_dir(killed).iterdir() if (p / "_delta_log").is_dir()
    )
    assert killed_tables == clean_tables
    empty: set[str] = set()
    for table in sorted(clean_tables):
        expected = _content(spark.table(f"`{config.warehouse.raw_schema}`.`{table}`"))
        got = _content(spark.read.format("delta").load(str(_tables_dir(killed) / table)))
        assert got == expected, table
        if not expected:
            empty.add(table)
    # 2 dump tables, the structure, the bad lines and the ledger have rows; no forum file here.
    assert (len(clean_tables), empty) == (6, {FORUM_TABLE})
