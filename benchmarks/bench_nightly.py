#!/usr/bin/env python
"""Nightly runs (issue 17): the cost of a night's chain on a warehouse with history.

Generates one world (`olx-spark synth` archives, then the same generator's learners, daily
tracking logs and weekly GPG-encrypted data packages: the same people throughout) spanning
`--history-days` + `--nights` days, then stages a landing folder and runs the whole chain as a
user does, each step an `olx-spark` subprocess sampled by `benchlib.RssSampler` (wall, CPU-s
of the JVM / Python driver / Python workers, peak RSS):

    ingest course-archives, ingest data-packages, ingest tracking-logs, xapi, transform,
    report, compact

1. history: all archives, the first N days of logs and the packages dated within them, one
   chain into a fresh warehouse;
2. night k (k = 1..K): day N+k's logs, the weekly package when day N+k is a package day (the
   packages fall every 7th day counted back from day N+1, so night 1 always has one), and
   changed copies of `--changed-fraction` of the archives (title edited, new file name): the
   chain on the history warehouse, then the same inputs (the same files) through the same
   chain on an empty warehouse;
3. `transform --full-refresh` on the history warehouse after the last night;
4. (unless `--no-earlier-targets`) the two earlier targets still missed, measured again on the
   same host in the same run (`nightly_targets.py`): the course archive job against its floor
   on the 200-archive corpus (job / floor <= 4) and tracking log landing (>= 100,000
   events/s), kept under `earlier_targets`.

`night_cost_ratio` = mean night's wall on history / mean of the same nights on an empty
warehouse; `transform_incremental_over_full` = the last night's `transform` wall / the full
rebuild's (issue 17 targets: at most 1.3 and 0.2). `--events-per-day` is the total per day;
synth's own `--events-per-day` is per course, so it gets `events_per_day / courses` (a target:
synth makes fewer in the two quiet weeks before the courses start). Every course gets the
same start (2024-01-15) in the simulation so that a night is one calendar date, as in
production (the archives keep their own dates).

    .venv/bin/python benchmarks/bench_nightly.py --history-days 14 --events-per-day 100000 \\
        --courses 20 --nights 2 --json /tmp/nightly/result.json

The last line of stdout is one JSON object (also written to `--json FILE`).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench_job import write_config
from benchlib import (
    RssSampler,
    emit,
    load_average,
    rounded,
    spark_result_header,
    wait_for_low_load,
)
from nightly_inputs import generate, night_inputs, olx_spark_bin, stage
from nightly_targets import add_options, measure
from nightly_targets import summary_lines as earlier_target_lines

STEPS = (
    "ingest_course_archives",
    "ingest_data_packages",
    "ingest_tracking_logs",
    "xapi",
    "transform",
    "report",
    "compact",
)
LMS = "https://courses.example.org"
INGEST_FILES = ("files_seen", "loaded", "unchanged", "duplicates")  # package files: members
GPG_ENV, SALT_ENV = "OLX_SPARK_GPG_PASSPHRASE", "OLX_SPARK_XAPI_SALT"
TARGETS = {"night_cost_ratio": 1.3, "transform_incremental_over_full": 0.2}
_DBT_DONE = re.compile(r"PASS=(\d+) WARN=(\d+) ERROR=(\d+) SKIP=(\d+)(?: NO-OP=\d+)? TOTAL=(\d+)")
_REPORT = re.compile(r"and (\d+) course run page\(s\).*?(\d+) CSV file\(s\)")


# ---------------------------------------------------------------------------------------------
# measuring
# ---------------------------------------------------------------------------------------------


def warehouse_rows(warehouse: Path) -> dict[str, int]:
    """Rows per table (`schema.table`), from the Delta logs and Parquet footers (no Spark)."""
    import pyarrow.parquet as pq

    from olx_spark.config import S3Config
    from olx_spark.storage.delta_log import UnsupportedDeltaTable, load_snapshot, table_location
    from olx_spark.storage.warehouse_tables import list_tables

    rows: dict[str, int] = {}
    try:
        tables = list_tables(str(warehouse), S3Config())
    except UnsupportedDeltaTable:
        return rows
    for table in tables:
        try:
            location = table_location(table.uri, S3Config())
            snapshot = load_snapshot(location)
        except UnsupportedDeltaTable:
            continue
        rows[table.qualified] = sum(
            pq.read_metadata(f"{location.path}/{f}").num_rows for f in snapshot.data_files
        )
    return rows


def _sum_schemas(rows: dict[str, int], pick: Any) -> int:
    return sum(v for k, v in rows.items() if pick(k.split(".", 1)[0]))


def _is_raw(schema: str) -> bool:
    return schema.endswith("_raw")


def _is_dbt(schema: str) -> bool:
    return not schema.endswith("_raw") and "xapi" not in schema


def run_step(
    name: str, argv: list[str], env: dict[str, str], log: Path, interval: float, warehouse: Path
) -> dict[str, Any]:
    """One `olx-spark` command, sampled; its figures, and rows in and out."""
    before = warehouse_rows(warehouse)
    load_before = load_average()
    started = time.perf_counter()
    with log.open("w") as err:
        proc = subprocess.Popen(
            [olx_spark_bin(), *argv], stdout=subprocess.PIPE, stderr=err, text=True, env=env
        )
        with RssSampler(proc.pid, interval) as sampler:
            stdout, _ = proc.communicate()
    wall = time.perf_counter() - started
    after = warehouse_rows(warehouse)
    with log.open("a") as err:
        err.write("\n--- stdout ---\n" + stdout)
    memory = sampler.peaks.as_mib()
    cpu = memory.pop("cpu_s_by_role")
    delta = {t: after.get(t, 0) - before.get(t, 0) for t in sorted(set(before) | set(after))}
    step: dict[str, Any] = {
        "command": "olx-spark " + " ".join(argv),
        "exit_code": proc.returncode,
        "wall_s": rounded(wall, 2),
        "cpu_s": {**cpu, "total": rounded(sum(cpu.values()), 1)},
        "peak_rss_mib": memory["tree_sum_peak_mib"],
        "memory": memory,
        "warehouse_rows_delta": {t: d for t, d in delta.items() if d},
        "load_average_before": load_before,
        "load_average_after": load_average(),
    }
    if proc.returncode != 0:
        step["error_tail"] = log.read_text()[-2000:]
        return step
    step |= rows_in_out(name, stdout, before, after, delta)
    return step


def rows_in_out(
    name: str, stdout: str, before: dict[str, int], after: dict[str, int], delta: dict[str, int]
) -> dict[str, Any]:
    """`rows_in` / `rows_out` (and the command's own summary) from what the step printed."""
    summary: dict[str, Any] = {}
    if name not in ("transform", "report"):  # the commands run with --json
        match = re.search(r"^\{", stdout, re.MULTILINE)
        if match is not None:
            summary = dict(json.JSONDecoder().raw_decode(stdout[match.start() :])[0])
    if name.startswith("ingest"):
        return {
            "rows_in": {k: summary.get(k, 0) for k in INGEST_FILES},
            "rows_out": sum(summary.get("rows_written", {}).values()),
            "summary": {k: v for k, v in summary.items() if k not in ("warnings", "source")},
        }
    if name == "xapi":
        keep = ("events_read", "statements_written", "files_transformed", "skipped", "seconds")
        return {
            "rows_in": summary.get("events_read", 0),
            "rows_out": summary.get("statements_written", 0),
            "summary": {k: summary[k] for k in keep if k in summary},
        }
    if name == "compact":
        results = summary.get("results", [])
        return {
            "rows_in": sum(p["small_files"] for p in summary.get("planned", [])),
            "rows_out": sum(r.get("files_added", 0) for r in results),
            "summary": {
                "tables_seen": summary.get("tables_seen"),
                "spark_used": summary.get("spark_used"),
                "tables_rewritten": len(results),
                "files_removed": sum(r.get("files_removed", 0) for r in results),
                "files_added": sum(r.get("files_added", 0) for r in results),
                "seconds": summary.get("seconds"),
            },
            "rows_unit": "small files in / files out",
        }
    if name == "transform":
        done = _DBT_DONE.findall(stdout)
        keys = ("pass", "warn", "error", "skip", "total")
        counts = dict(zip(keys, map(int, done[-1]), strict=True)) if done else None
        return {
            "rows_in": _sum_schemas(before, lambda s: not _is_dbt(s)),
            "rows_out": sum(d for t, d in delta.items() if _is_dbt(t.split(".", 1)[0])),
            "rows_in_dbt_schemas_after": _sum_schemas(after, _is_dbt),
            "summary": {"dbt_nodes": counts},
            "rows_unit": "rows of the raw/xapi tables in; net rows added to dbt tables out",
        }
    match = _REPORT.search(stdout)
    return {
        "rows_in": _sum_schemas(before, lambda s: s.endswith("_marts")),
        "rows_out": int(match.group(2)) if match else 0,
        "summary": {"course_pages": int(match.group(1)) if match else None},
        "rows_unit": "rows of the marts in; CSV files out",
    }


def run_chain(
    label: str,
    warehouse: Path,
    landing: Path,
    config: Path,
    env: dict[str, str],
    args: argparse.Namespace,
    gnupg_home: str,
) -> dict[str, Any]:
    """The night's seven commands on `warehouse`, from `landing`."""
    common = ["--warehouse", str(warehouse), "--config", str(config)]
    gpg = ["--gnupg-home", gnupg_home, "--passphrase-env", GPG_ENV]
    transform = ["transform", *(["--models-only"] if args.models_only else [])]
    argvs = {
        "ingest_course_archives": [
            *("ingest", "course-archives", str(landing / "course-archives")),
            *("--platform", "edxorg", "--source-system", "prod", "--json"),
        ],
        "ingest_data_packages": [
            *("ingest", "data-packages", str(landing / "data-packages"), *gpg, "--json"),
        ],
        "ingest_tracking_logs": [
            *("ingest", "tracking-logs", str(landing / "tracking-logs"), "--json"),
        ],
        "xapi": ["xapi", "--lms-root-url", LMS, "--json"],
        "transform": transform,
        "report": ["report", "--out", str(warehouse.parent / f"{warehouse.name}_report")],
        "compact": ["compact", "--json"],
    }
    logs = warehouse.parent / "logs"
    logs.mkdir(exist_ok=True)
    steps: dict[str, Any] = {}
    for name in STEPS:
        log = logs / f"{label}_{name}.log"
        steps[name] = run_step(name, [*argvs[name], *common], env, log, args.interval, warehouse)
        print(f"# {label} {name}: {steps[name]['wall_s']} s", file=sys.stderr, flush=True)
    return chain_totals(steps)


def chain_totals(steps: dict[str, Any]) -> dict[str, Any]:
    cpu: dict[str, float] = {}
    for step in steps.values():
        for role, seconds in step["cpu_s"].items():
            cpu[role] = rounded(cpu.get(role, 0.0) + seconds, 1)
    return {
        "wall_s": rounded(sum(s["wall_s"] for s in steps.values()), 2),
        "cpu_s": cpu,
        "peak_rss_mib": max(s["peak_rss_mib"] for s in steps.values()),
        "failed_steps": [n for n, s in steps.items() if s["exit_code"] != 0],
        "steps": steps,
    }


def checks(result: dict[str, Any]) -> list[str]:
    """What went wrong or was silently a no-op (empty: all is well)."""
    problems = [
        f"{where}: {step} failed"
        for where, chain in [("history", result["history"])]
        + [(f"night {n['night']} {side}", n[side]) for n in result["nights"] for side in SIDES]
        for step in chain["failed_steps"]
    ]
    history = result["history"]["steps"]
    for step in ("ingest_course_archives", "ingest_tracking_logs", "xapi"):
        if not history[step].get("rows_out"):
            problems.append(f"history: {step} wrote no rows")
    for night in result["nights"]:
        for side in SIDES:
            steps = night[side]["steps"]
            if steps["ingest_tracking_logs"].get("rows_out", 0) <= 0:
                problems.append(f"night {night['night']} {side}: no new events landed")
            loaded = steps["ingest_course_archives"].get("rows_in", {}).get("loaded", 0)
            if loaded != night["inputs"]["archives_changed"]:
                problems.append(f"night {night['night']} {side}: {loaded} archives loaded")
            seen = steps["ingest_data_packages"].get("rows_in", {})
            read = seen.get("files_seen", 0) - seen.get("unchanged", 0)  # package members
            if (read > 0) != (night["inputs"]["packages"] > 0):
                problems.append(f"night {night['night']} {side}: {read} package files read")
    return problems


SIDES = ("on_history", "on_empty")


def save_partial(result: dict[str, Any], path: Path | None) -> None:
    """What was measured so far (`"partial": true`), in case a later step fails."""
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({**result, "partial": True}, indent=2, default=str) + "\n")


def ratio(numerator: float, denominator: float) -> float | None:
    return rounded(numerator / denominator, 3) if denominator > 0 else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--history-days", type=int, default=30)
    parser.add_argument(
        "--events-per-day", type=int, default=1_000_000, help="events per day, all courses"
    )
    parser.add_argument("--courses", type=int, default=200)
    parser.add_argument("--nights", type=int, default=3)
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the JSON here")
    parser.add_argument(
        "--learners", type=int, help="learners (default: events per day / 25, at least 100)"
    )
    parser.add_argument("--scale", default="small", choices=("small", "medium", "large"))
    parser.add_argument("--changed-fraction", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--models-only", action="store_true", help="transform --models-only")
    parser.add_argument("--work", type=Path, default=Path("/tmp/olx_nightly"), help="recreated")
    parser.add_argument("--interval", type=float, default=0.5, help="RSS sampling interval (s)")
    parser.add_argument("--max-load", type=float, default=2.0, help="wait for this 1-min load")
    parser.add_argument("--max-wait", type=float, default=600.0)
    add_options(parser)
    args = parser.parse_args(argv)
    if args.learners is None:
        args.learners = max(100, args.events_per_day // 25)
    if min(args.history_days, args.nights, args.courses, args.events_per_day) < 1:
        parser.error("--history-days, --nights, --courses and --events-per-day must be >= 1")

    shutil.rmtree(args.work, ignore_errors=True)
    args.work.mkdir(parents=True)
    started = time.perf_counter()
    pool = generate(args.work, args)
    config = args.work / "nightly.toml"
    write_config(config, args.master, {"spark.ui.showConsoleProgress": "false"})
    env = {
        **os.environ,
        GPG_ENV: pool.passphrase,
        SALT_ENV: os.environ.get(SALT_ENV, "benchmark-salt"),
        "DBT_TARGET_PATH": str(args.work / "dbt-target"),  # not the repository's dbt/target
        "DBT_LOG_PATH": str(args.work / "dbt-logs"),
    }
    waited = wait_for_low_load(args.max_load, args.max_wait)
    result: dict[str, Any] = {
        **spark_result_header("nightly", "benchmarks/bench_nightly.py", argv),
        "options": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "synth_events_per_course_day": max(1, round(args.events_per_day / args.courses)),
        "load_wait": waited,
        "generated": {
            "seconds": rounded(pool.seconds, 1),
            "archives": len(pool.archives),
            "events_by_day": [pool.events.get(d, 0) for d in sorted(pool.events)],
            "package_days": sorted(pool.packages),
        },
    }
    history_wh = args.work / "history" / "warehouse"
    landing = args.work / "history" / "landing"
    days = range(1, args.history_days + 1)
    stage(
        landing,
        pool.archives,
        [p for d in days for p in pool.logs.get(d, [])],
        [p for d in days for p in pool.packages.get(d, [])],
    )
    history_wh.mkdir(parents=True)
    result["nights"] = []
    try:
        result["history"] = run_chain(
            "history", history_wh, landing, config, env, args, pool.gnupg_home
        )
        result["history"]["inputs"] = {
            "days": args.history_days,
            "events": sum(pool.events.get(d, 0) for d in days),
            "archives": len(pool.archives),
            "packages": sum(len(pool.packages.get(d, [])) for d in days),
        }
        save_partial(result, args.json)
        for k in range(1, args.nights + 1):
            inputs = night_inputs(pool, args.work, args, k)
            files = (inputs["archives"], inputs["logs"], inputs["packages"])
            stage(landing, *files)
            night: dict[str, Any] = {
                "night": k,
                "day": inputs["day"],
                "inputs": {
                    "log_files": len(inputs["logs"]),
                    "events": inputs["events"],
                    "packages": len(inputs["packages"]),
                    "archives_changed": len(inputs["archives"]),
                },
            }
            night["on_history"] = run_chain(
                f"night{k}", history_wh, landing, config, env, args, pool.gnupg_home
            )
            empty = args.work / f"empty{k}"
            stage(empty / "landing", *files)
            (empty / "warehouse").mkdir(parents=True)
            night["on_empty"] = run_chain(
                f"empty{k}", empty / "warehouse", empty / "landing", config, env, args,
                pool.gnupg_home,
            )  # fmt: skip
            shutil.rmtree(empty / "warehouse", ignore_errors=True)
            night["cost_ratio"] = ratio(night["on_history"]["wall_s"], night["on_empty"]["wall_s"])
            result["nights"].append(night)
            save_partial(result, args.json)
        full_argv = [
            "transform",
            "--full-refresh",
            *(["--models-only"] if args.models_only else []),
        ]
        full_argv += ["--warehouse", str(history_wh), "--config", str(config)]
        log = args.work / "history" / "logs" / "full_refresh_transform.log"
        result["full_refresh_transform"] = run_step(
            "transform", full_argv, env, log, args.interval, history_wh
        )
        if not args.no_earlier_targets:  # issue 17, item 3: in the same run, on the same host
            save_partial(result, args.json)
            result["earlier_targets"] = measure(args.work, args)
    finally:
        from olx_spark.synth.packages import stop_agent

        stop_agent(pool.gnupg_home)
    nights = result["nights"]
    mean_history = sum(n["on_history"]["wall_s"] for n in nights) / len(nights)
    mean_empty = sum(n["on_empty"]["wall_s"] for n in nights) / len(nights)
    last_transform = nights[-1]["on_history"]["steps"]["transform"]["wall_s"]
    full_wall = result["full_refresh_transform"]["wall_s"]
    result["night_cost_ratio"] = ratio(mean_history, mean_empty)
    result["transform_incremental_over_full"] = ratio(last_transform, full_wall)
    result["targets"] = {
        key: {"at_most": bound, "met": (result[key] is not None and result[key] <= bound)}
        for key, bound in TARGETS.items()
    }
    result["load_average_end"] = load_average()
    result["seconds_total"] = rounded(time.perf_counter() - started, 1)
    result["checks"] = checks(result)
    emit(result, summary_lines(result), args.json)
    return 1 if result["checks"] else 0


def summary_lines(result: dict[str, Any]) -> list[str]:
    m, o = result["machine"], result["options"]
    lines = [
        f"machine: {m['nproc']} CPUs {m['cpu_model']}, {m['memory_total_gb']} GiB; "
        f"load {result['load_wait']['load_at_start']} at start, "
        f"{result['load_average_end']} at end",
        f"history: {o['history_days']} days, {result['history']['inputs']['events']:,} events, "
        f"{o['courses']} courses -> {result['history']['wall_s']} s",
    ]
    for night in result["nights"]:
        h, e = night["on_history"], night["on_empty"]
        lines.append(
            f"night {night['night']} ({night['inputs']['events']:,} events, "
            f"{night['inputs']['packages']} packages, {night['inputs']['archives_changed']} "
            f"archives): {h['wall_s']} s on history, {e['wall_s']} s on empty -> "
            f"{night['cost_ratio']}"
        )
        lines.append(
            "  per step (history / empty): "
            + ", ".join(f"{s} {h['steps'][s]['wall_s']}/{e['steps'][s]['wall_s']}" for s in STEPS)
        )
    lines += [
        f"transform --full-refresh: {result['full_refresh_transform']['wall_s']} s",
        f"night_cost_ratio {result['night_cost_ratio']} (target <= 1.3), "
        f"transform_incremental_over_full {result['transform_incremental_over_full']} "
        "(target <= 0.2)",
        *(earlier_target_lines(result["earlier_targets"]) if "earlier_targets" in result else []),
        *(f"CHECK FAILED: {p}" for p in result["checks"]),
    ]
    return lines


if __name__ == "__main__":
    sys.exit(main())
