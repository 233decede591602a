"""The data package job's ledger as a run reads it: which rows make a package complete or a
file final, and what the ledger says about the listed packages (`LedgerState`), read with Spark
or, for a local session, straight from its Delta log with pyarrow (`read_ledger_without_spark`).

Apart from the job (`olx_spark.spark.data_packages`) because the check before Spark needs it
too, and because finality is one rule: the same one decides what is read again and which ledger
rows a later run may not overwrite (`LEDGER_IDENTITY`, `_final_row`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

import pyarrow as pa
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from olx_spark.config import Config
from olx_spark.olx.tables import ENTITIES, course_table_name
from olx_spark.packages import names
from olx_spark.packages.tables import (
    FIXED_TABLES,
    LEDGER_TABLE,
    PLATFORM,
    STATUS_LOADED,
    STATUS_REJECTED,
    STATUS_UNCHANGED,
)
from olx_spark.spark.precheck import read_ledger_columns
from olx_spark.spark.session import local_table_location

if TYPE_CHECKING:
    from olx_spark.spark.data_packages_plan import PackageUnit

FINAL_FILE = (STATUS_LOADED, STATUS_UNCHANGED)

Identity = tuple[str, int, int]  # (URI, size, modification time in microseconds)


@dataclass
class LedgerState:
    complete_packages: dict[Identity, int]  # package identity -> members it had
    final_files: set[Identity]  # (file_uri, source size, source time) already final


class LedgerRow(NamedTuple):
    """The ledger columns that decide what a run reads (`LEDGER_COLUMNS`), however read."""

    file_kind: str | None
    status: str | None
    retryable: bool | None
    file_uri: str | None
    source_uri: str | None
    source_size_bytes: int | None
    source_modified_micros: int | None  # `source_modified_at` in microseconds
    member_count: int | None


LEDGER_COLUMNS = [
    "file_kind",
    "status",
    "retryable",
    "file_uri",
    "source_uri",
    "source_size_bytes",
    "source_modified_at",
    "member_count",
]


def _is_final(row: LedgerRow) -> bool:
    """A file (or package) that needs no further reading: loaded, unchanged, or rejected for
    good (a `retryable` rejection is read again)."""
    return row.status in FINAL_FILE or (row.status == STATUS_REJECTED and not row.retryable)


def _final_file() -> Column:
    """`_is_final` as a Spark filter (it only narrows what is collected; `_is_final` decides)."""
    return F.col("status").isin(*FINAL_FILE) | (
        (F.col("status") == STATUS_REJECTED) & ~F.coalesce(F.col("retryable"), F.lit(False))
    )


# A package or file as listed (with the file inside it): a row final for it is never rewritten.
LEDGER_IDENTITY = ("file_kind", "file_uri", "source_uri", "source_size_bytes", "source_modified_at")


def _final_row(col: Callable[[str], Column]) -> Column:
    """`_is_final` as a condition on the row `col` gives the columns of (for the ledger MERGE)."""
    return col("status").isin(*FINAL_FILE) | (
        (col("status") == STATUS_REJECTED) & ~F.coalesce(col("retryable"), F.lit(False))
    )


def complete_packages(rows: Iterable[LedgerRow]) -> dict[Identity, int]:
    """Package identity (what was listed: URI, size, time) -> its member count, for every package
    the ledger has final (`loaded`, or `rejected` for good; not `incomplete`)."""
    return {
        (r.source_uri, r.source_size_bytes, r.source_modified_micros): int(r.member_count or 0)
        for r in rows
        if r.file_kind == names.KIND_PACKAGE
        and _is_final(r)
        and r.source_uri is not None
        and r.source_size_bytes is not None
        and r.source_modified_micros is not None
    }


def ledger_sources(
    units: list[PackageUnit], complete: dict[Identity, int], others: list[str]
) -> set[str]:
    """The listed objects whose files' ledger rows a run needs: zips not complete, loose files,
    and the files rejected while listing (`others`)."""
    sources = {u.zip.uri for u in units if u.zip and u.zip.identity not in complete}
    return sources | {f.uri for u in units for f in u.loose} | set(others)


def final_files(rows: Iterable[LedgerRow], sources: set[str]) -> set[Identity]:
    """(file_uri, listed size, listed time) of every file of `sources` the ledger has final."""
    return {
        (r.file_uri, r.source_size_bytes, r.source_modified_micros)
        for r in rows
        if r.file_kind is not None
        and r.file_kind != names.KIND_PACKAGE
        and r.source_uri in sources
        and _is_final(r)
        and r.file_uri is not None
        and r.source_size_bytes is not None
        and r.source_modified_micros is not None
    }


def ledger_state(
    rows: Iterable[LedgerRow], units: list[PackageUnit], others: list[str]
) -> LedgerState:
    """What the ledger says about these packages, from its rows however read (Spark or the Delta
    log directly): which are complete, which of their files are final."""
    rows = list(rows)
    complete = complete_packages(rows)
    return LedgerState(complete, final_files(rows, ledger_sources(units, complete, others)))


def _ledger_select() -> list[Column]:
    return [
        F.unix_micros(c).alias(c) if c == "source_modified_at" else F.col(c) for c in LEDGER_COLUMNS
    ]


def read_ledger_state(
    spark: SparkSession, ledger: DataFrame, units: list[PackageUnit], others: list[str]
) -> LedgerState:
    """`ledger_state` read with Spark. Only package rows and the rows of listed sources are read
    back (a semi-join), never content rows."""
    is_package = F.col("file_kind") == names.KIND_PACKAGE
    packages = [
        LedgerRow(*r)
        for r in ledger.where(is_package & _final_file()).select(*_ledger_select()).collect()
    ]
    sources = ledger_sources(units, complete_packages(packages), others)
    files: list[LedgerRow] = []
    if sources:
        wanted = spark.createDataFrame([(s,) for s in sorted(sources)], "source_uri string")
        files = [
            LedgerRow(*r)
            for r in ledger.where(~is_package & _final_file())
            .join(F.broadcast(wanted), "source_uri", "left_semi")
            .select(*_ledger_select())
            .collect()
        ]
    return ledger_state([*packages, *files], units, others)


def _job_tables(config: Config) -> list[tuple[str, str]]:
    """(name, local location) of the tables every run creates: the fixed package tables and the
    course tables (dump tables come and go with the dumps found, and are not needed to decide)."""
    tables = [*FIXED_TABLES, *(course_table_name(PLATFORM, e) for e in ENTITIES)]
    return [(name, local_table_location(config, name)) for name in tables]


def read_ledger_without_spark(
    config: Config, units: list[PackageUnit], others: list[str]
) -> LedgerState:
    """`ledger_state` of a local session's warehouse, read from the ledger's Delta log with
    pyarrow (raises whenever Spark must decide instead: `precheck.read_ledger_columns`)."""
    table = read_ledger_columns(
        config, _job_tables(config), local_table_location(config, LEDGER_TABLE), LEDGER_COLUMNS
    )
    columns = [
        table.column(c).cast(pa.int64()) if c == "source_modified_at" else table.column(c)
        for c in LEDGER_COLUMNS
    ]
    rows = zip(*(c.to_pylist() for c in columns), strict=True)
    return ledger_state((LedgerRow(*r) for r in rows), units, others)
