#!/usr/bin/env python
"""`olx replace` on an archive with big static files: seconds and peak RSS of the edit alone.

The requirement (issue 15, item 7) is that a replace on the 2 GB archive streams: memory
bounded by the course's text, not its static files. This script takes an archive (or generates
one with `--big-static-mb` of lecture videos, the same generator as `olx-spark synth`), exports
the subtree of one vertical (`olx_spark.olx.export`, static left out), edits its title, and runs
`replace_subtree` in a fresh child process, which reports its wall time and its peak RSS
(`resource.getrusage`), with the RSS it had before the edit started (imports) beside it. Then
the new archive's `course_version` is checked against `parse_course_archive`.

    .venv/bin/python benchmarks/bench_olx_replace.py --big-static-mb 64 --work-dir /tmp/olxbench/replace
    .venv/bin/python benchmarks/bench_olx_replace.py /tmp/olxbench/big/SOME.tar.gz --work-dir /tmp/olxbench/replace

The last line of stdout is the result as one JSON object.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchlib import MB, MIB, emit, load_average, machine_info, now_utc, rounded

from olx_spark.olx.parse import parse_course_archive


def _peak_rss_mib() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # KiB on Linux


def run_child(archive: str, block: str, replacement: str, out: str) -> None:
    """The measured part, in its own process: one replace, then its time and peak RSS."""
    from olx_spark.olx.edit import replace_subtree

    before = _peak_rss_mib()
    started = time.perf_counter()
    result = replace_subtree(archive, block, replacement, orphans="decline", out=out)
    seconds = time.perf_counter() - started
    report = {
        "seconds": rounded(seconds),
        "peak_rss_mib": _peak_rss_mib(),
        "rss_before_edit_mib": before,
        "result": result.as_json(),
    }
    print(json.dumps(report))


def make_archive(work: Path, big_static_mb: int, seed: int) -> Path:
    from olx_spark.synth.corpus import generate_course_archive

    path = work / f"bench-replace-{big_static_mb}mb.tar.gz"
    if not path.exists():
        generate_course_archive(path, seed, "small", big_static_bytes=big_static_mb * MIB)
    return path


def edit_title(path: Path) -> None:
    """Prefix the root's display_name with "(edited) " (or give it one)."""
    text = path.read_text(encoding="utf-8")
    if 'display_name="' in text:
        text = text.replace('display_name="', 'display_name="(edited) ', 1)
    else:
        text = text.replace("<vertical", '<vertical display_name="(edited)"', 1)
    path.write_text(text, encoding="utf-8")


def prepare(archive: Path, work: Path) -> tuple[str, Path, dict[str, Any]]:
    """Pick a vertical, export its subtree (no static) and edit its title."""
    from olx_spark.olx.export import plan_subtree_export
    from olx_spark.olx.export_write import write_export
    from olx_spark.olx.versions import CourseVersion

    with archive.open("rb") as stream:
        parsed = parse_course_archive(stream, archive.name)
    version = CourseVersion.from_parsed(parsed, str(archive))
    verticals = [
        b
        for b in parsed.rows["blocks"]
        if b["block_type"] == "vertical" and not b["is_draft"] and not b["is_orphan"]
    ]
    block = random.Random(0).choice(verticals)
    folder = work / f"export-{block['url_name'].replace(':', '_')}"
    if folder.exists():
        shutil.rmtree(folder)
    plan = plan_subtree_export(version, block["block_id"])
    write_export(plan, str(folder), archive_uri=str(archive), with_static=False)
    edit_title(folder / "vertical" / f"{block['url_name'].replace(':', '/')}.xml")
    static = sum(r["size_bytes"] for r in parsed.rows["static_files"])
    facts = {
        "course_id": parsed.course_id,
        "blocks": parsed.block_count,
        "static_bytes": static,
        "archive_bytes": archive.stat().st_size,
        "old_course_version": parsed.course_version,
    }
    return block["block_id"], folder, facts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Time one `olx replace` and measure its peak RSS (archive with big static)."
    )
    parser.add_argument("archive", nargs="?", type=Path, metavar="ARCHIVE")
    parser.add_argument(
        "--big-static-mb",
        type=int,
        default=64,
        metavar="MB",
        help="without ARCHIVE: generate a small course with this much video",
    )
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--work-dir", type=Path, default=Path("/tmp/olxbench/replace"))
    parser.add_argument("--json-out", type=Path, metavar="FILE", help="also write the JSON here")
    parser.add_argument(
        "--run-child", nargs=4, metavar=("A", "B", "R", "O"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.run_child:
        run_child(*args.run_child)
        return 0

    args.work_dir.mkdir(parents=True, exist_ok=True)
    archive = args.archive or make_archive(args.work_dir, args.big_static_mb, args.seed)
    block, folder, facts = prepare(archive, args.work_dir)
    out = args.work_dir / "replaced.tar.gz"
    load_before = load_average()
    child = subprocess.run(
        [sys.executable, __file__, "--run-child", str(archive), block, str(folder), str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    if child.returncode != 0:
        print(child.stderr, file=sys.stderr)
        return child.returncode
    measured = json.loads(child.stdout.strip().splitlines()[-1])
    with out.open("rb") as stream:
        check = parse_course_archive(stream, out.name)
    edit = measured["result"]
    result: dict[str, Any] = {
        "benchmark": "olx_replace",
        "date": now_utc(),
        "archive": str(archive),
        **facts,
        "block": block,
        "seconds": measured["seconds"],
        "archive_mb_per_s": rounded(facts["archive_bytes"] / MB / measured["seconds"], 1),
        "peak_rss_mib": measured["peak_rss_mib"],
        "rss_before_edit_mib": measured["rss_before_edit_mib"],
        "blocks_changed": edit["blocks_changed"],
        "files_written": edit["files_written"],
        "course_version_matches_ingest": check.course_version == edit["course_version"],
        "load_average_before": load_before,
        "load_average_after": load_average(),
        "machine": machine_info(),
    }
    lines = [
        f"olx replace: {facts['archive_bytes'] / MB:,.1f} MB archive, "
        f"{facts['static_bytes'] / MB:,.1f} MB static, {facts['blocks']:,} blocks",
        f"  {measured['seconds']:.2f} s ({result['archive_mb_per_s']} MB/s of archive); "
        f"peak RSS {measured['peak_rss_mib']} MiB (before the edit: "
        f"{measured['rss_before_edit_mib']} MiB)",
        f"  changed {edit['blocks_changed']}; course_version as ingest computes it: "
        f"{result['course_version_matches_ingest']}",
    ]
    emit(result, lines, args.json_out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
