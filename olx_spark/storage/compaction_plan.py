"""Which Delta tables of a warehouse need compacting, read from their logs without Spark.

Every nightly run adds a few small files to the tables it writes: a day's partition of events,
one ledger row per file read, a staging model's merge. After a year of nights a table is
thousands of small files, and every reader pays per file (listing, opening, Parquet footers).
`olx-spark compact` rewrites only the partitions that hold at least `min_files` small files
(Delta's `OPTIMIZE ... WHERE`, `olx_spark.spark.compaction`). Deciding which ones needs only
the tables' logs, so this module reads them with pyarrow (`olx_spark.storage.delta_log`): when
nothing needs compacting the command ends without starting Spark, in about a second.

Tables are found as `olx_spark.storage.warehouse_tables` finds them, on a local folder or on S3.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import pyarrow as pa

from olx_spark.config import S3Config
from olx_spark.sql_literals import sql_identifier, sql_string
from olx_spark.storage.delta_log import (
    Snapshot,
    UnsupportedDeltaTable,
    load_snapshot,
    table_location,
)
from olx_spark.storage.warehouse_tables import WarehouseTable, list_tables

# Delta's OPTIMIZE rewrites the files smaller than `spark.databricks.delta.optimize.minFileSize`,
# packed smallest first into bins of at most `spark.databricks.delta.optimize.maxFileSize`
# (1 GiB), and only bins of two files or more. Its default minFileSize is 1 GiB, so a packed
# file stays "small" until it reaches 1 GiB and is rewritten again and again as nights add to
# it (a year of 60 MiB nights rewrote 8x the bytes it kept, tests/unit/test_compaction_plan.py).
# `olx-spark compact` counts, and has OPTIMIZE rewrite (`MIN_FILE_SIZE_CONF`, set for its
# statements), only files under 128 MiB: a packed file of 128 MiB or more is left as it is.
SMALL_FILE_BYTES = 128 * 1024**2
BIN_BYTES = 1024**3
MIN_FILE_SIZE_CONF = "spark.databricks.delta.optimize.minFileSize"
DEFAULT_MIN_FILES = 8


@dataclass(frozen=True)
class PartitionPlan:
    """One partition to rewrite (`values` is empty for a table without partitions)."""

    values: tuple[tuple[str, str | None], ...]
    small_files: int
    small_bytes: int


@dataclass(frozen=True)
class TablePlan:
    """A table's files now, and the partitions worth rewriting (none: leave it alone)."""

    table: WarehouseTable
    version: int
    partition_columns: tuple[str, ...]
    files: int
    partition_count: int
    most_small_files: int  # in any one partition
    partitions: tuple[PartitionPlan, ...]

    @property
    def needed(self) -> bool:
        return bool(self.partitions)

    def predicate(self) -> str | None:
        """The `OPTIMIZE ... WHERE` condition selecting exactly the planned partitions (None:
        the whole table, which has no partition columns)."""
        if not self.partition_columns:
            return None
        return " OR ".join(_partition_condition(p.values) for p in self.partitions)


def _partition_condition(values: tuple[tuple[str, str | None], ...]) -> str:
    # Partition values are strings in the log; Spark casts the literal to the column's type
    # (a DATE partition compares with '2024-01-01').
    terms = [
        f"{sql_identifier(column)} IS NULL"
        if value is None
        else f"{sql_identifier(column)} = {sql_string(value)}"
        for column, value in values
    ]
    return "(" + " AND ".join(terms) + ")"


def rewritable_files(sizes: list[int], bin_bytes: int = BIN_BYTES) -> int:
    """How many of these small files OPTIMIZE would rewrite: packed smallest first into bins of
    at most `bin_bytes`, the files of the bins holding two or more (a bin of one is left)."""
    rewritten = in_bin = 0
    bin_size = 0
    for size in sorted(sizes):
        if in_bin and bin_size + size > bin_bytes:
            rewritten += in_bin if in_bin > 1 else 0
            in_bin = bin_size = 0
        in_bin += 1
        bin_size += size
    return rewritten + (in_bin if in_bin > 1 else 0)


def plan_table(
    table: WarehouseTable,
    snapshot: Snapshot,
    min_files: int = DEFAULT_MIN_FILES,
    small_bytes: int = SMALL_FILE_BYTES,
    bin_bytes: int = BIN_BYTES,
) -> TablePlan:
    """The partitions of `snapshot` holding at least `min_files` files smaller than
    `small_bytes`, of which OPTIMIZE would rewrite some (`rewritable_files`); a table without
    partition columns is one partition."""
    sizes: dict[tuple[tuple[str, str | None], ...], list[int]] = defaultdict(list)
    partitions: set[tuple[tuple[str, str | None], ...]] = set()
    for data_file in snapshot.files:
        partitions.add(data_file.partition)
        if data_file.size < small_bytes:
            sizes[data_file.partition].append(data_file.size)
    planned = tuple(
        PartitionPlan(values, len(sizes[values]), sum(sizes[values]))
        for values in sorted(sizes, key=_sort_key)
        if len(sizes[values]) >= max(min_files, 2) and rewritable_files(sizes[values], bin_bytes)
    )
    return TablePlan(
        table=table,
        version=snapshot.version,
        partition_columns=snapshot.partition_columns,
        files=len(snapshot.files),
        partition_count=len(partitions),
        most_small_files=max((len(v) for v in sizes.values()), default=0),
        partitions=planned,
    )


def _sort_key(values: tuple[tuple[str, str | None], ...]) -> tuple[tuple[str, bool, str], ...]:
    return tuple((column, value is not None, value or "") for column, value in values)


@dataclass(frozen=True)
class WarehousePlan:
    """Every table looked at, and those that could not be read without Spark (with why)."""

    tables: tuple[TablePlan, ...]
    unreadable: tuple[tuple[WarehouseTable, str], ...]
    small_bytes: int = SMALL_FILE_BYTES  # the files counted: OPTIMIZE's minFileSize for it

    @property
    def needed(self) -> tuple[TablePlan, ...]:
        return tuple(t for t in self.tables if t.needed)


def plan_warehouse(
    warehouse: str,
    s3: S3Config,
    schemas: Iterable[str] | None = None,
    min_files: int = DEFAULT_MIN_FILES,
    small_bytes: int = SMALL_FILE_BYTES,
) -> WarehousePlan:
    """The compaction plan of every table in the warehouse (see `plan_table`)."""
    plans, unreadable = [], []
    for table in list_tables(warehouse, s3, schemas):
        try:
            snapshot = load_snapshot(table_location(table.uri, s3))
        except (UnsupportedDeltaTable, OSError, ValueError, KeyError, pa.ArrowException) as exc:
            # A log the reader cannot vouch for, or a damaged one: listed, never guessed at.
            unreadable.append((table, f"{type(exc).__name__}: {exc}"))
            continue
        plans.append(plan_table(table, snapshot, min_files, small_bytes))
    return WarehousePlan(tuple(plans), tuple(unreadable), small_bytes)
