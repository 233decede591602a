"""`olx-spark compact`: the partitions that piled up small files are rewritten into one file
each, the others are left alone, rows never change, and with nothing to do it ends without
starting Spark."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from olx_spark.config import Config
from olx_spark.spark.compaction import compact
from olx_spark.storage.compaction_plan import plan_warehouse
from olx_spark.storage.delta_log import load_snapshot, table_location

# Appends per partition of the events table (None: the null partition), and per small table.
EVENTS = {"2024-01-01": 5, "it's": 4, None: 4, "2024-01-02": 2}  # 15 commits: a checkpoint
LEDGER_APPENDS = 4
SMALL_APPENDS = 2
MIN_FILES = 4


def _append(spark: Any, path: Path, rows: list[tuple[Any, ...]], schema: str, **kw: Any) -> None:
    writer = spark.createDataFrame(rows, schema).coalesce(1).write.format("delta").mode("append")
    if "partition" in kw:
        writer = writer.partitionBy(kw["partition"])
    writer.save(str(path))


def _tables(root: Path) -> dict[str, Path]:
    return {
        "events": root / "night_raw.db" / "events",
        "ledger": root / "night_raw.db" / "files",
        "small": root / "night_marts.db" / "summary",
    }


@pytest.fixture(scope="module")
def built(spark: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three path-based Delta tables in the catalog's folder layout, one file per append
    (written once; each test works on a copy: Delta's log holds relative paths)."""
    root = tmp_path_factory.mktemp("compaction") / "wh"
    tables = _tables(root)
    n = 0
    for day, appends in EVENTS.items():
        for _ in range(appends):
            n += 1
            _append(spark, tables["events"], [(n, day)], "id long, day string", partition="day")
    for i in range(LEDGER_APPENDS):
        row = (f"s3://logs/{i}.gz", i, date(2024, 1, 1))
        schema = "uri string, size long, retrieved_date date"  # a ledger, as the jobs write them
        _append(spark, tables["ledger"], [row], schema, partition="retrieved_date")
    for i in range(SMALL_APPENDS):
        _append(spark, tables["small"], [(i,)], "n long")
    return root


def _warehouse(built: Path, root: Path) -> dict[str, Path]:
    shutil.copytree(built, root)
    return _tables(root)


def _files_per_partition(path: Path) -> Counter[tuple[tuple[str, str | None], ...]]:
    snapshot = load_snapshot(table_location(str(path), Config().s3))
    return Counter(f.partition for f in snapshot.files)


def _rows(spark: Any, path: Path) -> list[tuple[Any, ...]]:
    return sorted(
        (tuple(r) for r in spark.read.format("delta").load(str(path)).collect()), key=repr
    )


def test_compact_rewrites_only_partitions_over_the_threshold(
    spark: Any, built: Path, base_config: Config, tmp_path: Path
) -> None:
    root = tmp_path / "wh"
    tables = _warehouse(built, root)
    config = replace(base_config, warehouse=replace(base_config.warehouse, dir=str(root)))
    before = {name: _rows(spark, path) for name, path in tables.items()}

    plan = plan_warehouse(str(root), config.s3, min_files=MIN_FILES)
    assert [t.table.qualified for t in plan.tables] == [
        "night_marts.summary",
        "night_raw.events",
        "night_raw.files",
    ]
    assert plan.unreadable == ()
    events, ledger = plan.needed
    assert events.table.qualified == "night_raw.events"
    assert [(p.values, p.small_files) for p in events.partitions] == [
        ((("day", None),), 4),
        ((("day", "2024-01-01"),), 5),
        ((("day", "it's"),), 4),
    ]
    assert events.predicate() == ("(`day` IS NULL) OR (`day` = '2024-01-01') OR (`day` = 'it\\'s')")
    assert (events.files, events.partition_count, events.most_small_files) == (15, 4, 5)
    assert ledger.table.qualified == "night_raw.files"
    # A DATE partition: the log's string value, which Spark casts to the column's type.
    assert ledger.predicate() == "(`retrieved_date` = '2024-01-01')"
    assert [p.small_files for p in ledger.partitions] == [4]

    said: list[str] = []
    results = compact(config, plan, lambda _: spark, progress=said.append)
    assert [(r.table, r.partitions, r.files_removed, r.files_added) for r in results] == [
        ("night_raw.events", 3, 13, 3),
        ("night_raw.files", 1, 4, 1),
    ]
    assert said == ["compact: [1/2] night_raw.events", "compact: [2/2] night_raw.files"]

    # The same rows; one file in each compacted partition, the others as they were.
    assert {name: _rows(spark, path) for name, path in tables.items()} == before
    assert _files_per_partition(tables["events"]) == {
        (("day", None),): 1,
        (("day", "2024-01-01"),): 1,
        (("day", "it's"),): 1,
        (("day", "2024-01-02"),): 2,
    }
    assert _files_per_partition(tables["ledger"]) == {(("retrieved_date", "2024-01-01"),): 1}
    assert _files_per_partition(tables["small"]) == {(): 2}
    assert plan_warehouse(str(root), config.s3, min_files=MIN_FILES).needed == ()
    again = plan_warehouse(str(root), config.s3, min_files=2)
    assert [p.table.qualified for p in again.needed] == ["night_marts.summary", "night_raw.events"]

    # A table without partitions: OPTIMIZE of the whole table (one schema only).
    marts = plan_warehouse(str(root), config.s3, schemas=["NIGHT_MARTS"], min_files=2)
    results = compact(config, marts, lambda _: spark, progress=said.append)
    assert [(r.table, r.partitions, r.files_removed, r.files_added) for r in results] == [
        ("night_marts.summary", 1, 2, 1)
    ]
    assert _files_per_partition(tables["small"]) == {(): 1}
    assert {name: _rows(spark, path) for name, path in tables.items()} == before


def test_compact_leaves_files_the_plan_does_not_count_as_small(
    spark: Any, built: Path, base_config: Config, tmp_path: Path
) -> None:
    """OPTIMIZE rewrites exactly the files the plan counted (it sets Delta's minFileSize to
    the plan's threshold): a file over it stays as it is, beside the packed small ones. Delta's
    own default (1 GiB) would have packed all six into one."""
    root = tmp_path / "wh"
    tables = _warehouse(built, root)
    config = replace(base_config, warehouse=replace(base_config.warehouse, dir=str(root)))
    rows = [(10_000 + i, "2024-01-01") for i in range(20_000)]
    _append(spark, tables["events"], rows, "id long, day string", partition="day")
    day = (("day", "2024-01-01"),)
    files = load_snapshot(table_location(str(tables["events"]), config.s3)).files
    sizes = sorted(f.size for f in files if f.partition == day)
    assert len(sizes) == 6 and sizes[-1] > 10 * sizes[-2]  # 5 one-row files and a large one
    large = next(f.path for f in files if f.partition == day and f.size == sizes[-1])
    threshold = sizes[-1] - 1
    before = _rows(spark, tables["events"])
    plan = plan_warehouse(str(root), config.s3, ["night_raw"], MIN_FILES, small_bytes=threshold)
    events = next(t for t in plan.needed if t.table.qualified == "night_raw.events")
    assert [(p.values, p.small_files) for p in events.partitions if p.values == day] == [(day, 5)]

    compact(config, plan, lambda _: spark, progress=lambda _: None)
    after = load_snapshot(table_location(str(tables["events"]), config.s3)).files
    assert sorted(f.size > threshold for f in after if f.partition == day) == [False, True]
    assert large in {f.path for f in after}  # the large file was not rewritten
    assert _rows(spark, tables["events"]) == before
    assert spark.conf.get("spark.databricks.delta.optimize.minFileSize", None) is None  # restored


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "olx_spark.cli", "compact", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_compact_command_without_work_does_not_start_spark(built: Path, tmp_path: Path) -> None:
    root = tmp_path / "wh"
    tables = _warehouse(built, root)
    before = _files_per_partition(tables["events"])

    dry = _cli("--warehouse", str(root), "--min-files", str(MIN_FILES), "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    summary = json.loads(dry.stdout)
    assert summary["spark_used"] is False and summary["results"] == []
    assert [(p["table"], p["small_files"]) for p in summary["planned"]] == [
        ("night_raw.events", 13),
        ("night_raw.files", 4),
    ]
    assert summary["planned"][0]["partitions"] == [
        {"day": None},
        {"day": "2024-01-01"},
        {"day": "it's"},
    ]
    assert _files_per_partition(tables["events"]) == before  # a dry run changes nothing

    nothing = _cli("--warehouse", str(root), "--min-files", "6")
    assert nothing.returncode == 0, nothing.stderr
    assert "nothing to compact in 3 tables" in nothing.stdout
    assert "the most small files in one partition: 5" in nothing.stdout
    assert "Spark not started" in nothing.stdout
    # A local session creates the embedded metastore in the warehouse: none was.
    assert not (root / "_metastore_db").exists()
    assert _files_per_partition(tables["events"]) == before

    missing = _cli("--warehouse", str(tmp_path / "nowhere"))
    assert missing.returncode == 2
    assert "no warehouse at" in missing.stderr and "--warehouse" in missing.stderr
    assert _cli("--warehouse", str(root), "--min-files", "1").returncode == 2
