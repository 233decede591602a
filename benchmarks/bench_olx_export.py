#!/usr/bin/env python
"""OLX export and its re-ingest over a corpus: blocks/s, MB/s and peak memory, checked.

For every archive of CORPUS_DIR, one after the other in this process: parse it (the rows the
lakehouse holds), export that version to a `.tar.gz` (`plan_course_export` + `write_export`,
static bytes streamed from the source archive), parse the export again, and check the round
trip (same blocks with their hashes, edges, static files and course_version; a mismatch fails
the run). Reports each phase's wall time as blocks/s and the process's peak RSS. Reading the
rows from Delta (`olx_spark.spark.course_versions`) is Spark's cost and not measured here.

    .venv/bin/python benchmarks/bench_olx_export.py /tmp/olxbench/c200 --json-out /tmp/export.json

The last line of stdout is the result as one JSON object.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchlib import (
    MB,
    emit,
    list_archives,
    load_average,
    machine_info,
    now_utc,
    rounded,
    self_peak_rss_mib,
)

from olx_spark.olx.export import plan_course_export
from olx_spark.olx.export_write import write_export
from olx_spark.olx.model import ParsedArchive
from olx_spark.olx.parse import parse_course_archive
from olx_spark.olx.versions import CourseVersion


def _parse(path: Path) -> ParsedArchive:
    with path.open("rb") as handle:
        return parse_course_archive(handle, path.name)


def _kept(parsed: ParsedArchive) -> tuple[Any, ...]:
    return (
        parsed.course_version,
        sorted(
            (b["block_id"], b["is_draft"], b["is_orphan"], b["block_hash"], b["subtree_hash"])
            for b in parsed.rows["blocks"]
        ),
        sorted(
            (e["parent_block_id"], e["child_block_id"], e["position"] or -1, e["is_draft"])
            for e in parsed.rows["edges"]
        ),
        sorted((s["path"], s["sha256"]) for s in parsed.rows["static_files"]),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path, metavar="CORPUS_DIR")
    parser.add_argument("--limit", type=int, help="only the first N archives")
    parser.add_argument("--json-out", type=Path)
    args = parser.parse_args(argv)
    archives = list_archives(args.corpus, args.limit)
    work = Path(tempfile.mkdtemp(prefix="bench-olx-export-"))
    seconds = {"parse": 0.0, "export": 0.0, "reingest": 0.0}
    blocks = source_bytes = export_bytes = 0
    load_before = load_average()
    try:
        for index, archive in enumerate(archives):
            started = time.perf_counter()
            source = _parse(archive)
            parsed_at = time.perf_counter()
            out = work / f"{index}.tar.gz"
            write_export(
                plan_course_export(CourseVersion.from_parsed(source, str(archive))),
                str(out),
                archive_uri=str(archive),
                archive_size=archive.stat().st_size,
            )
            exported_at = time.perf_counter()
            again = _parse(out)
            done = time.perf_counter()
            if _kept(again) != _kept(source):
                raise SystemExit(f"round trip differs for {archive}")
            seconds["parse"] += parsed_at - started
            seconds["export"] += exported_at - parsed_at
            seconds["reingest"] += done - exported_at
            blocks += source.block_count
            source_bytes += archive.stat().st_size
            export_bytes += out.stat().st_size
            out.unlink()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result = {
        "benchmark": "olx_export",
        "at": now_utc(),
        "command": "benchmarks/bench_olx_export.py "
        + " ".join(sys.argv[1:] if argv is None else argv),
        "machine": machine_info(),
        "load_before": load_before,
        "load_after": load_average(),
        "archives": len(archives),
        "blocks": blocks,
        "source_mb": rounded(source_bytes / MB, 1),
        "export_mb": rounded(export_bytes / MB, 1),
        "round_trips_equal": len(archives),
        "seconds": {k: rounded(v, 2) for k, v in seconds.items()},
        "blocks_per_s": {k: round(blocks / v) if v else None for k, v in seconds.items()},
        "peak_rss_mib": rounded(self_peak_rss_mib(), 1),
    }
    summary = [
        f"{len(archives)} archives, {blocks:,} blocks, every round trip equal",
        *(
            f"  {phase:<9} {seconds[phase]:8.1f} s  {result['blocks_per_s'][phase]:>9,} blocks/s"
            for phase in seconds
        ),
        f"  peak RSS {result['peak_rss_mib']} MiB",
    ]
    emit(result, summary, args.json_out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
