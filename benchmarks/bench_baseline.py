#!/usr/bin/env python
"""The simplest script a data engineer would write instead of the job: the bar it must clear.

One Python process reads every archive of CORPUS_DIR with the standard library's `tarfile`,
parses every `.xml` member with lxml (the job's safe parser settings) and builds one dict per
XML file: the archive, the member path, the root tag (block type), url_name (attribute, else
the file name), display_name, every attribute, the child tags and the XML text. Nothing is
written and nothing is resolved (no policies, no inline blocks, no drafts, no hashes, no
static files): one row per XML file, as scripts that parse course exports row by row do.

Issue 19 asks the job to parse at least as many blocks per second as this does on one core
(`bench_job.py --baseline` runs both on the same corpus and reports the ratio).

    .venv/bin/python benchmarks/bench_baseline.py /tmp/olxbench/c200 --repeat 3

The last line of stdout is the result as one JSON object.
"""

from __future__ import annotations

import argparse
import tarfile
import time
from pathlib import Path
from typing import Any

from benchlib import emit, list_archives, load_average, machine_info, median, now_utc, rounded
from lxml import etree


def rows_of(archive: Path) -> list[dict[str, Any]]:
    """One dict per XML file of `archive`."""
    parser = etree.XMLParser(resolve_entities=False, load_dtd=False, no_network=True)
    rows = []
    with tarfile.open(archive, mode="r:*") as tar:
        for info in tar:
            if not (info.isreg() and info.name.endswith(".xml")):
                continue
            member = tar.extractfile(info)
            if member is None:
                continue
            data = member.read()
            try:
                root = etree.fromstring(data, parser)
            except etree.XMLSyntaxError as exc:
                rows.append({"archive": archive.name, "path": info.name, "error": str(exc)})
                continue
            rows.append(
                {
                    "archive": archive.name,
                    "path": info.name,
                    "block_type": root.tag,
                    "url_name": root.get("url_name") or Path(info.name).stem,
                    "display_name": root.get("display_name"),
                    "attributes": dict(root.attrib),
                    "children": [child.tag for child in root if isinstance(child.tag, str)],
                    "xml": data.decode("utf-8", errors="replace"),
                }
            )
    return rows


def run_baseline(archives: list[Path]) -> dict[str, Any]:
    """One timed pass over `archives` in this process."""
    started = time.perf_counter()
    rows = errors = 0
    for archive in archives:
        found = rows_of(archive)
        rows += len(found)
        errors += sum(1 for row in found if "error" in row)
    return {"seconds": time.perf_counter() - started, "rows": rows, "errors": errors}


def baseline_result(corpus: Path, archives: list[Path], repeat: int) -> dict[str, Any]:
    load_before = load_average()
    runs = [run_baseline(archives) for _ in range(max(1, repeat))]
    seconds = median(r["seconds"] for r in runs)
    return {
        "benchmark": "baseline",
        "date": now_utc(),
        "corpus": str(corpus),
        "archives": len(archives),
        "processes": 1,
        "rows": runs[0]["rows"],
        "xml_errors": runs[0]["errors"],
        "runs_s": [rounded(r["seconds"]) for r in runs],
        "seconds_median": rounded(seconds),
        "rows_per_s": rounded(runs[0]["rows"] / seconds, 1),
        "load_average_before": load_before,
        "load_average_after": load_average(),
    }


def summary_lines(result: dict[str, Any]) -> list[str]:
    return [
        f"baseline (1 process, tarfile + lxml, one dict per XML file): {result['archives']} "
        f"archives, {result['rows']:,} rows",
        f"  runs {', '.join(f'{s:.2f}s' for s in result['runs_s'])}  "
        f"(median {result['seconds_median']:.2f}s), {result['rows_per_s']:,.0f} rows/s",
        f"  load average {result['load_average_before']} -> {result['load_average_after']}",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="The baseline: one process, stdlib tarfile + lxml, one dict per XML file.",
    )
    parser.add_argument("corpus", metavar="CORPUS_DIR", type=Path)
    parser.add_argument("--repeat", type=int, default=3, help="timed passes (median is quoted)")
    parser.add_argument("--limit", type=int, help="only the first N archives (sorted by name)")
    parser.add_argument("--json-out", type=Path, metavar="FILE", help="also write the JSON here")
    args = parser.parse_args(argv)

    archives = list_archives(args.corpus, args.limit)
    result = baseline_result(args.corpus, archives, args.repeat)
    result["machine"] = machine_info()
    emit(result, summary_lines(result), args.json_out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
