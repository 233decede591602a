#!/usr/bin/env python
"""The course archive parser alone, in one process: blocks/s and MB/s over a corpus.

Runs `olx_spark.olx.parse.parse_course_archive` on every archive of CORPUS_DIR, one after the
other in this process (no Spark, no multiprocessing), `--repeat` times, and reports the median
wall time as blocks/s and MB/s of compressed (file) and uncompressed (tar) bytes. The
uncompressed size of a `.tar.gz` is read from its gzip trailer (ISIZE), so measuring it costs
nothing. `--with-arrow` also turns each parsed archive into the per-table Arrow batches, which
is the rest of what a Spark executor does with it (but writing them to Parquet). `--profile
FILE` runs one extra pass under cProfile, saves the stats to FILE and prints where the time
goes.

    .venv/bin/python benchmarks/bench_parser.py /tmp/olxbench/c200 --repeat 3
    .venv/bin/python benchmarks/bench_parser.py /tmp/olxbench/c200 --limit 40 --profile /tmp/p.pstats

The last line of stdout is the result as one JSON object.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import pstats
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
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
    self_peak_rss_mib,
)

from olx_spark.olx.model import Limits
from olx_spark.olx.parse import parse_course_archive


def uncompressed_size(path: Path) -> int:
    """A `.tar.gz`'s tar size from its gzip trailer (ISIZE: size mod 2**32; single-member
    gzip, as every exporter writes); a plain `.tar` is its own size."""
    size = path.stat().st_size
    if path.name.endswith(".tar"):
        return size
    with path.open("rb") as f:
        f.seek(-4, 2)
        isize: int = struct.unpack("<I", f.read(4))[0]
    # ISIZE wraps at 4 GiB: add the wraps implied by a (conservative) 1:1 compression ratio.
    while isize < size:
        isize += 2**32
    return isize


@dataclass
class PassResult:
    seconds: float
    blocks: int
    rejected: int
    slowest_archive_s: float
    slowest_archive: str


PHASES: dict[str, float] = {}  # seconds per parser step, filled when --phases wraps them


def wrap_phases() -> None:
    """Time the parser's two steps (reading the archive, resolving the course) as it runs,
    by wrapping the functions `olx_spark.olx.parse` calls (a few calls per archive)."""
    import olx_spark.olx.parse as parse_module

    def timed(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                PHASES[name] = PHASES.get(name, 0.0) + time.perf_counter() - started

        return wrapper

    parse_module.read_archive = timed(  # type: ignore[assignment]
        "read_archive (inflate, tar, hash, hold text)", parse_module.read_archive
    )
    parse_module.locate_course = timed(  # type: ignore[assignment]
        "locate_course", parse_module.locate_course
    )
    parse_module.resolve_course = timed(  # type: ignore[assignment]
        "resolve_course (OLX -> rows)", parse_module.resolve_course
    )


def parse_all(archives: list[Path], limits: Limits, with_arrow: bool) -> PassResult:
    """One pass over the corpus; returns its wall time and what it produced."""
    to_batches: Callable[..., Any] | None = None
    if with_arrow:
        from olx_spark.olx.arrow import ArchiveSource, entity_batches

        def to_batches(parsed: Any, path: Path) -> int:
            source = ArchiveSource(str(path), path.stat().st_size, None)
            now = datetime.now(UTC)
            batches = entity_batches(
                parsed, source, source_system="bench", retrieved_at=now, status=parsed.status
            )
            return sum(b.num_rows for _, b in batches)

    blocks = rejected = 0
    slowest, slowest_name = 0.0, ""
    gc.collect()
    started = time.perf_counter()
    for path in archives:
        one = time.perf_counter()
        with path.open("rb") as stream:
            parsed = parse_course_archive(stream, path.name, limits)
        if to_batches is not None:
            to_batches(parsed, path)
        elapsed = time.perf_counter() - one
        if elapsed > slowest:
            slowest, slowest_name = elapsed, path.name
        blocks += parsed.block_count
        rejected += parsed.rejection is not None
    return PassResult(time.perf_counter() - started, blocks, rejected, slowest, slowest_name)


# Buckets for the profile summary: (label, test on "file:function").
_AREAS: list[tuple[str, Callable[[str], bool]]] = [
    ("zlib inflate (gzip)", lambda k: "zlib" in k.lower() or "decompress" in k),
    ("sha256 (archive and members)", lambda k: "sha256" in k or "openssl" in k or "update" in k),
    ("lxml parse (fromstring)", lambda k: "fromstring" in k or "XML" in k.split(":")[-1]),
    ("lxml serialise (tostring/c14n)", lambda k: "tostring" in k),
    ("copy.deepcopy", lambda k: "copy.py" in k or "__deepcopy__" in k),
    ("json", lambda k: "json" in k),
    ("tarfile", lambda k: "tarfile.py" in k),
    (
        "olx_spark.olx course resolution",
        lambda k: any(
            f"olx/{m}.py" in k
            for m in ("course", "identity", "elements", "sources", "policies", "tree", "rows")
        ),
    ),
    ("olx_spark.olx.archive", lambda k: "olx/archive.py" in k),
    ("olx_spark.olx.arrow + pyarrow", lambda k: "arrow" in k),
]


def profile_summary(stats: pstats.Stats, top: int = 20) -> dict[str, Any]:
    """Self time (tottime) per function and per area, as seconds and % of the total."""
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    rows = []
    for (filename, line, name), (_cc, _nc, tottime, cumtime, _callers) in raw.items():
        key = f"{filename}:{line}:{name}"
        rows.append((key, tottime, cumtime))
    total = sum(r[1] for r in rows) or 1.0
    areas: dict[str, float] = {}
    for key, tottime, _ in rows:
        label = next((label for label, test in _AREAS if test(key)), "other Python")
        areas[label] = areas.get(label, 0.0) + tottime
    rows.sort(key=lambda r: -r[1])
    return {
        "total_self_seconds": rounded(total),
        "areas_pct": {
            k: round(100 * v / total, 1) for k, v in sorted(areas.items(), key=lambda kv: -kv[1])
        },
        "top_self": [
            {"function": _short(k), "self_s": rounded(t), "pct": round(100 * t / total, 1)}
            for k, t, _ in rows[:top]
        ],
    }


def _short(key: str) -> str:
    filename, line, name = key.rsplit(":", 2)
    if "site-packages/" in filename:
        filename = filename.split("site-packages/", 1)[1]
    elif "/lib/python3" in filename:
        filename = "stdlib/" + filename.rsplit("/", 1)[-1]
    elif "olx_spark/" in filename:
        filename = "olx_spark/" + filename.split("olx_spark/", 1)[1]
    return f"{filename}:{line}({name})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Parse every archive of CORPUS_DIR in this one process; report blocks/s, MB/s.",
    )
    parser.add_argument("corpus", metavar="CORPUS_DIR", type=Path)
    parser.add_argument("--repeat", type=int, default=3, help="timed passes (median is quoted)")
    parser.add_argument("--limit", type=int, help="only the first N archives (sorted by name)")
    parser.add_argument(
        "--with-arrow",
        action="store_true",
        help="also convert each parsed archive to the job's staging Arrow batches",
    )
    parser.add_argument(
        "--phases",
        action="store_true",
        help="time the parser's steps (archive reading, course resolution) in the timed passes",
    )
    parser.add_argument(
        "--profile", type=Path, metavar="FILE", help="one extra pass under cProfile, stats to FILE"
    )
    parser.add_argument("--json-out", type=Path, metavar="FILE", help="also write the JSON here")
    args = parser.parse_args(argv)

    archives = list_archives(args.corpus, args.limit)
    compressed = sum(p.stat().st_size for p in archives)
    uncompressed = sum(uncompressed_size(p) for p in archives)
    limits = Limits()
    if args.phases:
        wrap_phases()
    load_before = load_average()
    passes = [parse_all(archives, limits, args.with_arrow) for _ in range(max(1, args.repeat))]
    load_after = load_average()
    seconds = median(p.seconds for p in passes)
    blocks = passes[0].blocks

    result: dict[str, Any] = {
        "benchmark": "parser",
        "date": now_utc(),
        "corpus": str(args.corpus),
        "archives": len(archives),
        "rejected": passes[0].rejected,
        "blocks": blocks,
        "compressed_bytes": compressed,
        "uncompressed_bytes": uncompressed,
        "with_arrow": args.with_arrow,
        "runs_s": [rounded(p.seconds) for p in passes],
        "seconds_median": rounded(seconds),
        "blocks_per_s": rounded(blocks / seconds, 1),
        "archives_per_s": rounded(len(archives) / seconds),
        "compressed_mb_per_s": rounded(compressed / MB / seconds, 2),
        "uncompressed_mb_per_s": rounded(uncompressed / MB / seconds, 2),
        "slowest_archive_s": rounded(max(p.slowest_archive_s for p in passes)),
        "slowest_archive": max(passes, key=lambda p: p.slowest_archive_s).slowest_archive,
        "peak_rss_mib": self_peak_rss_mib(),
        "load_average_before": load_before,
        "load_average_after": load_after,
        "machine": machine_info(),
    }
    lines = [
        f"parser, one process: {len(archives)} archives, {blocks:,} blocks, "
        f"{compressed / MB:,.1f} MB compressed / {uncompressed / MB:,.1f} MB uncompressed",
        f"  runs {', '.join(f'{p.seconds:.2f}s' for p in passes)}  (median {seconds:.2f}s)",
        f"  {result['blocks_per_s']:,.0f} blocks/s, {result['compressed_mb_per_s']:.1f} MB/s "
        f"compressed, {result['uncompressed_mb_per_s']:.1f} MB/s uncompressed",
        f"  peak RSS {result['peak_rss_mib']} MiB; load average {load_before} -> {load_after}",
    ]
    if args.phases:
        total = sum(p.seconds for p in passes)
        result["phases_pct"] = {k: round(100 * v / total, 1) for k, v in PHASES.items()}
        lines.append("  time by parser step (all passes):")
        lines += [f"    {pct:5.1f}%  {step}" for step, pct in result["phases_pct"].items()]
        rest = round(100 - sum(result["phases_pct"].values()), 1)
        lines.append(f"    {rest:5.1f}%  the rest (draining, hashing the stream, Arrow if asked)")
    if args.profile is not None:
        profiler = cProfile.Profile()
        profiler.enable()
        parse_all(archives, limits, args.with_arrow)
        profiler.disable()
        profiler.dump_stats(str(args.profile))
        summary = profile_summary(pstats.Stats(str(args.profile)))
        result["profile"] = summary
        lines.append(f"  profile ({args.profile}), self time by area:")
        lines += [f"    {pct:5.1f}%  {area}" for area, pct in summary["areas_pct"].items()]
        lines.append("  top functions by self time:")
        lines += [
            f"    {row['pct']:5.1f}%  {row['self_s']:8.3f}s  {row['function']}"
            for row in summary["top_self"][:12]
        ]
    emit(result, lines, args.json_out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
