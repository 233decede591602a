"""`olx-spark olx ...`: the course-content workflow on the command line.

`export` and `diff` read loaded versions from the warehouse (Spark only to fetch the rows);
`replace`, `move` and `delete` (`olx_spark.olx_edit_cli`) prepare an update of an archive
offline. The work itself is in `olx_spark.olx`; this module parses arguments and reports.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from typing import TYPE_CHECKING

from olx_spark.olx.tables import PLATFORMS
from olx_spark.olx_edit_cli import add_edit_commands, run_edit_command

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from olx_spark.config import Config

OLX_DESCRIPTION = """\
Read any loaded course version back as OLX, compare versions, and prepare safe updates.

  export   a course run, or the subtree under one block, in Studio's export layout
  diff     what changed, block by block, between two loaded versions of a course run
  replace  put an edited subtree back into a course archive (offline, with version checks)
  move     move a block under another parent of the same level, in an archive
  delete   remove a block and what only it holds, from an archive

Versions are `course_version` hashes: `olx-spark sql "SELECT course_id, course_version,
retrieved_at FROM raw__edxorg__s3__course_xml_archives"` lists them.
"""


def _warehouse_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--warehouse", metavar="DIR", help="warehouse folder or URI (default ./warehouse)"
    )
    p.add_argument("--config", metavar="FILE", help="TOML config file (see conf/local.toml)")
    p.add_argument(
        "--platform",
        choices=PLATFORMS,
        help="whose course tables to read (default: both; the newest load wins)",
    )


def add_olx_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register `olx-spark olx` and its subcommands."""
    olx = commands.add_parser(
        "olx",
        help="export courses or subtrees as OLX, diff versions, prepare subtree updates",
        description=OLX_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    olx_commands = olx.add_subparsers(dest="olx_command", metavar="OLX_COMMAND", required=True)
    export = olx_commands.add_parser(
        "export",
        help="write a loaded course version, or a subtree of it, as OLX",
        description=(
            "Write COURSE_ID (its newest loaded version, or --version) in Studio's export "
            "layout, to a new folder or a .tar.gz: every block, draft and orphan, the policy "
            "files, pages and static files (streamed from the archive it was loaded from; if "
            "that is gone they are listed in manifest.json and reported). With --block, only "
            "the published subtree under that block, with manifest.json (course id and "
            "version, root and parent block, position, subtree_hash): the input of `olx "
            "replace`."
        ),
    )
    export.add_argument("course_id", metavar="COURSE_ID")
    export.add_argument("--block", metavar="USAGE_KEY", help="export only this block's subtree")
    export.add_argument("--version", metavar="COURSE_VERSION", help="default: the newest loaded")
    export.add_argument(
        "--out", required=True, metavar="DIR|FILE.tar.gz", help="a new or empty folder, or a tar"
    )
    export.add_argument(
        "--no-static", action="store_true", help="list static files in the manifest only"
    )
    _warehouse_options(export)

    diff = olx_commands.add_parser(
        "diff",
        help="list what changed between two loaded versions of a course run",
        description=(
            "One line per block and change type between two loaded versions of COURSE_ID "
            "(published tree): added, removed, moved, reordered, content_changed, "
            "settings_changed (with the keys), children_changed. The same rules as the "
            "marts__course_block_changes table."
        ),
    )
    diff.add_argument("course_id", metavar="COURSE_ID")
    diff.add_argument("--from", dest="from_version", required=True, metavar="V1")
    diff.add_argument("--to", dest="to_version", required=True, metavar="V2")
    diff.add_argument("--json", action="store_true", help="print JSON instead of a table")
    _warehouse_options(diff)
    add_edit_commands(olx_commands)


def run_olx_command(args: argparse.Namespace) -> int:
    """Run `olx-spark olx ...`; returns the exit code."""
    edited = run_edit_command(args)
    if edited is not None:
        return edited
    from olx_spark.config import ConfigError, load_config
    from olx_spark.olx.export_write import ExportFailed
    from olx_spark.olx.versions import VersionError

    try:
        config = load_config(args.config, warehouse=args.warehouse)
        if args.olx_command == "export":
            return _export(args, config)
        if args.olx_command == "diff":
            return _diff(args, config)
    except (ConfigError, VersionError, ExportFailed) as exc:
        print(f"olx-spark: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"olx-spark: {exc}; nothing was written.", file=sys.stderr)
        return 2
    raise AssertionError(f"unhandled olx command {args.olx_command}")


def _session(config: Config) -> SparkSession:
    from olx_spark.spark.session import get_session

    return get_session(config)


def _export(args: argparse.Namespace, config: Config) -> int:
    from olx_spark.olx.export import plan_course_export, plan_subtree_export
    from olx_spark.olx.export_write import write_export
    from olx_spark.spark.course_versions import read_version

    spark = _session(config)
    print(f"reading {args.course_id} from the warehouse ...", file=sys.stderr)
    version = read_version(spark, config, args.course_id, args.version, args.platform)
    plan = plan_subtree_export(version, args.block) if args.block else plan_course_export(version)
    print(
        f"writing {plan.block_count:,} blocks and {len(plan.static):,} static files ...",
        file=sys.stderr,
    )
    result = write_export(
        plan,
        args.out,
        archive_uri=version.archive_uri,
        archive_size=version.archive_size_bytes,
        s3=config.s3,
        with_static=not args.no_static,
        folder="library" if version.is_library else "course",
    )
    print(f"exported {version.course_id} version {version.course_version} to {result.out}")
    if args.block:
        print(f"  subtree of {args.block}: subtree_hash {plan.manifest['subtree_hash']}")
    print(f"  blocks        {result.blocks:>8,}")
    print(f"  files         {result.files:>8,}")
    print(
        f"  static files  {result.static_written:>8,} written, {len(result.static_missing):,} listed only"
    )
    for warning in result.warnings:
        print(f"  warning: {warning}")
    return 0


def _diff(args: argparse.Namespace, config: Config) -> int:
    from olx_spark.olx.changes import diff_versions
    from olx_spark.spark.course_versions import read_version

    spark = _session(config)
    old = read_version(spark, config, args.course_id, args.from_version, args.platform)
    new = read_version(spark, config, args.course_id, args.to_version, args.platform)
    changes = diff_versions(old, new)
    if args.json:
        document = {
            "course_id": args.course_id,
            "from_course_version": old.course_version,
            "to_course_version": new.course_version,
            "changes": [c.as_dict() for c in changes],
        }
        print(json.dumps(document, ensure_ascii=False, indent=2))
        return 0
    print(f"{args.course_id}: {old.course_version[:12]} -> {new.course_version[:12]}")
    for c in changes:
        detail = ""
        if c.change_type == "settings_changed":
            detail = ", ".join(c.changed_settings or [])
        elif c.change_type in ("moved", "reordered"):
            detail = (
                f"{c.old_parent_block_id} #{c.old_position} -> "
                f"{c.new_parent_block_id} #{c.new_position}"
            )
        print(f"  {c.change_type:<17} {c.block_type:<12} {c.block_id}  {detail}".rstrip())
    counts = Counter(c.change_type for c in changes)
    summary = ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items())) or "no changes"
    print(f"{len(changes)} change(s): {summary}")
    return 0
