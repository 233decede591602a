"""The compaction plan without Spark: which partitions OPTIMIZE would actually rewrite (Delta packs
small files, smallest first, into bins of at most 1 GiB and leaves bins of one file alone)."""

from __future__ import annotations

from olx_spark.sql_literals import sql_identifier, sql_string
from olx_spark.storage.compaction_plan import (
    BIN_BYTES,
    SMALL_FILE_BYTES,
    plan_table,
    rewritable_files,
)
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
    # with OPTIMIZE's own default (every file under 1 GiB is small): the 0.6 GiB files are
    # small, but no two share a bin, so their partition is not planned
    plan = plan_table(TABLE, snapshot, min_files=8, small_bytes=GIB)
    assert [(p.values, p.small_files, p.small_bytes) for p in plan.partitions] == [
        ((("d", "2024-01-02"),), 8, 800)
    ]
    assert plan.predicate() == "(`d` = '2024-01-02')"
    assert (plan.files, plan.partition_count, plan.most_small_files) == (19, 3, 8)
    # files at the threshold or over are not small: not counted, not rewritten
    assert plan_table(TABLE, _snapshot({"x": [GIB] * 9}), small_bytes=GIB).partitions == ()
    # the plan's own threshold (128 MiB): the 0.6 GiB files are not even counted
    large = _snapshot({"2024-01-01": [big] * 8})
    assert plan_table(TABLE, large, small_bytes=GIB).most_small_files == 8
    assert plan_table(TABLE, large).most_small_files == 0
    assert plan_table(TABLE, _snapshot({"x": [SMALL_FILE_BYTES] * 9})).partitions == ()
    assert len(plan_table(TABLE, _snapshot({"x": [SMALL_FILE_BYTES - 1] * 9})).partitions) == 1


def test_sql_literals_and_identifiers_are_quoted() -> None:
    assert sql_string("it's a \\ path") == "'it\\'s a \\\\ path'"
    assert sql_identifier("s3a://b/wh/x.db/we`ird") == "`s3a://b/wh/x.db/we``ird`"


def _optimize(
    files: list[DataFile], partition: tuple[tuple[str, str | None], ...], min_file_size: int
) -> list[DataFile]:
    """What Delta's OPTIMIZE does to one partition, as its docs say: the files under
    `min_file_size` packed smallest first into bins of at most 1 GiB, each bin of two or more
    files rewritten as one file of their total size, the rest left as they are."""
    kept = [f for f in files if f.partition != partition]
    mine = [f for f in files if f.partition == partition]
    small = sorted((f for f in mine if f.size < min_file_size), key=lambda f: f.size)
    bins: list[list[DataFile]] = []
    for data_file in small:
        if bins and sum(f.size for f in bins[-1]) + data_file.size <= BIN_BYTES:
            bins[-1].append(data_file)
        else:
            bins.append([data_file])
    rewritten = [f for f in mine if f.size >= min_file_size]
    for number, packed in enumerate(bins):
        if len(packed) == 1:
            rewritten.append(packed[0])
        else:
            path = f"{packed[0].path}.optimized-{number}"
            rewritten.append(DataFile(path, sum(f.size for f in packed), partition))
    return kept + rewritten


def _nights(nightly: list[int], nights: int, small_bytes: int) -> tuple[list[DataFile], int, int]:
    """`nights` nights appending files of these sizes to an unpartitioned table, `olx-spark
    compact`'s plan carried out after each as OPTIMIZE would with the minFileSize it sets:
    the files after, the bytes rewritten on the way, and the most files under `small_bytes`
    left after any night's compaction."""
    files: list[DataFile] = []
    rewritten = most_small = 0
    for night in range(nights):
        files += [DataFile(f"n{night}-{i}.parquet", size, ()) for i, size in enumerate(nightly)]
        snapshot = Snapshot(
            version=night,
            data_files=tuple(f.path for f in files),
            partition_columns=(),
            schema={"type": "struct", "fields": []},
            configuration={},
            files=tuple(files),
        )
        before = {f.path: f.size for f in files}
        plan = plan_table(TABLE, snapshot, min_files=8, small_bytes=small_bytes)
        for partition in plan.partitions:
            files = _optimize(files, partition.values, min_file_size=small_bytes)
        kept = {f.path for f in files}
        rewritten += sum(size for path, size in before.items() if path not in kept)
        assert sum(f.size for f in files) == sum(nightly) * (night + 1)  # no byte lost or doubled
        most_small = max(most_small, sum(1 for f in files if f.size < small_bytes))
    return files, rewritten, most_small


def test_a_year_of_nights_keeps_files_bounded_and_rewrites_little() -> None:
    """365 nights of a staging model's merge (3 files of 20 MiB a night, unpartitioned) with
    `olx-spark compact` after each. Without compaction: 1,095 files after the year. With
    Delta's default minFileSize (1 GiB) a packed file stays small until it reaches 1 GiB and is
    rewritten night after night: few files, but over 7x the year's bytes rewritten. With the
    128 MiB the plan counts and sets, a packed file (180 MiB here) is never rewritten again:
    each byte is rewritten once."""
    mib = 1024**2
    year = 365 * 60 * mib  # 21.4 GiB
    files, rewritten, most_small = _nights([20 * mib] * 3, 365, small_bytes=GIB)
    assert len(files) <= 25 and rewritten > 7 * year
    assert most_small > 8  # the packed files under 1 GiB: compacted again every night
    files, rewritten, most_small = _nights([20 * mib] * 3, 365, small_bytes=SMALL_FILE_BYTES)
    assert most_small < 8  # the threshold is never reached before the night's compaction
    # By hand: 3, 6, then 9 small files on the third night -> one file of 180 MiB, never
    # small again; so 121 such files after 363 nights, and the last 2 nights' 6 files.
    packed = [f for f in files if f.size >= SMALL_FILE_BYTES]
    assert [f.size for f in packed] == [180 * mib] * 121
    assert len(files) == 121 + 6  # not 1,095
    assert rewritten == 121 * 180 * mib  # each byte rewritten once, or not yet
