#!/usr/bin/env python
"""The floor under tracking log landing: what Spark alone does with the same logs.

The landing job (`olx-spark ingest tracking-logs`) reads each log in Python (decryption, gzip
damage, line numbers, sha256), parses every line with Spark's `from_json` and writes Delta. This
script measures, on the same corpus and cores, the least any such job must do, with nothing
of ours in the way: Spark reads the `.log.gz` files itself (JVM gunzip, its text source), and

1. `text`: counts the lines (gunzip + line split);
2. `from_json`: parses every line with `from_json` against the job's line schema
   (`olx_spark.tracking.tables.LINE_JSON_FIELDS`, the payload and context kept as text), output
   discarded (Spark's `noop` sink);
3. `parquet`: the same, written as snappy Parquet to a scratch folder (no Delta, no line
   numbers, no file identity, no context fields, no bad-line split).

    .venv/bin/python benchmarks/bench_tracking_floor.py /tmp/trk10m --master 'local[2]' \\
        --scratch /tmp/trk_floor

Rates are lines per second of each step's wall time (the JVM started and warmed up by a first
pass over one file, outside the timing). The last line of stdout is one JSON object.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from benchlib import emit, load_average, rounded, spark_result_header, wait_for_low_load

STEPS = ("text", "from_json", "parquet")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", type=Path, help="folder of .log.gz files")
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--scratch", type=Path, required=True, help="recreated; Parquet output")
    parser.add_argument("--steps", nargs="+", choices=STEPS, default=list(STEPS))
    parser.add_argument("--max-load", type=float, default=1.5, help="wait for this 1-min load")
    parser.add_argument("--max-wait", type=float, default=600.0)
    parser.add_argument("--json-out", type=Path)
    args = parser.parse_args(argv)

    from pyspark.sql import functions as F

    from olx_spark.config import load_config
    from olx_spark.spark.schemas import spark_schema_of
    from olx_spark.spark.session import get_session
    from olx_spark.tracking.tables import LINE_JSON_FIELDS

    logs = sorted(args.corpus.glob("*.log.gz"))
    if not logs:
        parser.error(f"no .log.gz files in {args.corpus}")
    if args.scratch.exists():
        shutil.rmtree(args.scratch)
    args.scratch.mkdir(parents=True)
    config_file = args.scratch / "floor.toml"
    config_file.write_text(f'[spark]\nmaster = "{args.master}"\n')
    spark = get_session(load_config(config_file, warehouse=str(args.scratch / "warehouse")))
    schema = spark_schema_of(LINE_JSON_FIELDS)
    paths = [str(p) for p in logs]

    def frame(step: str, files: list[str]) -> Any:
        text = spark.read.text(files)
        if step == "text":
            return text.select(F.length("value").alias("n"))
        return text.select(F.from_json("value", schema).alias("j")).select("j.*")

    def run(step: str, files: list[str]) -> float:
        started = time.perf_counter()
        df = frame(step, files)
        if step == "parquet":
            out = args.scratch / f"out_{len(files)}"
            df.write.mode("overwrite").option("compression", "snappy").parquet(str(out))
            shutil.rmtree(out)
        else:
            df.write.format("noop").mode("overwrite").save()
        return time.perf_counter() - started

    lines = spark.read.text(paths[:1]).count()  # warm-up (JIT, Python worker, file system)
    lines = spark.read.text(paths).count()
    waited = wait_for_low_load(args.max_load, args.max_wait)
    load_before = load_average()
    results: dict[str, dict[str, float]] = {}
    for step in args.steps:
        run(step, paths[:1])  # warm this step's code on one file
        seconds = run(step, paths)
        results[step] = {"seconds": rounded(seconds), "lines_per_s": rounded(lines / seconds, 0)}
    load_after = load_average()
    spark.stop()
    shutil.rmtree(args.scratch, ignore_errors=True)

    result = {
        **spark_result_header("tracking_logs_floor", "benchmarks/bench_tracking_floor.py", argv),
        "master": args.master,
        "files": len(paths),
        "lines": lines,
        "load_wait": waited,
        "load_before": load_before,
        "load_after": load_after,
        "steps": results,
    }
    summary = [
        f"{step}: {lines:,} lines in {r['seconds']} s -> {r['lines_per_s']:,.0f} lines/s"
        for step, r in results.items()
    ]
    emit(result, summary, args.json_out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
