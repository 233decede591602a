"""`olx-spark compact`: the command line of table compaction (see `olx_spark.spark.compaction`).

Its own module so that cli.py stays a list of commands; the plan is made without Spark and the
command starts Spark only when some partition has piled up small files.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from olx_spark.config import Config
from olx_spark.storage.compaction_plan import DEFAULT_MIN_FILES, plan_warehouse
from olx_spark.storage.delta_log import UnsupportedDeltaTable

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

COMPACT_DESCRIPTION = f"""\
Rewrite the small files of the warehouse's Delta tables, partition by partition.

Each nightly run adds a few small files to the tables it writes (a day of events, ledger rows,
staging merges). This finds, from the tables' Delta logs and without starting Spark, the
partitions holding --min-files (default {DEFAULT_MIN_FILES}) or more files smaller than 128 MiB,
and rewrites only those with Delta's OPTIMIZE, holding every run lock of the warehouse (ingests
wait). Rows never change. When nothing needs it, it ends in about a second without Spark: run it
at the end of every nightly run. --vacuum also deletes files that no snapshot within the
tables' retention (Delta's default: 7 days) still reads.

Tables are those under the warehouse folder, {{warehouse}}/{{schema}}.db/{{table}} (raw, staging,
intermediate and marts schemas; --schema limits it).
"""


def add_compact_command(
    commands: argparse._SubParsersAction,  # type: ignore[type-arg]
    common: Callable[[argparse.ArgumentParser], None],
) -> None:
    compact = commands.add_parser(
        "compact",
        help="rewrite partitions that piled up small files (Delta OPTIMIZE; no Spark when none)",
        description=COMPACT_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    compact.add_argument(
        "--min-files",
        type=int,
        default=DEFAULT_MIN_FILES,
        metavar="N",
        help=f"compact a partition holding N or more small files (default {DEFAULT_MIN_FILES})",
    )
    compact.add_argument(
        "--schema",
        action="append",
        metavar="NAME",
        help="only this schema (repeat for several; default: every schema of the warehouse)",
    )
    compact.add_argument(
        "--vacuum",
        action="store_true",
        help="then VACUUM the compacted tables (files older than their retention only)",
    )
    compact.add_argument(
        "--dry-run", action="store_true", help="print the plan; change nothing, start no Spark"
    )
    compact.add_argument("--json", action="store_true", help="print the summary as JSON")
    common(compact)


def run_compact(
    args: argparse.Namespace, config: Config, session: Callable[[Config], SparkSession]
) -> int:
    from olx_spark.spark.compaction import CompactionSummary, compact

    started = time.monotonic()
    if args.min_files < 2:
        print("olx-spark: --min-files must be 2 or more", file=sys.stderr)
        return 2
    try:
        plan = plan_warehouse(config.warehouse.dir, config.s3, args.schema, args.min_files)
    except (UnsupportedDeltaTable, OSError, ValueError) as exc:
        print(
            f"olx-spark: cannot read the warehouse {config.warehouse.dir} ({exc}); check "
            "--warehouse (or [warehouse] dir in the config)",
            file=sys.stderr,
        )
        return 2
    summary = CompactionSummary(
        tables_seen=len(plan.tables) + len(plan.unreadable),
        unreadable=[(t.qualified, why) for t, why in plan.unreadable],
        dry_run=args.dry_run,
        planned=list(plan.needed),
        min_files=args.min_files,
        most_small_files=max((t.most_small_files for t in plan.tables), default=0),
    )
    if plan.needed and not args.dry_run:
        progress = (lambda line: None) if args.json else _progress
        summary.results = compact(config, plan, session, vacuum=args.vacuum, progress=progress)
        summary.spark_used = True
    summary.seconds = time.monotonic() - started
    print(json.dumps(summary.to_dict(), indent=2) if args.json else summary.render())
    return 1 if summary.failed else 0


def _progress(line: str) -> None:
    print(line, flush=True)
