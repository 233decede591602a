"""`olx-spark`: the one console script. Subcommands parse arguments, build the config and the
Spark session, and hand over to the jobs; `jobs/*.py` call the same functions for spark-submit.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

from olx_spark import __version__
from olx_spark.cli_compact import add_compact_command, run_compact
from olx_spark.cli_olx import add_olx_commands, run_olx_command
from olx_spark.cli_synth import add_synth_commands, run_synth_command
from olx_spark.config import Config, ConfigError, load_config
from olx_spark.olx.tables import PLATFORMS
from olx_spark.spark.run_lock import ConcurrentRunError

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

    dp = kinds.add_parser(
        "data-packages",
        help="edX research data packages ({org}-{date}.zip of .gpg files) -> raw__edxorg__s3__*",
        description=(
            "Decrypt (on the Spark executors) and land every file of every new research data "
            "package under SOURCE: .sql dumps in raw__edxorg__s3__tables__{table}, course_structure "
            "in raw__edxorg__s3__course_structure, forum .mongo in raw__edxorg__s3__forum_documents, "
            "course exports in raw__edxorg__s3__course_xml_*. SOURCE holds {org}-{YYYY-MM-DD}.zip "
            "files, or their files already unzipped (and decrypted or not) in folders named "
            "{org}-{YYYY-MM-DD}. Every package and file is recorded in "
            "raw__edxorg__s3__data_package_files. The GPG passphrase is read from an environment "
            "variable (default OLX_SPARK_GPG_PASSPHRASE) or packages.secrets_file, never from "
            "the command line."
        ),
    )
    dp.add_argument("source", metavar="SOURCE", help="folder or s3://bucket/prefix of packages")
    dp.add_argument(
        "--gnupg-home",
        metavar="DIR",
        help="keyring folder holding the private key (default: packages.gnupg_home, $GNUPGHOME)",
    )
    dp.add_argument(
        "--passphrase-env",
        metavar="VAR",
        help="name of the environment variable holding the key's passphrase "
        "(default: packages.passphrase_env, OLX_SPARK_GPG_PASSPHRASE)",
    )
    dp.add_argument("--json", action="store_true", help="print the summary as JSON")
    _common(dp)

    tl = kinds.add_parser(
        "tracking-logs",
        help="tracking logs (*.log, *.log.gz, *.log.gz.gpg; JSON lines) -> "
        "raw__edxorg__s3__tracking_logs",
        description=(
            "Read every new tracking log under SOURCE ({org}-{site}-events-{YYYY-MM-DD}.log.gz.gpg "
            "from edX.org, or an instance's tracking.log files; plain, gzip or GPG-encrypted) and "
            "land one row per event in raw__edxorg__s3__tracking_logs (partitioned by event "
            "date), lines that are no JSON event in raw__edxorg__s3__tracking_logs_bad_lines, "
            "and every file in the ledger raw__edxorg__s3__tracking_logs_files. A file already "
            "loaded (same name, size and time, or same content under another name) is skipped. "
            ".gpg files use the data packages' GPG settings; the passphrase is read from an "
            "environment variable (default OLX_SPARK_GPG_PASSPHRASE) or packages.secrets_file, "
            "never from the command line. tracking.pii in the config hashes or drops personal "
            "fields."
        ),
    )
    tl.add_argument("source", metavar="SOURCE", help="folder or s3://bucket/prefix of logs")
    tl.add_argument(
        "--gnupg-home",
        metavar="DIR",
        help="keyring folder holding the private key (default: packages.gnupg_home, $GNUPGHOME)",
    )
    tl.add_argument(
        "--passphrase-env",
        metavar="VAR",
        help="name of the environment variable holding the key's passphrase "
        "(default: packages.passphrase_env, OLX_SPARK_GPG_PASSPHRASE)",
    )
    tl.add_argument("--json", action="store_true", help="print the summary as JSON")
    _common(tl)

    xapi = commands.add_parser(
        "xapi",
        help="tracking log events (already ingested) -> xAPI statements in xapi__statements",
        description=(
            "Turn the events of every tracking log ingested and not transformed yet into xAPI "
            "1.0.3 statements, as Open edX's event-routing-backends would emit them (for Aspects "
            "or any LRS): one transformer per event family, deterministic statement ids (a rerun "
            "gives the same ids), the course name from the course tables, actor ids from "
            "--actor-map or pseudonymous UUIDs made with the secret salt in the environment "
            "variable xapi.actor_salt_env (default OLX_SPARK_XAPI_SALT). Writes xapi__statements "
            "(partitioned by statement date), xapi__skipped_events (events with no transformer "
            "or no identifiable user, counted by name and reason) and the ledger "
            "xapi__statements_files. No username, email or IP address is ever written."
        ),
    )
    xapi.add_argument(
        "--since",
        metavar="DATE",
        type=_date,
        help="only tracking logs dated DATE (YYYY-MM-DD) or later (by the log's file name)",
    )
    xapi.add_argument(
        "--lms-root-url",
        metavar="URL",
        help="the LMS's root URL, e.g. https://courses.example.org (default: xapi.lms_root_url)",
    )
    xapi.add_argument(
        "--actor-map",
        metavar="TABLE_OR_CSV",
        help="table or CSV with user_id, username, external_user_id; actors are the external "
        "ids (users not in it are skipped). Default: xapi.actor_map, else pseudonymous ids",
    )
    xapi.add_argument(
        "--out",
        metavar="DIR",
        help="also write this run's statements as gzip JSON lines under DIR (folder or s3://), "
        "one folder per statement date, for bulk loading into ClickHouse or an LRS",
    )
    xapi.add_argument("--json", action="store_true", help="print the summary as JSON")
    _common(xapi)

    add_synth_commands(commands)

    transform = commands.add_parser(
        "transform",
        help="run the dbt project (dbt build: staging, intermediate and marts models, and their tests)",
        description=(
            "Run `dbt build` on the dbt project in dbt/ with its local profile, inside this "
            "process and on the same Spark session, warehouse and catalog the ingest jobs use; "
            "or, with --target thrift, against a Spark Thrift server on a cluster (no Spark in "
            "this process; needs the `thrift` extra). Staging models and the daily/weekly "
            "activity marts are incremental (merge on Delta): running twice changes nothing. "
            "On a local warehouse a plain run remembers what it read: with nothing new it "
            "stops without starting Spark, and when only some raw tables changed it builds "
            "only the models downstream of them (--all-models: every model). "
            "Marts land in the `_marts` schema (see README)."
        ),
    )
    transform.add_argument(
        "--target",
        choices=("local", "thrift"),
        default="local",
        help="dbt profile target: local (default; this process's Spark session) or thrift (the "
        "Spark Thrift server at $DBT_SPARK_THRIFT_HOST:$DBT_SPARK_THRIFT_PORT, default "
        "localhost:10001)",
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
    transform.add_argument(
        "--all-models",
        action="store_true",
        help="build every model even when the last build's stamp shows that only some raw "
        "tables changed since (by default only the models downstream of those are built)",
    )
    transform.add_argument(
        "--models-only",
        action="store_true",
        help="build the models without running their dbt tests (faster; run `olx-spark "
        "transform` with the tests, e.g. weekly, to check the data)",
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

    report = commands.add_parser(
        "report",
        help="write the static HTML report of the marts (opens offline in a browser)",
        description=(
            "Write a static HTML report over the dbt marts (build them first with `olx-spark "
            "transform`) into OUT: index.html (every course run: the general report table, "
            "enrollment over time), courses/<course>.html (per course run: KPIs, enrollment by "
            "mode, the funnel, demographics, weekly activity, grades, engagement per section, "
            "videos, problems, engagement against outcome), data/ (a CSV beside every chart and "
            "table) and assets/plotly.min.js (the charting library: no network needed). The "
            "numbers are aggregated in Spark."
        ),
    )
    report.add_argument("--out", required=True, metavar="DIR", help="folder to write it to")
    report.add_argument(
        "--course",
        nargs="+",
        action="extend",
        metavar="ID",
        help="only these course runs (ids as the source spells them); default: every one",
    )
    _common(report)

    sql = commands.add_parser(
        "sql",
        help="run a SQL query against the warehouse's catalog",
        description="Run one Spark SQL statement against the warehouse (raw schema is the default).",
    )
    sql.add_argument("query", metavar="SQL")
    sql.add_argument("--format", choices=("table", "json", "csv"), default="table")
    sql.add_argument("--limit", type=int, default=1000, help="rows to print at most (default 1000)")
    _common(sql)
    add_compact_command(commands, _common)
    add_olx_commands(commands)
    return parser


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _session(config: Config) -> SparkSession:
    from olx_spark.spark.session import get_session

    return get_session(config)


def cmd_ingest_course_archives(args: argparse.Namespace, config: Config) -> int:
    from olx_spark.spark.course_archives import CourseArchiveJob, ingest_course_archives
    from olx_spark.storage.listing import SourceError

    job = CourseArchiveJob(args.source, args.platform, args.source_system)
    try:
        # Starts Spark (through _session) only if the ledger shows something new.
        summary = ingest_course_archives(config, job, _session).summary
    except SourceError as exc:
        print(f"olx-spark: {exc}", file=sys.stderr)
        return 2
    print(summary.to_json() if args.json else summary.render())
    return 0


def cmd_ingest_data_packages(args: argparse.Namespace, config: Config) -> int:
    from olx_spark.packages.gpg import KeyringError, PassphraseError
    from olx_spark.spark.data_packages import DataPackageJob, ingest_data_packages
    from olx_spark.storage.listing import SourceError

    job = DataPackageJob(args.source, args.gnupg_home, args.passphrase_env)
    try:
        job.gpg_settings(config)  # a missing keyring or passphrase is reported before Spark starts
        # Starts Spark (through _session) only if the ledger shows something new.
        summary = ingest_data_packages(config, job, _session).summary
    except (SourceError, PassphraseError, KeyringError) as exc:
        print(f"olx-spark: {exc}", file=sys.stderr)
        return 2
    print(summary.to_json() if args.json else summary.render())
    return 0


def cmd_ingest_tracking_logs(args: argparse.Namespace, config: Config) -> int:
    from olx_spark.spark.tracking_logs import (
        TrackingLogJob,
        TrackingSetupError,
        ingest_tracking_logs,
    )
    from olx_spark.storage.listing import SourceError

    job = TrackingLogJob(args.source, args.gnupg_home, args.passphrase_env)
    try:
        # Starts Spark (through _session) only if the ledger shows something new.
        summary = ingest_tracking_logs(config, job, _session).summary
    except (SourceError, TrackingSetupError) as exc:
        print(f"olx-spark: {exc}", file=sys.stderr)
        return 2
    print(summary.to_json() if args.json else summary.render())
    return 0


def cmd_xapi(args: argparse.Namespace, config: Config) -> int:
    from olx_spark.spark.xapi_statements import XapiJob, XapiSetupError, transform_to_xapi

    job = XapiJob(
        since=args.since, lms_root_url=args.lms_root_url, actor_map=args.actor_map, out=args.out
    )
    try:
        # Settings are checked before Spark starts; Spark starts only if a log waits.
        summary, _ = transform_to_xapi(config, job, _session)
    except XapiSetupError as exc:
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


def cmd_report(args: argparse.Namespace, config: Config) -> int:
    from olx_spark.report import ReportError, build_report
    from olx_spark.run_stamps import report_check

    check = report_check(config, args.out, list(args.course or ()))
    if check is not None and check.up_to_date:
        print(
            f"olx-spark report: the marts ({len(check.read)} tables) have not changed since the "
            f"report in {args.out} was written: nothing to do, Spark not started"
        )
        return 0
    if check is not None:
        check.forget(config)  # until this run has written the whole report
    spark = _session(config)
    try:
        summary = build_report(
            spark, config, args.out, courses=args.course or (), progress=_progress
        )
    except ReportError as exc:
        print(f"olx-spark: {exc}", file=sys.stderr)
        return 2
    if check is not None:
        check.record(config)
    print(summary.render())
    return 0


def _progress(line: str) -> None:
    print(line, flush=True)


def cmd_transform(args: argparse.Namespace, config: Config) -> int:
    from olx_spark.transform import TransformSetupError, transform_command

    try:
        code = transform_command(
            config,
            select=args.select,
            full_refresh=args.full_refresh,
            models_only=args.models_only,
            all_models=args.all_models,
            target=args.target,
            say=_progress,
        )
    except TransformSetupError as exc:
        print(f"olx-spark: {exc}", file=sys.stderr)
        return 2
    if code:
        print(
            "olx-spark: dbt build failed; the dbt output above names the model or test "
            "(details in dbt/logs/dbt.log, or under $DBT_LOG_PATH when set)",
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


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command in ("synth", "demo"):
        return run_synth_command(args)
    if args.command == "olx":
        return run_olx_command(args)
    try:
        config = load_config(args.config, warehouse=args.warehouse)
    except ConfigError as exc:
        print(f"olx-spark: {exc}", file=sys.stderr)
        return 2
    try:
        return _dispatch(args, config)
    except ConcurrentRunError as exc:  # another run in the way: say who, and to run it again
        print(f"olx-spark: {exc}", file=sys.stderr)
        return exc.exit_code
    except ConfigError as exc:  # a setting found wrong once the run started (e.g. S3 access)
        print(f"olx-spark: {exc}", file=sys.stderr)
        return 2


def _dispatch(args: argparse.Namespace, config: Config) -> int:
    if args.command == "ingest" and args.kind == "course-archives":
        return cmd_ingest_course_archives(args, config)
    if args.command == "ingest" and args.kind == "data-packages":
        return cmd_ingest_data_packages(args, config)
    if args.command == "ingest" and args.kind == "tracking-logs":
        return cmd_ingest_tracking_logs(args, config)
    if args.command == "xapi":
        return cmd_xapi(args, config)
    if args.command == "sql":
        return cmd_sql(args, config)
    if args.command == "transform":
        return cmd_transform(args, config)
    if args.command == "report":
        return cmd_report(args, config)
    if args.command == "dbt":
        return cmd_dbt(args, config)
    if args.command == "compact":
        return run_compact(args, config, _session)
    raise AssertionError(f"unhandled command {args.command}")


if __name__ == "__main__":
    sys.exit(main())
