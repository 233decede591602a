#!/usr/bin/env python
"""Generate a benchmark corpus and time the generation (so it is never mistaken for the job).

The same generator as `olx-spark synth` (`olx_spark.synth.generate_corpus`), timed, with the
corpus's size in the same JSON form as the other scripts. Corpora belong under /tmp, never in
the repository.

    .venv/bin/python benchmarks/bench_synth.py /tmp/olxbench/c200 --courses 200 --scale medium
    .venv/bin/python benchmarks/bench_synth.py /tmp/olxbench/big --courses 0 --big-static-mb 2048

The last line of stdout is the result as one JSON object.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from benchlib import MB, emit, load_average, machine_info, now_utc, rounded

from olx_spark.synth import generate_corpus


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate a corpus and time the generation.")
    parser.add_argument("out_dir", metavar="OUT_DIR", type=Path)
    parser.add_argument("--courses", type=int, required=True, metavar="N")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--scale", choices=("small", "medium", "large"), default="medium")
    parser.add_argument("--workers", type=int, default=2, help="generating processes")
    parser.add_argument("--big-static-mb", type=int, default=0, metavar="MB")
    parser.add_argument("--json-out", type=Path, metavar="FILE", help="also write the JSON here")
    args = parser.parse_args(argv)

    load_before = load_average()
    summary = generate_corpus(
        args.out_dir,
        args.courses,
        seed=args.seed,
        scale=args.scale,
        big_static_bytes=args.big_static_mb * 1024 * 1024,
        workers=args.workers,
    )
    facts = summary.to_dict()
    seconds = float(facts["seconds"])
    result: dict[str, Any] = {
        "benchmark": "synth",
        "date": now_utc(),
        "out_dir": str(args.out_dir),
        "courses": args.courses,
        "seed": args.seed,
        "scale": args.scale,
        "workers": args.workers,
        "big_static_mb": args.big_static_mb,
        "archives": facts["archive_count"],
        "blocks": facts["block_count"],
        "compressed_bytes": facts["compressed_bytes"],
        "uncompressed_bytes": facts["uncompressed_bytes"],
        "seconds": rounded(seconds, 2),
        "archives_per_s": rounded(facts["archive_count"] / seconds, 2) if seconds else 0.0,
        "compressed_mb_per_s": rounded(facts["compressed_bytes"] / MB / seconds, 2)
        if seconds
        else 0.0,
        "load_average_before": load_before,
        "load_average_after": load_average(),
        "machine": machine_info(),
    }
    lines = [
        f"generated {result['archives']} archives ({result['blocks']:,} blocks, "
        f"{result['compressed_bytes'] / MB:,.1f} MB compressed) in {seconds:.1f}s "
        f"on {args.workers} processes; load {load_before} -> {result['load_average_after']}"
    ]
    emit(result, lines, args.json_out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
