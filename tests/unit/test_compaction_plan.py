"""The compaction plan without Spark: which partitions OPTIMIZE would actually rewrite (Delta packs
small files, smallest first, into bins of at most 1 GiB and leaves bins of one file alone)."""

from __future__ import annotations

from olx_spark.sql_literals import sql_identifier, sql_string
from olx_spark.storage.compaction_plan import plan_table, rewritable_files
from olx_spark.storage.delta_log import DataFile, Snapshot
from olx_spark.storage.warehouse_tables import WarehouseTable

GIB = 1024**3
TABLE = WarehouseTable("s_raw", "t", "/wh/s_raw.db/t")


def _snapshot(partitions: dict[str, list[int]]) -> Snapshot:
    files = tuple(
        DataFile(f"d={day}/part-{i}.parquet", size, (("d", day),))
        for day, sizes in partitions.items()
        for i, size in enumerate(sizes)
    )
    return Snapshot(
        version=3,
        data_files=tuple(f.path for f in files),
        partition_columns=("d",),
        schema={"type": "struct", "fields": []},
        configuration={},
        files=files,
    )


def test_rewritable_files_follow_deltas_bins() -> None:
    assert rewritable_files([]) == 0
    assert rewritable_files([5]) == 0  # a bin of one file is left as it is
    assert rewritable_files([1, 2, 3]) == 3
    big = int(0.6 * GIB)
    assert rewritable_files([big] * 8) == 0  # no two fit in one bin
    # smallest first: 10 + 10 + 0.6 GiB share a bin; each other 0.6 GiB file is alone
    assert rewritable_files([big] * 8 + [10, 10]) == 3
    assert rewritable_files([GIB // 2, GIB // 2, GIB // 2]) == 2  # exactly full, then one left


def test_a_partition_of_large_files_is_not_planned_night_after_night() -> None:
    big = int(0.6 * GIB)
    snapshot = _snapshot({"2024-01-01": [big] * 8, "2024-01-02": [100] * 8, "2024-01-03": [7] * 3})
    plan = plan_table(TABLE, snapshot, min_files=8)
    assert [(p.values, p.small_files, p.small_bytes) for p in plan.partitions] == [
        ((("d", "2024-01-02"),), 8, 800)
    ]
    assert plan.predicate() == "(`d` = '2024-01-02')"
    assert (plan.files, plan.partition_count, plan.most_small_files) == (19, 3, 8)
    # files of 1 GiB or more are not small: not counted, not rewritten
    assert plan_table(TABLE, _snapshot({"x": [GIB] * 9}), min_files=8).partitions == ()


def test_sql_literals_and_identifiers_are_quoted() -> None:
    assert sql_string("it's a \\ path") == "'it\\'s a \\\\ path'"
    assert sql_identifier("s3a://b/wh/x.db/we`ird") == "`s3a://b/wh/x.db/we``ird`"
