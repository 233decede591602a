#!/usr/bin/env python
"""Tracking logs end to end: landing events/s, then xAPI statements/s, with peak memory.

Generates a corpus if CORPUS_DIR is empty (`olx_spark.synth.tracking`, outside the timing),
then runs the real commands as subprocesses into a fresh warehouse, each while a thread samples
the RSS and CPU of the process tree (`benchlib.RssSampler`: JVM, Python driver, Python workers):

1. `olx-spark ingest tracking-logs CORPUS_DIR --json` -> events landed per second;
2. `olx-spark xapi --lms-root-url ... --json` -> events read and statements written per second;
3. (`--reruns N`) `olx-spark xapi` again N times with nothing new.

    # 10 million events over 10 days, 2 cores
    .venv/bin/python benchmarks/bench_tracking.py /tmp/trk10m --days 10 \\
        --events-per-day 1000000 --warehouse /tmp/trk10m_wh --master 'local[2]'

Rates are over the job's own time (its summary's `seconds`, after the JVM has started) and
over the whole command (wall). The last line of stdout is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from bench_job import pinned_cpus, start_job, write_config
from benchlib import (
    RssSampler,
    emit,
    load_average,
    rounded,
    spark_result_header,
    wait_for_low_load,
)

EVENTS_TABLE = "raw__edxorg__s3__tracking_logs"
LMS = "https://courses.example.org"
SALT_ENV = "OLX_SPARK_XAPI_SALT"


def run_command(
    args: list[str],
    log: Path,
    interval: float,
    env: dict[str, str],
    cpus: set[int] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Run `olx-spark ARGS --json` sampled (on `cpus` only, if given); returns (its JSON
    summary, measurements)."""
    command = [sys.executable, "-m", "olx_spark.cli", *args, "--json"]
    load_before = load_average()
    started = time.perf_counter()
    with log.open("w") as err:
        proc = start_job(command, err, env, cpus)
        with RssSampler(proc.pid, interval) as sampler:
            stdout, _ = proc.communicate()
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(
            f"{' '.join(args[:2])} failed ({proc.returncode}):\n{log.read_text()[-3000:]}"
        )
    start = stdout.index("{")
    summary, _ = json.JSONDecoder().raw_decode(stdout[start:])
    return summary, {
        "wall_s": rounded(wall, 2),
        "job_s": rounded(float(summary["seconds"]), 2),
        "memory": sampler.peaks.as_mib(),
        "load_average_before": load_before,
        "load_average_after": load_average(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", type=Path, help="folder of logs (generated if empty)")
    parser.add_argument("--days", type=int, default=4)
    parser.add_argument("--events-per-day", type=int, default=250_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--warehouse", type=Path, required=True, help="recreated for the run")
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--reruns", type=int, default=1, help="no-op xapi reruns to time")
    parser.add_argument("--interval", type=float, default=0.5, help="RSS sampling interval (s)")
    parser.add_argument("--max-load", type=float, default=1.5, help="wait for this 1-min load")
    parser.add_argument("--max-wait", type=float, default=600.0)
    parser.add_argument(
        "--spark-conf",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra Spark setting for both commands (repeatable)",
    )
    parser.add_argument(
        "--landing-only", action="store_true", help="time the landing only (no xAPI step)"
    )
    parser.add_argument(
        "--pin-cpus",
        action="store_true",
        help="run the commands on as many CPUs as the master has cores (local[1]: one CPU)",
    )
    parser.add_argument("--json-out", type=Path)
    args = parser.parse_args(argv)
    cpus = pinned_cpus(args.master) if args.pin_cpus else None

    generated: dict[str, Any] | None = None
    if not args.corpus.exists() or not any(args.corpus.iterdir()):
        from olx_spark.synth.tracking import generate_tracking_logs

        summary = generate_tracking_logs(
            args.corpus, days=args.days, events_per_day=args.events_per_day, seed=args.seed
        )
        generated = summary.to_dict()
    if args.warehouse.exists():
        shutil.rmtree(args.warehouse)
    args.warehouse.mkdir(parents=True)
    config = args.warehouse.parent / f"{args.warehouse.name}.toml"
    write_config(config, args.master, dict(kv.split("=", 1) for kv in args.spark_conf))
    common = ["--warehouse", str(args.warehouse), "--config", str(config)]
    env = {**os.environ, SALT_ENV: os.environ.get(SALT_ENV, "benchmark-salt")}
    waited = wait_for_low_load(args.max_load, args.max_wait)

    landing, land_m = run_command(
        ["ingest", "tracking-logs", str(args.corpus), *common],
        args.warehouse.parent / "landing.log",
        args.interval,
        env,
        cpus,
    )
    events = int(landing["rows_written"].get(EVENTS_TABLE, 0))
    land_m["events"] = events
    land_m["events_per_s_job"] = rounded(events / land_m["job_s"], 0)
    land_m["events_per_s_wall"] = rounded(events / land_m["wall_s"], 0)

    lines = [
        f"landing: {events:,} events in {land_m['job_s']} s job / {land_m['wall_s']} s wall "
        f"-> {land_m['events_per_s_job']:,.0f} events/s (job)",
    ]
    result: dict[str, Any] = {
        **spark_result_header("tracking_logs_and_xapi", "benchmarks/bench_tracking.py", argv),
        "master": args.master,
        "pinned_cpus": sorted(cpus) if cpus is not None else None,
        "spark_conf": args.spark_conf,
        "load_wait": waited,
        "generated": generated,
        "landing": land_m,
    }
    if args.landing_only:
        emit(result, lines, args.json_out)
        return 0

    xapi, xapi_m = run_command(
        ["xapi", "--lms-root-url", LMS, *common],
        args.warehouse.parent / "xapi.log",
        args.interval,
        env,
        cpus,
    )
    xapi_m["events_read"] = xapi["events_read"]
    xapi_m["statements"] = xapi["statements_written"]
    xapi_m["skipped"] = sum(xapi["skipped"].values())
    xapi_m["statements_per_s_job"] = rounded(xapi["statements_written"] / xapi_m["job_s"], 0)
    xapi_m["statements_per_s_wall"] = rounded(xapi["statements_written"] / xapi_m["wall_s"], 0)
    xapi_m["events_per_s_job"] = rounded(xapi["events_read"] / xapi_m["job_s"], 0)
    reruns = []
    for i in range(args.reruns):
        again, m = run_command(
            ["xapi", "--lms-root-url", LMS, *common],
            args.warehouse.parent / f"xapi_rerun{i}.log",
            args.interval,
            env,
            cpus,
        )
        m["files_transformed"] = again["files_transformed"]
        reruns.append(m)

    result |= {"xapi": xapi_m, "xapi_noop_reruns": reruns}
    lines += [
        f"xapi: {xapi['events_read']:,} events -> {xapi['statements_written']:,} statements in "
        f"{xapi_m['job_s']} s job / {xapi_m['wall_s']} s wall -> "
        f"{xapi_m['statements_per_s_job']:,.0f} statements/s (job)",
        *(f"xapi no-op rerun: {m['wall_s']} s wall" for m in reruns),
    ]
    emit(result, lines, args.json_out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
