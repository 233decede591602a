"""`olx-spark`: the one console script. Subcommands parse arguments, build the config and the
Spark session, and hand over to the jobs; `jobs/*.py` call the same functions for spark-submit.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from olx_spark import __version__
from olx_spark.config import Config, ConfigError, load_config
from olx_spark.olx.tables import PLATFORMS

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

DESCRIPTION = """\
Land Open edX learning data in Delta Lake tables with Apache Spark, and query it.

Every command takes --warehouse DIR (default ./warehouse: Delta tables plus an embedded
metastore) and --config FILE (TOML; see conf/). SOURCE is a local folder or s3://bucket/prefix.
"""


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--warehouse", metavar="DIR", help="warehouse folder or URI (default ./warehouse)"
    )
    p.add_argument("--config", metavar="FILE", help="TOML config file (see conf/local.toml)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="olx-spark",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"olx-spark {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    ingest = commands.add_parser(
        "ingest",
        help="read new files from a folder or S3 and land them in raw Delta tables",
        description="Read new files from SOURCE and land them in raw Delta tables, exactly once.",
    )
    kinds = ingest.add_subparsers(dest="kind", metavar="KIND", required=True)
    ca = kinds.add_parser(
        "course-archives",
        help="course export archives (OLX .tar.gz/.tgz/.zip) -> raw__{platform}__s3__course_xml_*",
        description=(
            "Parse every new course export archive under SOURCE (on the Spark executors) into the "
            "tables raw__{platform}__s3__course_xml_{archives,blocks,edges,policies,pages,"
            "static_files}. Archives already loaded (same bytes) are skipped; bad archives are "
            "recorded as rejected in the archives table and the run goes on."
        ),
    )
    ca.add_argument("source", metavar="SOURCE", help="folder or s3://bucket/prefix of archives")
    ca.add_argument("--platform", required=True, choices=PLATFORMS, help="edxorg or openedx")
    ca.add_argument(
        "--source-system",
        required=True,
        metavar="NAME",
        help="where the archives come from: prod/edge for edX.org, the instance name for Open edX",
    )
    ca.add_argument("--json", action="store_true", help="print the summary as JSON")
    _common(ca)

    synth = commands.add_parser(
        "synth",
        help="write a generated corpus of realistic course export archives (for demos, benchmarks)",
        description=(
            "Write N generated course export archives to OUT_DIR: Studio-style OLX with html, "
            "problems, videos, discussions, open-response assessments, library content, drafts, "
            "policies, pages and static files. Deterministic for a seed."
        ),
    )
    synth.add_argument("out_dir", metavar="OUT_DIR")
    synth.add_argument("--courses", type=int, required=True, metavar="N")
    synth.add_argument("--seed", type=int, default=0)
    synth.add_argument("--scale", choices=("small", "medium", "large"), default="small")
    synth.add_argument("--workers", type=int, default=1, help="processes generating in parallel")
    synth.add_argument(
        "--big-static-mb",
        type=int,
        default=0,
        metavar="MB",
        help="also write one archive that is mostly static files of this total size",
    )

    transform = commands.add_parser(
        "transform",
        help="run the dbt project (dbt build: staging + intermediate models and their tests)",
        description=(
            "Run `dbt build` on the dbt project in dbt/ with its local profile, inside this "
            "process and on the same Spark session, warehouse and catalog the ingest jobs use. "
            "Staging models are incremental (merge on Delta): running twice changes nothing."
        ),
    )
    transform.add_argument(
        "--select",
        nargs="+",
        metavar="SELECTOR",
        help="dbt node selection, e.g. staging or +int__combined__course_xml_courseruns",
    )
    transform.add_argument(
        "--full-refresh", action="store_true", help="rebuild incremental models from scratch"
    )
    _common(transform)

    dbt = commands.add_parser(
        "dbt",
        help="run any dbt command with the local profile (e.g. olx-spark dbt docs generate)",
        description=(
            "Run a dbt command (`docs generate`, `test --select ...`, `ls`, ...) on the dbt "
            "project with the local profile, on olx-spark's Spark session. Put olx-spark's own "
            "options (--warehouse, --config) before the dbt arguments."
        ),
    )
    _common(dbt)
    dbt.add_argument("dbt_args", nargs=argparse.REMAINDER, metavar="DBT_ARGS")

    sql = commands.add_parser(
        "sql",
        help="run a SQL query against the warehouse's catalog",
        description="Run one Spark SQL statement against the warehouse (raw schema is the default).",
    )
    sql.add_argument("query", metavar="SQL")
    sql.add_argument("--format", choices=("table", "json", "csv"), default="table")
    sql.add_argument("--limit", type=int, default=1000, help="rows to print at most (default 1000)")
    _common(sql)
    return parser


def _session(config: Config) -> SparkSession:
    from olx_spark.spark.session import get_session

    return get_session(config)


def cmd_ingest_course_archives(args: argparse.Namespace, config: Config) -> int:
    from olx_spark.spark.course_archives import CourseArchiveJob, run_course_archives
    from olx_spark.storage.listing import SourceError

    job = CourseArchiveJob(args.source, args.platform, args.source_system)
    spark = _session(config)
    try:
        summary = run_course_archives(spark, config, job)
    except SourceError as exc:
        print(f"olx-spark: {exc}", file=sys.stderr)
        return 2
    print(summary.to_json() if args.json else summary.render())
    return 0


def cmd_sql(args: argparse.Namespace, config: Config) -> int:
    from olx_spark.spark.query import run_query

    spark = _session(config)
    spark.catalog.setCurrentDatabase(config.warehouse.raw_schema)
    print(run_query(spark, args.query, args.format, args.limit))
    return 0


def cmd_transform(args: argparse.Namespace, config: Config) -> int:
    from olx_spark.transform import run_transform

    extra = ["--full-refresh"] if args.full_refresh else []
    code = run_transform(config, select=args.select, extra=extra)
    if code:
        print(
            "olx-spark: dbt build failed; the dbt output above names the model or test "
            "(details in dbt/logs/dbt.log)",
            file=sys.stderr,
        )
    return code


def cmd_dbt(args: argparse.Namespace, config: Config) -> int:
    from olx_spark.transform import run_dbt

    if not args.dbt_args:
        print(
            "olx-spark: say which dbt command to run, e.g. `olx-spark dbt docs generate`",
            file=sys.stderr,
        )
        return 2
    return run_dbt(config, list(args.dbt_args))


def cmd_synth(args: argparse.Namespace) -> int:
    from pathlib import Path

    from olx_spark.synth import generate_corpus

    summary = generate_corpus(
        Path(args.out_dir),
        args.courses,
        seed=args.seed,
        scale=args.scale,
        big_static_bytes=args.big_static_mb * 1024 * 1024,
        workers=args.workers,
    )
    facts = summary.to_dict()
    print(f"wrote {facts['archive_count']:,} archives to {args.out_dir} in {facts['seconds']:.1f}s")
    print(f"  blocks              {facts['block_count']:>14,}")
    print(f"  compressed bytes    {facts['compressed_bytes']:>14,}")
    print(f"  uncompressed bytes  {facts['uncompressed_bytes']:>14,}")
    print(f"  static bytes        {facts['static_bytes']:>14,}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "synth":
        return cmd_synth(args)
    try:
        config = load_config(args.config, warehouse=args.warehouse)
    except ConfigError as exc:
        print(f"olx-spark: {exc}", file=sys.stderr)
        return 2
    if args.command == "ingest" and args.kind == "course-archives":
        return cmd_ingest_course_archives(args, config)
    if args.command == "sql":
        return cmd_sql(args, config)
    if args.command == "transform":
        return cmd_transform(args, config)
    if args.command == "dbt":
        return cmd_dbt(args, config)
    raise AssertionError(f"unhandled command {args.command}")


if __name__ == "__main__":
    sys.exit(main())
