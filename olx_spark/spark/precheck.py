"""Deciding "nothing new" before starting Spark, shared by the ingest jobs.

A rerun with nothing new should cost a listing and a read of the ledger, not a JVM start and a
cold first query (benchmarks/RESULTS.md: 0.5 s instead of 16-40 s). For a local session the
jobs' tables sit at known paths, so their ledger can be read straight from its Delta log with
pyarrow (`olx_spark.storage.delta_log`); anything that cannot be trusted that way raises and
the job lets Spark decide.

It is also where an ingest takes its turn on the warehouse (`olx_spark.spark.run_lock`): the
Spark part of a run holds the job's run lock, and a run that had to wait for another one checks
again first, since what the other run loaded is no longer new.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

import pyarrow as pa
import pyarrow.fs as pafs

from olx_spark.config import Config
from olx_spark.spark.run_lock import commit_conflicts_explained, run_turn
from olx_spark.storage.delta_log import UnsupportedDeltaTable, read_columns
from olx_spark.storage.delta_log import table_location as delta_log_location
from olx_spark.storage.listing import SourceFile, is_s3
from olx_spark.summary import IngestSummary


class _Ledger(Protocol):
    unchanged: set[tuple[str, int, int]]  # SourceFile.identity of every file already read


@dataclass(frozen=True)
class IngestOutcome:
    """A run's summary, and whether it needed a Spark session (and if not, why not)."""

    summary: IngestSummary
    spark_used: bool
    precheck: str  # what the check before Spark found, in words


def read_ledger_columns(
    config: Config, tables: Iterable[tuple[str, str]], ledger: str, columns: Sequence[str]
) -> pa.Table:
    """`columns` of the ledger table at location `ledger`, read from its Delta log with pyarrow.

    `tables` are the job's (name, local location) pairs. Raises `UnsupportedDeltaTable` (or a
    storage error) whenever this cannot be trusted: on a cluster, unless the config says the
    catalog keeps the raw tables under `--warehouse` and that is spark-submit's
    `spark.sql.warehouse.dir` (the catalog decides where tables live), a
    warehouse pyarrow cannot reach, a table of the job
    missing (Spark would create it), a log feature the reader does not know."""
    from olx_spark.spark.session import is_local_path

    if config.spark.mode != "local" and not _catalog_uses_warehouse(config):
        raise UnsupportedDeltaTable("not a local session: the cluster's catalog places tables")
    warehouse = config.warehouse.dir
    if not (is_local_path(warehouse) or is_s3(warehouse)):
        raise UnsupportedDeltaTable(f"warehouse {warehouse} is neither a folder nor on S3")
    for name, location in tables:
        log = delta_log_location(location, config.s3)
        info = log.filesystem.get_file_info(f"{log.path}/_delta_log")
        if info.type == pafs.FileType.NotFound:
            raise UnsupportedDeltaTable(f"table {name} missing")
    return read_columns(delta_log_location(ledger, config.s3), list(columns))


def _catalog_uses_warehouse(config: Config) -> bool:
    """On a cluster, only when the config says the catalog keeps the raw tables under the
    warehouse folder (`spark.ledgers_in_warehouse`: a database with a LOCATION of its own, or
    Glue's, would leave an old copy there unseen) and spark-submit's `spark.sql.warehouse.dir`
    is the job's `--warehouse`."""
    if not config.spark.ledgers_in_warehouse:
        return False
    from olx_spark.spark.submit_check import same_location, submitted_warehouse

    submitted = submitted_warehouse()
    return submitted is not None and same_location(submitted, config.warehouse.dir)


def _check(
    job_name: str,
    source: str,
    files: list[SourceFile],
    read_ledger: Callable[[], _Ledger],
    started: float,
) -> IngestOutcome | str:
    """The outcome "nothing new" if the ledger, read without Spark, has every listed file; else
    what the check found, in words."""
    try:
        ledger = read_ledger()
    except Exception as exc:  # anything at all: Spark reads the ledger itself
        return f"ledger not read without Spark ({type(exc).__name__}: {exc})"
    new = [f for f in files if f.identity not in ledger.unchanged]
    if new:
        return f"{len(new)} new or changed files"
    summary = IngestSummary(job=job_name, source=source)
    summary.files_seen = summary.unchanged = len(files)
    summary.seconds = time.monotonic() - started
    return IngestOutcome(summary, spark_used=False, precheck="nothing new")


def run_unless_nothing_new(
    job_name: str,
    source: str,
    files: list[SourceFile],
    read_ledger: Callable[[], _Ledger],
    run: Callable[[], IngestSummary],
    started: float,
    *,
    config: Config | None = None,
    locks: Sequence[str] = (),
) -> IngestOutcome:
    """The summary of "nothing new" if the ledger, read without Spark, already has every listed
    file; else `run()` (Spark). A ledger that cannot be read without Spark (any error) means
    Spark reads it itself. `started` is the job's `time.monotonic()` start (before listing).

    With `config`, `run()` holds the run locks `locks` of the warehouse (and its metastore's):
    if another run held one, the ledger is checked again once it is free. A Delta commit
    conflict with another run becomes a `CommitConflictError` that says what to do."""
    checked = _check(job_name, source, files, read_ledger, started)
    if isinstance(checked, IngestOutcome):
        return checked
    if config is None:
        with commit_conflicts_explained(job_name):
            return IngestOutcome(run(), spark_used=True, precheck=checked)
    with run_turn(config, *locks) as turn:
        if turn.waited_for_another_run:
            again = _check(job_name, source, files, read_ledger, started)
            if isinstance(again, IngestOutcome):
                return IngestOutcome(
                    again.summary, spark_used=False, precheck="nothing new after another run"
                )
            checked = f"{again} after another run"
        with commit_conflicts_explained(job_name):
            return IngestOutcome(run(), spark_used=True, precheck=checked)
