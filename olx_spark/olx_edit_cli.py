"""`olx-spark olx replace | move | delete`: prepare a safe update of one course archive offline.

The edits themselves are `olx_spark.olx.edit`; this module only declares the arguments, runs
the edit, prints its JSON on stdout and turns a refusal into `olx-spark: ...` on stderr with
the edit's exit code (2 refused, 3 version conflict, 4 would-be orphans declined). No Spark.
`cli_olx` registers these commands under its `olx` group and calls `run_edit_command` first.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from olx_spark.config import ConfigError, load_config

EDIT_COMMANDS = ("replace", "move", "delete")

_EXIT_CODES = """\
exit codes: 0 written; 2 refused (bad input: nothing written); 3 version conflict (the
archive is not at --expect-version: nothing written); 4 would-be orphans declined (nothing
written; the message names each)."""

_OUTPUT = """\
On success the new archive is at --out and stdout holds one JSON object: course_id,
old_course_version, course_version (what `olx-spark ingest` will compute for the new archive),
block_id, subtree_hash, blocks_added, blocks_removed, blocks_changed (usage keys), out,
files_written, files_removed, static_added, members_dropped. Files outside the edited blocks
are copied byte for byte; static files are streamed, never held in memory."""


def _archive_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "archive",
        metavar="ARCHIVE",
        help="the course export archive to edit (.tar.gz, .tgz, .tar or .zip); only read",
    )
    p.add_argument(
        "--block", required=True, metavar="KEY", help="usage key of the block (block-v1:...)"
    )


def _common_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--expect-version",
        metavar="V",
        help="refuse (exit 3) unless the archive's course_version is V, e.g. the "
        "course_version in the export's manifest.json",
    )
    p.add_argument(
        "--out",
        required=True,
        metavar="NEW.tar.gz",
        help="where to write the edited archive (written to a temporary file beside it, "
        "then renamed: never half-written)",
    )
    p.add_argument(
        "--config",
        metavar="FILE",
        help="TOML config file; its [limits] bound the archive as in ingest (see conf/)",
    )


_REPLACE = """\
Replace --block and everything below it with the edited subtree in --with, and write the
edited archive to --out. --with is a folder, or a .tar.gz of one, as `olx-spark olx export
COURSE_ID --block KEY` writes it: the block's own file {type}/{url_name}.xml, its
descendants' files (html as html/{id}.xml + html/{id}.html; a ':' in a url_name is a
subfolder), manifest.json, static/.

A pointer to a block that is not in --with but is in the archive keeps that block (shared).
Refused, with file:line:column and the block's key: malformed XML, a root of another type or
id, a block that already has a parent outside the subtree, a cycle, a block defined twice, a
pointer to a missing file, a file the subtree does not use. A root that was inline in its
parent's file becomes a pointer there, and its own file.

  olx-spark olx replace course.tar.gz --block KEY --with edited/ --orphans decline \\
      --expect-version V --out new.tar.gz
"""

_MOVE = """\
Move --block (with everything below it) under --to, a block of the same type as its current
parent (a vertical to another sequential, a sequential to another chapter), at --position
among --to's children (0 = first; default: last). --to may be the current parent: that
reorders. A block defined inline in its parent's file moves to its own file, unchanged.
A move deletes no block: if it would leave one without a parent (e.g. an inline block without
url_name, whose id is a hash of its XML), it is refused (exit 4).
"""

_DELETE = """\
Delete --block: its pointer (or inline definition) goes from its parent, its files and its
descendants' go too, except descendants another parent still uses. The output's subtree_hash
is null. Policy files are not edited. Nothing outside --block's subtree is removed: a block
there that the edit would leave without a parent is refused (exit 4).
"""


def add_edit_commands(olx_commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register `replace`, `move` and `delete` under `olx-spark olx`."""

    def command(name: str, summary: str, description: str) -> argparse.ArgumentParser:
        parser = olx_commands.add_parser(
            name,
            help=summary,
            formatter_class=argparse.RawDescriptionHelpFormatter,
            description=f"{description}\n{_OUTPUT}\n\n{_EXIT_CODES}",
        )
        _archive_options(parser)
        return parser

    replace = command(
        "replace", "replace a block's subtree in an archive with an edited subtree export", _REPLACE
    )
    replace.add_argument(
        "--with",
        dest="replacement",
        required=True,
        metavar="DIR_OR_TAR",
        help="the edited subtree export (folder, .tar.gz or .zip)",
    )
    replace.add_argument(
        "--orphans",
        required=True,
        choices=("decline", "delete"),
        help="blocks the old subtree had and the new one drops: decline = refuse (exit 4) and "
        "name them; delete = remove them and their files (blocks shared with another parent "
        "stay)",
    )
    move = command(
        "move", "move a block under another parent of the same level, in an archive", _MOVE
    )
    move.add_argument("--to", required=True, metavar="PARENT_KEY", help="the new parent's key")
    move.add_argument(
        "--position", type=int, metavar="N", help="index among the new parent's children"
    )
    delete = command("delete", "delete a block and what only it holds, from an archive", _DELETE)
    for parser in (replace, move, delete):
        _common_options(parser)


def _run(args: argparse.Namespace) -> dict[str, Any]:
    from olx_spark.olx.edit import delete_block, move_block, replace_subtree

    given = {
        "expect_version": args.expect_version,
        "out": args.out,
        "limits": load_config(args.config).limits,
    }
    if args.olx_command == "replace":
        result = replace_subtree(
            args.archive, args.block, args.replacement, orphans=args.orphans, **given
        )
    elif args.olx_command == "move":
        result = move_block(args.archive, args.block, args.to, position=args.position, **given)
    else:
        result = delete_block(args.archive, args.block, **given)
    return result.as_json()


def run_edit_command(args: argparse.Namespace) -> int | None:
    """Run the command if it is one of this module's (returns its exit code); None if not."""
    if getattr(args, "olx_command", None) not in EDIT_COMMANDS:
        return None
    from olx_spark.olx.edit import EditError

    try:
        output = _run(args)
    except ConfigError as exc:
        print(f"olx-spark: {exc}", file=sys.stderr)
        return 2
    except EditError as exc:
        print(f"olx-spark: {exc}", file=sys.stderr)
        return exc.exit_code
    print(json.dumps(output, indent=2, ensure_ascii=False))
    return 0
