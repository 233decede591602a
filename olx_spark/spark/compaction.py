"""`olx-spark compact`: rewrite the small files of the partitions that have piled them up.

The plan (which tables, which partitions) is made from the Delta logs without Spark
(`olx_spark.storage.compaction_plan`); Spark is started only when there is something to do,
and then runs Delta's `OPTIMIZE ... WHERE <those partitions>` table by table, holding every run
lock of the warehouse (`olx_spark.spark.run_lock`) so that no ingest writes meanwhile.
OPTIMIZE changes files, never rows: readers see the same rows before and after, and an older
snapshot keeps its files until `VACUUM` removes those older than the table's retention
(`--vacuum`; Delta's default is 7 days, which this never shortens).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from olx_spark.config import Config
from olx_spark.olx.tables import PLATFORMS
from olx_spark.spark import run_lock
from olx_spark.spark.session import conf_restored
from olx_spark.sql_literals import sql_identifier
from olx_spark.storage.compaction_plan import MIN_FILE_SIZE_CONF, TablePlan, WarehousePlan

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


@dataclass
class TableResult:
    """What compacting one table did."""

    table: str
    partitions: int
    files_removed: int = 0
    files_added: int = 0
    vacuumed: bool = False
    seconds: float = 0.0
    error: str = ""  # why it failed (the tables after it were not tried)


@dataclass
class CompactionSummary:
    tables_seen: int
    unreadable: list[tuple[str, str]]
    results: list[TableResult] = field(default_factory=list)
    spark_used: bool = False
    dry_run: bool = False
    planned: list[TablePlan] = field(default_factory=list)
    min_files: int = 0
    most_small_files: int = 0  # in any one partition of any table, before compacting
    seconds: float = 0.0

    def render(self) -> str:
        lines = []
        if not self.planned:
            lines.append(
                f"compact: nothing to compact in {self.tables_seen} tables (the most small files "
                f"in one partition: {self.most_small_files}; compacted from {self.min_files}); "
                "Spark not started"
            )
        elif self.dry_run:
            lines.append(f"compact (dry run): {len(self.planned)} of {self.tables_seen} tables")
            for plan in self.planned:
                files = sum(p.small_files for p in plan.partitions)
                lines.append(
                    f"  {plan.table.qualified:<58} {len(plan.partitions):>5} partitions, "
                    f"{files:>7,} small files"
                )
        else:
            lines.append(f"compact: {len(self.results)} of {self.tables_seen} tables rewritten")
            for r in self.results:
                if r.error:
                    lines.append(f"  {r.table:<58} FAILED: {r.error}")
                    continue
                lines.append(
                    f"  {r.table:<58} {r.partitions:>5} partitions, files {r.files_removed:>7,}"
                    f" -> {r.files_added:,}{', vacuumed' if r.vacuumed else ''} ({r.seconds:.1f}s)"
                )
            if self.failed:
                lines.append(
                    "compact: stopped at the failed table; the tables before it are compacted "
                    "(their rows unchanged). Fix what the error says and run it again."
                )
        for table, why in self.unreadable:
            lines.append(f"  skipped {table}: its log could not be read without Spark ({why})")
        lines.append(f"compact: done in {self.seconds:.1f}s")
        return "\n".join(lines)

    @property
    def failed(self) -> bool:
        return any(r.error for r in self.results)

    def to_dict(self) -> dict[str, Any]:
        return {
            "tables_seen": self.tables_seen,
            "spark_used": self.spark_used,
            "dry_run": self.dry_run,
            "min_files": self.min_files,
            "most_small_files": self.most_small_files,
            "planned": [
                {
                    "table": p.table.qualified,
                    "partitions": [dict(part.values) for part in p.partitions],
                    "small_files": sum(part.small_files for part in p.partitions),
                }
                for p in self.planned
            ],
            "results": [r.__dict__ for r in self.results],
            "unreadable": [{"table": t, "reason": why} for t, why in self.unreadable],
            "seconds": round(self.seconds, 3),
        }


def every_job_lock() -> tuple[str, ...]:
    """The run locks of every job that writes the raw tables: compaction takes them all."""
    jobs = [run_lock.course_archives(p) for p in PLATFORMS]
    return (*jobs, run_lock.DATA_PACKAGES, run_lock.TRACKING_LOGS, run_lock.XAPI)


def optimize_table(spark: SparkSession, plan: TablePlan) -> tuple[int, int]:
    """Delta's OPTIMIZE on the planned partitions of one table: (files removed, files added)."""
    statement = f"OPTIMIZE delta.{sql_identifier(plan.table.uri)}"
    predicate = plan.predicate()
    if predicate:
        statement += f" WHERE {predicate}"
    row = spark.sql(statement).collect()[0]
    metrics = row["metrics"]
    return int(metrics["numFilesRemoved"]), int(metrics["numFilesAdded"])


def compact(
    config: Config,
    plan: WarehousePlan,
    session: Callable[[Config], SparkSession],
    *,
    vacuum: bool = False,
    progress: Callable[[str], None] = print,
) -> list[TableResult]:
    """Rewrite the planned partitions of each table (and VACUUM it if asked), holding every run
    lock of the warehouse. `session` starts Spark (called only here, only with work to do)."""
    with run_lock.run_turn(config, *every_job_lock()):
        spark = session(config)
        with conf_restored(spark, MIN_FILE_SIZE_CONF):
            spark.conf.set(MIN_FILE_SIZE_CONF, str(plan.small_bytes))  # the files it counted
            return _optimize_planned(spark, plan, vacuum, progress)


def _optimize_planned(
    spark: SparkSession, plan: WarehousePlan, vacuum: bool, progress: Callable[[str], None]
) -> list[TableResult]:
    """OPTIMIZE (and VACUUM) each planned table in turn; the first failure is recorded in its
    result and ends the run."""
    results = []
    for index, table_plan in enumerate(plan.needed, start=1):
        started = time.monotonic()
        name = table_plan.table.qualified
        progress(f"compact: [{index}/{len(plan.needed)}] {name}")
        result = TableResult(table=name, partitions=len(table_plan.partitions))
        results.append(result)
        try:
            with run_lock.commit_conflicts_explained(f"compact {name}"):
                result.files_removed, result.files_added = optimize_table(spark, table_plan)
                if vacuum:
                    spark.sql(f"VACUUM delta.{sql_identifier(table_plan.table.uri)}").collect()
                    result.vacuumed = True
        except Exception as exc:  # recorded; the summary says what was done before it
            said = str(exc).strip().splitlines()[0][:500] if str(exc).strip() else ""
            result.error = f"{type(exc).__name__}: {said}"
            break
        finally:
            result.seconds = time.monotonic() - started
    return results
