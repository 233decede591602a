#!/usr/bin/env python
"""What-if: the parser with one change applied in memory, against the parser as it is.

Each variant patches the imported parser for the duration of its pass only (no file is
edited), then the same archives are parsed in this one process; passes alternate between
variants (`--rounds` times) so a change in the machine's load hits all of them alike. This is
the evidence behind the optimisations RESULTS.md suggests.

Variants:
- `baseline`: the parser as it is.
- `tar_bufsize_10k`, `tar_bufsize_64k`: `tarfile.open(..., bufsize=...)` in
  `olx_spark.olx.archive._read_tar` given 10 KiB (tarfile's own default, `RECORDSIZE`) or
  64 KiB instead of 1 MiB. In stream mode tarfile's `_Stream.__read` keeps the rest of its
  buffer by slicing (`self.buf = t[size:]`), so every 512-byte header read copies up to
  `bufsize` bytes: with thousands of members per course that copying dominates.

    .venv/bin/python benchmarks/whatif_parser.py /tmp/olxbench/c200 --limit 20 --rounds 2

The last line of stdout is the result as one JSON object.
"""

from __future__ import annotations

import argparse
import tarfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
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

import olx_spark.olx.archive as archive_module
from olx_spark.olx.model import Limits
from olx_spark.olx.parse import parse_course_archive


@contextmanager
def tar_bufsize(size: int) -> Iterator[None]:
    """`tarfile.open` as the parser calls it, with `bufsize` replaced."""
    real_open = tarfile.open

    def patched(*args: Any, **kwargs: Any) -> tarfile.TarFile:
        kwargs["bufsize"] = size
        return real_open(*args, **kwargs)

    archive_module.tarfile.open = patched  # type: ignore[assignment]
    try:
        yield
    finally:
        archive_module.tarfile.open = real_open


VARIANTS: dict[str, Callable[[], AbstractContextManager[None]]] = {
    "baseline": nullcontext,
    "tar_bufsize_10k": lambda: tar_bufsize(tarfile.RECORDSIZE),
    "tar_bufsize_64k": lambda: tar_bufsize(64 * 1024),
}


def one_pass(archives: list[Path], limits: Limits) -> tuple[float, int]:
    blocks = 0
    started = time.perf_counter()
    for path in archives:
        with path.open("rb") as stream:
            parsed = parse_course_archive(stream, path.name, limits)
        blocks += parsed.block_count
    return time.perf_counter() - started, blocks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Parse the same archives with the parser as it is and with in-memory "
        "variants; report each variant's median time and its speed-up.",
    )
    parser.add_argument("corpus", metavar="CORPUS_DIR", type=Path)
    parser.add_argument("--limit", type=int, default=20, help="first N archives (default 20)")
    parser.add_argument("--rounds", type=int, default=2, help="passes per variant (alternating)")
    parser.add_argument(
        "--variant",
        action="append",
        choices=sorted(VARIANTS),
        help="variants to run (default: all); baseline is always run",
    )
    parser.add_argument("--json-out", type=Path, metavar="FILE", help="also write the JSON here")
    args = parser.parse_args(argv)

    names = ["baseline", *[v for v in (args.variant or VARIANTS) if v != "baseline"]]
    archives = list_archives(args.corpus, args.limit)
    compressed = sum(p.stat().st_size for p in archives)
    limits = Limits()
    times: dict[str, list[float]] = {name: [] for name in names}
    blocks: dict[str, int] = {}
    load_before = load_average()
    for _ in range(max(1, args.rounds)):
        for name in names:
            with VARIANTS[name]():
                seconds, count = one_pass(archives, limits)
            times[name].append(seconds)
            blocks[name] = count
    load_after = load_average()
    base = median(times["baseline"])
    variants = {
        name: {
            "runs_s": [rounded(t) for t in times[name]],
            "seconds_median": rounded(median(times[name])),
            "blocks": blocks[name],
            "blocks_per_s": rounded(blocks[name] / median(times[name]), 1),
            "speedup_vs_baseline": rounded(base / median(times[name]), 2),
        }
        for name in names
    }
    result: dict[str, Any] = {
        "benchmark": "whatif_parser",
        "date": now_utc(),
        "corpus": str(args.corpus),
        "archives": len(archives),
        "compressed_bytes": compressed,
        "variants": variants,
        "load_average_before": load_before,
        "load_average_after": load_after,
        "machine": machine_info(),
    }
    lines = [f"what-if, one process: {len(archives)} archives, {compressed / MB:,.1f} MB"]
    lines += [
        f"  {name:<18} median {v['seconds_median']:7.2f}s  {v['blocks_per_s']:9,.0f} blocks/s  "
        f"x{v['speedup_vs_baseline']:.2f}  (runs {', '.join(f'{t:.2f}' for t in v['runs_s'])})"
        for name, v in variants.items()
    ]
    lines.append(f"  load average {load_before} -> {load_after}")
    emit(result, lines, args.json_out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
