"""A run killed in the middle of writing, then run again, leaves no duplicate and no gap.

The job runs as the real console script in its own process group (driver and JVM), which is
SIGKILLed as soon as the first content table has committed and before the ledger has; the
rerun must then produce exactly the tables of an uninterrupted run (made in the test's own
Spark session while the other process runs; both warehouses are then read by that session).
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from olx_spark.olx.tables import ENTITIES, course_table_name
from olx_spark.spark.course_archives import CourseArchiveJob, run_course_archives
from tests.e2e.cli_commands import SCHEMA, ingest_archives
from tests.e2e.killing import start_killer
from tests.spark.courses import tiny_course, write_tar_gz

pytestmark = pytest.mark.e2e


def _commit(warehouse: Path, entity: str, version: int) -> Path:
    table = course_table_name("edxorg", entity)
    return warehouse / f"{SCHEMA}.db" / table / "_delta_log" / f"{version:020d}.json"


def _table_facts(spark: Any, source: Callable[[str], str]) -> dict[str, list]:
    """Per table: the ledger's (file, status) rows or the row count; and any duplicate block.
    `source(table)` says where a table is read from (a catalog name or a Delta path)."""
    parts = []
    for entity in ENTITIES:
        table = source(course_table_name("edxorg", entity))
        if entity == "archives":
            parts.append(
                f"SELECT '{entity}' AS t, concat(archive_uri, ' ', status) AS k, count(*) AS n "
                f"FROM {table} GROUP BY archive_uri, status"
            )
        else:
            parts.append(f"SELECT '{entity}' AS t, '' AS k, count(*) AS n FROM {table}")
    parts.append(
        "SELECT 'duplicate_blocks' AS t, concat_ws(' ', archive_sha256, block_id, "
        "CAST(is_draft AS STRING)) AS k, count(*) AS n "
        f"FROM {source(course_table_name('edxorg', 'blocks'))} "
        "GROUP BY archive_sha256, block_id, is_draft HAVING count(*) > 1"
    )
    rows = spark.sql(" UNION ALL ".join(parts) + " ORDER BY t, k").collect()
    facts: dict[str, list] = {entity: [] for entity in [*ENTITIES, "duplicate_blocks"]}
    for row in rows:
        facts[row["t"]].append((row["k"], row["n"]))
    return facts


def test_killed_run_then_rerun_equals_one_clean_run(spark, config, tmp_path):
    src = tmp_path / "src"
    for i in range(6):
        write_tar_gz(src / f"course{i}.tar.gz", tiny_course(f"R{i}"))
    killed_wh = tmp_path / "killed"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}

    proc = subprocess.Popen(
        ingest_archives(src, killed_wh),
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    outcome: list[str] = []
    killer = start_killer(proc, _commit(killed_wh, "blocks", 1), outcome)
    try:  # the clean run, in this process's session, while the other one runs to its kill
        clean = run_course_archives(spark, config, CourseArchiveJob(str(src), "edxorg", "prod"))
    finally:
        killer.join()
    assert outcome == ["killed"]
    assert (clean.loaded, clean.rejected) == (6, 0)
    # The kill landed between the first content commit and the ledger commit.
    assert not _commit(killed_wh, "archives", 1).exists()

    rerun = subprocess.run(
        ingest_archives(src, killed_wh),
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    summary = json.loads(rerun.stdout[rerun.stdout.index("{") :])
    assert (summary["loaded"], summary["unchanged"]) == (6, 0)

    tables = killed_wh / f"{SCHEMA}.db"
    killed = _table_facts(spark, lambda table: f"delta.`{tables / table}`")
    clean_facts = _table_facts(spark, lambda table: f"`{config.warehouse.raw_schema}`.{table}")
    assert killed["duplicate_blocks"] == [] and clean_facts["duplicate_blocks"] == []
    for entity in ENTITIES:
        if entity == "archives":
            uris = [(k.rsplit("/", 1)[-1], n) for k, n in killed[entity]]
            assert uris == [(f"course{i}.tar.gz loaded", 1) for i in range(6)]
        else:
            assert killed[entity] == clean_facts[entity], entity
    assert killed["blocks"] == [("", 36)]
