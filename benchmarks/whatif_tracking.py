#!/usr/bin/env python
"""What each piece of tracking log landing costs in the JVM: the evidence behind the parse and
write tunings in RESULTS.md ("Tracking log landing: profiled and tuned").

Takes the first `--lines` lines of a `.log.gz` (plain text in a scratch folder), starts a local
Spark with one core, and times, after a warm-up pass of each:

- parse variants (output to Spark's `noop` sink): the text alone; `from_json` of the line; the
  context's `from_json` once, and three times as `parse_lines` once wrote it; the line's keys;
  the job's own `parse_lines`;
- the line parsed as a `map<string,string>` (its keys from the same parse, as the job now
  does) against the struct parse plus the context plus the keys (as the job did before);
- staging variants: the job's parsed lines written as the job stages them (`lz4_raw`), and
  uncompressed;
- write variants: the staged lines read alone (`noop`); written as plain partitioned Parquet;
  written to a fresh partitioned Delta table, sorted by the partition first or with concurrent
  writers, with statistics on every column or on the declared ones, with or without Parquet
  dictionaries for the declared text columns.

    .venv/bin/python benchmarks/whatif_tracking.py /tmp/b10m/logs/MITx-prod-events-2024-03-01.log.gz \\
        --lines 250000 --scratch /tmp/trk_whatif

Times are wall seconds of one core (`local[1]`) and microseconds per line. The last line of
stdout is one JSON object.
"""

from __future__ import annotations

import argparse
import gzip
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchlib import emit, load_average, rounded, spark_result_header


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("log", type=Path, help="a .log.gz tracking log")
    parser.add_argument("--lines", type=int, default=250_000)
    parser.add_argument("--scratch", type=Path, required=True, help="recreated")
    parser.add_argument("--json-out", type=Path)
    args = parser.parse_args(argv)

    from pyspark.sql import DataFrame
    from pyspark.sql import functions as F

    from olx_spark.config import load_config
    from olx_spark.spark.delta import tuning_properties
    from olx_spark.spark.schemas import spark_schema_of
    from olx_spark.spark.session import get_session
    from olx_spark.spark.tracking_logs import STAGING_WRITE_OPTIONS, parse_lines
    from olx_spark.tracking.tables import (
        CONTEXT_JSON_FIELDS,
        EVENT_FIELDS,
        EVENT_PARTITION,
        EVENTS_TABLE,
        LINE_JSON_FIELDS,
        LINE_JSON_MAP,
        NO_DICTIONARY_COLUMNS,
        NO_STATS_COLUMNS,
    )

    if args.scratch.exists():
        shutil.rmtree(args.scratch)
    args.scratch.mkdir(parents=True)
    sample = args.scratch / "sample.log"
    with gzip.open(args.log, "rb") as src, sample.open("wb") as out:
        for n, line in enumerate(src):
            if n >= args.lines:
                break
            out.write(line)
    config_file = args.scratch / "whatif.toml"
    config_file.write_text('[spark]\nmaster = "local[1]"\n')
    spark = get_session(load_config(config_file, warehouse=str(args.scratch / "warehouse")))
    spark.conf.set("spark.sql.files.maxPartitionBytes", str(1 << 30))
    line_schema = spark_schema_of(LINE_JSON_FIELDS)
    context_schema = spark_schema_of(CONTEXT_JSON_FIELDS)
    known = F.array(*[F.lit(f.name) for f in LINE_JSON_FIELDS])

    def text() -> DataFrame:
        return spark.read.text(str(sample)).withColumnRenamed("value", "line")

    def parsed() -> DataFrame:
        return text().select("line", F.from_json("line", line_schema).alias("j"))

    top = [F.col("j")[f.name] for f in LINE_JSON_FIELDS]

    def context_thrice() -> DataFrame:
        ctx = F.from_json(F.col("j")["context"], context_schema)
        return parsed().select(*top, ctx["user_id"], ctx["course_id"], ctx["org_id"])

    def context_once() -> DataFrame:
        ctx = F.from_json(F.col("j")["context"], context_schema).alias("c")
        return parsed().select(*top, ctx).select("*", "c.*").drop("c")

    def job_lines() -> DataFrame:
        return parse_lines(
            text().select(
                F.lit("line").alias("kind"),
                F.lit("sample").alias("file_uri"),
                F.monotonically_increasing_id().alias("line_number"),
                "line",
                F.lit(None).cast("string").alias("read_error"),
                F.lit(None).cast("struct<a:int>").alias("file"),
            ),
            65536,
        )

    def struct_all() -> DataFrame:
        ctx = F.from_json(F.col("j")["context"], context_schema).alias("c")
        extra = F.array_except(F.json_object_keys("line"), known).alias("extra")
        return parsed().select(*top, ctx, extra).select("*", "c.*").drop("c")

    def map_parse() -> DataFrame:
        # One parse gives the fields (as text) and the keys: no second pass for the keys.
        m = F.from_json("line", LINE_JSON_MAP).alias("m")
        mapped = text().select(m)
        fields = [F.col("m")[f.name].alias(f.name) for f in LINE_JSON_FIELDS]
        ctx = F.from_json(F.col("m")["context"], context_schema).alias("c")
        return (
            mapped.select(*fields, ctx, F.array_except(F.map_keys("m"), known).alias("extra"))
            .select("*", "c.*")
            .drop("c")
        )

    parse_variants: dict[str, Callable[[], DataFrame]] = {
        "text": lambda: text().select(F.length("line")),
        "from_json": lambda: parsed().select(*top),
        "+ context once": context_once,
        "+ context thrice (as written before)": context_thrice,
        "+ keys once": lambda: parsed().select(
            *top, F.array_except(F.json_object_keys("line"), known).alias("extra")
        ),
        "+ context once + keys once (a struct parse, as the job did before)": struct_all,
        "the line as a map (keys from the same parse) + context once": map_parse,
        "parse_lines (the job's)": job_lines,
    }

    def timed(action: Callable[[], None]) -> float:
        action()  # warm-up
        started = time.perf_counter()
        action()
        return time.perf_counter() - started

    load_before = load_average()
    results: dict[str, dict[str, float]] = {}
    for name, frame in parse_variants.items():
        seconds = timed(lambda frame=frame: frame().write.format("noop").mode("overwrite").save())
        results[f"parse: {name}"] = {"seconds": rounded(seconds)}

    def stage(options: dict[str, str]) -> Callable[[], None]:
        def write() -> None:
            job_lines().write.options(**options).mode("overwrite").parquet(
                str(args.scratch / "stage_try")
            )

        return write

    stage_variants = {
        "parse_lines -> lz4_raw Parquet (the job's staging)": stage(STAGING_WRITE_OPTIONS),
        "parse_lines -> uncompressed Parquet": stage(
            {**STAGING_WRITE_OPTIONS, "compression": "none"}
        ),
    }
    for name, write in stage_variants.items():
        results[f"stage: {name}"] = {"seconds": rounded(timed(write))}

    staged = str(args.scratch / "staged")
    job_lines().write.options(**STAGING_WRITE_OPTIONS).parquet(staged)
    types = {f.name for f in EVENT_FIELDS}

    def events() -> DataFrame:
        rows = spark.read.parquet(staged).where("bad_reason is null")
        return rows.select(
            *[c for c in rows.columns if c in types],
            F.coalesce(F.to_date("event_time"), F.current_date()).alias(EVENT_PARTITION),
        )

    def delta_write(writers: int, properties: dict[str, str]) -> Callable[[], None]:
        def write() -> None:
            path = args.scratch / "delta"
            shutil.rmtree(path, ignore_errors=True)
            frame = events()
            frame.limit(0).write.format("delta").partitionBy(EVENT_PARTITION).save(str(path))
            if properties:
                listed = ", ".join(f"'{k}' = '{v}'" for k, v in properties.items())
                spark.sql(f"ALTER TABLE delta.`{path}` SET TBLPROPERTIES ({listed})")
            spark.conf.set("spark.sql.maxConcurrentOutputFileWriters", str(writers))
            frame.write.format("delta").mode("append").save(str(path))

        return write

    present = set(events().columns)  # the staged rows lack the file columns the job joins
    fields = [f for f in EVENT_FIELDS if f.name in present]
    stats = tuning_properties(fields, EVENT_PARTITION, NO_STATS_COLUMNS[EVENTS_TABLE])
    both = tuning_properties(
        fields,
        EVENT_PARTITION,
        NO_STATS_COLUMNS[EVENTS_TABLE],
        NO_DICTIONARY_COLUMNS[EVENTS_TABLE],
    )

    def plain_parquet() -> None:
        spark.conf.set("spark.sql.maxConcurrentOutputFileWriters", "4")
        events().write.mode("overwrite").partitionBy(EVENT_PARTITION).parquet(
            str(args.scratch / "plain")
        )

    write_variants = {
        "read the staged lines only (noop)": lambda: (
            events().write.format("noop").mode("overwrite").save()
        ),
        "plain Parquet, partitioned, 4 writers (no Delta)": plain_parquet,
        "sorted by partition, all statistics": delta_write(0, {}),
        "4 concurrent writers, all statistics": delta_write(4, {}),
        "4 writers, declared statistics": delta_write(4, stats),
        "4 writers, declared statistics, no dictionaries": delta_write(4, both),
    }
    for name, write in write_variants.items():
        results[f"write: {name}"] = {"seconds": rounded(timed(write))}
    load_after = load_average()
    spark.stop()
    shutil.rmtree(args.scratch, ignore_errors=True)

    for r in results.values():
        r["us_per_line"] = rounded(r["seconds"] / args.lines * 1e6, 1)
    result: dict[str, Any] = {
        **spark_result_header("tracking_whatif", "benchmarks/whatif_tracking.py", argv),
        "lines": args.lines,
        "load_before": load_before,
        "load_after": load_after,
        "results": results,
    }
    summary = [
        f"{k:60s} {v['seconds']:7.2f} s {v['us_per_line']:6.1f} us/line" for k, v in results.items()
    ]
    emit(result, summary, args.json_out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
