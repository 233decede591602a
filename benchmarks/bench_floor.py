#!/usr/bin/env python
"""The floor: the least work any ingest of a corpus must do, on the same cores as the job.

Decompresses every archive of CORPUS_DIR (gzip + tar, streamed, every member read to its end)
and parses every `.xml` member with lxml (the same safe parser settings as the job: no entity
expansion, no DTD, no network), nothing else: no hashing, no OLX resolution, no rows, no
writes. Archives are spread over `--processes` processes (multiprocessing, largest archive
first), like the job's tasks over `local[N]` cores. The job's wall time divided by this one is
the "job / floor" ratio `bench_job.py --floor` reports. `--hash` adds sha256 of the archive
and of every member (work the job must do too), to show what the hashing alone costs.

    .venv/bin/python benchmarks/bench_floor.py /tmp/olxbench/c200 --processes 2 --repeat 3

The last line of stdout is the result as one JSON object.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import multiprocessing
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchlib import (
    MB,
    emit,
    list_archives,
    load_average,
    machine_info,
    median,
    now_utc,
    rounded,
)
from lxml import etree

CHUNK = 1024 * 1024


@dataclass(frozen=True)
class FloorItem:
    path: str
    hash_bytes: bool


@dataclass(frozen=True)
class FloorCounts:
    members: int
    xml_files: int
    xml_bytes: int
    uncompressed_bytes: int
    compressed_bytes: int
    bad_xml: int


class _CountingFile:
    """A file whose reads are counted and, for `--hash`, sha256-hashed."""

    def __init__(self, raw: Any, hash_bytes: bool) -> None:
        self._raw = raw
        self.sha = hashlib.sha256() if hash_bytes else None
        self.count = 0

    def read(self, size: int = -1) -> bytes:
        data: bytes = self._raw.read(size)
        if self.sha is not None:
            self.sha.update(data)
        self.count += len(data)
        return data


def floor_one(item: FloorItem) -> FloorCounts:
    """Inflate one archive and parse its XML members; nothing else."""
    parser = etree.XMLParser(resolve_entities=False, load_dtd=False, no_network=True)
    members = xml_files = xml_bytes = bad = 0
    with open(item.path, "rb") as raw:
        compressed = _CountingFile(raw, item.hash_bytes)
        is_gzip = raw.peek(2)[:2] == b"\x1f\x8b"
        inflated: Any = gzip.GzipFile(fileobj=compressed, mode="rb") if is_gzip else compressed
        tar_stream = _CountingFile(inflated, hash_bytes=False) if is_gzip else compressed
        with tarfile.open(fileobj=tar_stream, mode="r|") as tar:
            for info in tar:
                tar.members.clear()
                if not info.isreg():
                    continue
                members += 1
                member = tar.extractfile(info)
                if member is None:
                    continue
                if info.name.endswith(".xml"):
                    data = member.read()
                    if item.hash_bytes:
                        hashlib.sha256(data).digest()
                    xml_files += 1
                    xml_bytes += len(data)
                    try:
                        etree.fromstring(data, parser)
                    except etree.XMLSyntaxError:
                        bad += 1
                else:
                    sha = hashlib.sha256() if item.hash_bytes else None
                    while chunk := member.read(CHUNK):
                        if sha is not None:
                            sha.update(chunk)
        while tar_stream.read(CHUNK):  # the end-of-archive blocks and the gzip trailer
            pass
    return FloorCounts(members, xml_files, xml_bytes, tar_stream.count, compressed.count, bad)


def run_floor(archives: list[Path], processes: int, hash_bytes: bool = False) -> dict[str, Any]:
    """One timed pass of the floor over `archives` on `processes` processes."""
    items = [
        FloorItem(str(p), hash_bytes) for p in sorted(archives, key=lambda p: -p.stat().st_size)
    ]
    started = time.perf_counter()
    if processes <= 1:
        counts = [floor_one(item) for item in items]
    else:
        with multiprocessing.get_context("fork").Pool(processes) as pool:
            counts = list(pool.imap_unordered(floor_one, items, chunksize=1))
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "members": sum(c.members for c in counts),
        "xml_files": sum(c.xml_files for c in counts),
        "xml_bytes": sum(c.xml_bytes for c in counts),
        "uncompressed_bytes": sum(c.uncompressed_bytes for c in counts),
        "compressed_bytes": sum(c.compressed_bytes for c in counts),
        "bad_xml": sum(c.bad_xml for c in counts),
    }


def floor_result(
    corpus: Path, archives: list[Path], processes: int, repeat: int, hash_bytes: bool
) -> dict[str, Any]:
    load_before = load_average()
    runs = [run_floor(archives, processes, hash_bytes) for _ in range(max(1, repeat))]
    load_after = load_average()
    seconds = median(r["seconds"] for r in runs)
    first = runs[0]
    return {
        "benchmark": "floor",
        "date": now_utc(),
        "corpus": str(corpus),
        "archives": len(archives),
        "processes": processes,
        "hash_bytes": hash_bytes,
        "members": first["members"],
        "xml_files": first["xml_files"],
        "xml_bytes": first["xml_bytes"],
        "compressed_bytes": first["compressed_bytes"],
        "uncompressed_bytes": first["uncompressed_bytes"],
        "runs_s": [rounded(r["seconds"]) for r in runs],
        "seconds_median": rounded(seconds),
        "archives_per_s": rounded(len(archives) / seconds),
        "xml_files_per_s": rounded(first["xml_files"] / seconds, 1),
        "compressed_mb_per_s": rounded(first["compressed_bytes"] / MB / seconds, 2),
        "uncompressed_mb_per_s": rounded(first["uncompressed_bytes"] / MB / seconds, 2),
        "load_average_before": load_before,
        "load_average_after": load_after,
    }


def summary_lines(result: dict[str, Any]) -> list[str]:
    return [
        f"floor ({result['processes']} processes{', with sha256' if result['hash_bytes'] else ''}"
        f"): {result['archives']} archives, {result['xml_files']:,} XML files, "
        f"{result['compressed_bytes'] / MB:,.1f} MB compressed / "
        f"{result['uncompressed_bytes'] / MB:,.1f} MB uncompressed",
        f"  runs {', '.join(f'{s:.2f}s' for s in result['runs_s'])}  "
        f"(median {result['seconds_median']:.2f}s)",
        f"  {result['archives_per_s']:.2f} archives/s, {result['compressed_mb_per_s']:.1f} MB/s "
        f"compressed, {result['uncompressed_mb_per_s']:.1f} MB/s uncompressed",
        f"  load average {result['load_average_before']} -> {result['load_average_after']}",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="The floor: inflate every archive and parse every XML file with lxml, "
        "on N processes, nothing else.",
    )
    parser.add_argument("corpus", metavar="CORPUS_DIR", type=Path)
    parser.add_argument("--processes", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--repeat", type=int, default=3, help="timed passes (median is quoted)")
    parser.add_argument("--limit", type=int, help="only the first N archives (sorted by name)")
    parser.add_argument(
        "--hash", action="store_true", help="also sha256 the archive and every member"
    )
    parser.add_argument("--json-out", type=Path, metavar="FILE", help="also write the JSON here")
    args = parser.parse_args(argv)

    archives = list_archives(args.corpus, args.limit)
    result = floor_result(args.corpus, archives, args.processes, args.repeat, args.hash)
    result["machine"] = machine_info()
    emit(result, summary_lines(result), args.json_out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
