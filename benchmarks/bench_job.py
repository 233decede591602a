#!/usr/bin/env python
"""The course archive job end to end: wall time, blocks/s and peak memory per process role.

Runs the real job, `olx-spark ingest course-archives CORPUS_DIR --json`, as a subprocess into a
fresh warehouse under `--warehouse DIR`, once per `--runs` for each `--master` given, while a
thread samples the RSS of the whole process tree from /proc every `--interval` seconds: the JVM
(`java`: Spark's driver, which in local mode also hosts the executors), the Python driver
(`olx-spark`) and the Python workers (`pyspark.daemon` and the workers it forks) separately.

    # 200 archives, 3 runs on 2 cores, then the floor on the same corpus and 2 processes
    .venv/bin/python benchmarks/bench_job.py /tmp/olxbench/c200 --master 'local[2]' \\
        --warehouse /tmp/olxbench/wh --runs 3 --floor
    # scaling: the same job on one core and on two
    .venv/bin/python benchmarks/bench_job.py /tmp/olxbench/c200 --master 'local[1]' \\
        --master 'local[2]' --warehouse /tmp/olxbench/wh
    # incremental rerun: load once, then run again 3 times with nothing new
    .venv/bin/python benchmarks/bench_job.py /tmp/olxbench/c1000 --master 'local[2]' \\
        --warehouse /tmp/olxbench/wh --reruns 3

With several masters, `speedup` is the median wall time of the first over that of each other.
With `--baseline`, the one-process baseline (`bench_baseline.py`: tarfile + lxml, one dict per
XML file) runs on the same corpus and `job_blocks_per_s_over_baseline_rows_per_s` compares the
last master's blocks/s with its rows/s (issue 19: at least 1). With `--floor`, the floor (`bench_floor.py`: inflate + lxml-parse only, on as many processes as
the last master has cores) runs on the same corpus and `job_over_floor` is the ratio of the
last master's median wall time to the floor's. The last line of stdout is one JSON object.
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
from functools import partial
from pathlib import Path
from typing import IO, Any

from bench_baseline import baseline_result
from bench_baseline import summary_lines as baseline_summary_lines
from bench_floor import floor_result
from bench_floor import summary_lines as floor_summary_lines
from benchlib import (
    MB,
    RssSampler,
    emit,
    list_archives,
    load_average,
    machine_info,
    median,
    now_utc,
    rounded,
    wait_for_low_load,
)

BLOCKS_TABLE = "raw__edxorg__s3__course_xml_blocks"
PY_SPY_RATE = 20  # samples per second of the driver, when --py-spy is given


def job_command(corpus: Path, warehouse: Path, config: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "olx_spark.cli",
        "ingest",
        "course-archives",
        str(corpus),
        "--platform",
        "edxorg",
        "--source-system",
        "bench",
        "--warehouse",
        str(warehouse),
        "--config",
        str(config),
        "--json",
    ]


def _toml_value(text: str) -> int | bool:
    """An `--ingest` value: an integer, or true / false."""
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    return int(text)


def write_config(
    path: Path, master: str, spark_conf: dict[str, str], ingest: dict[str, int | bool] | None = None
) -> None:
    lines = ["[spark]", f"master = {json.dumps(master)}", "", "[spark.conf]"]
    lines += [f"{json.dumps(k)} = {json.dumps(v)}" for k, v in spark_conf.items()]
    if ingest:
        lines += ["", "[ingest]"] + [f"{k} = {str(v).lower()}" for k, v in ingest.items()]
    path.write_text("\n".join(lines) + "\n")


def pinned_cpus(master: str) -> set[int]:
    """The first N CPUs this process may run on, N the master's core count: the job pinned to
    them sees N cores, JVM and Python workers alike (affinity is inherited), so `local[1]`
    measures one core rather than one task thread beside a JVM free to use the others."""
    allowed = sorted(os.sched_getaffinity(0))
    n = _cores(master)
    if n > len(allowed):
        raise SystemExit(
            f"--pin-cpus: {master} needs {n} CPUs, this process may use {len(allowed)}"
        )
    return set(allowed[:n])


def start_job(
    command: list[str], err: IO[str], env: dict[str, str] | None, cpus: set[int] | None
) -> subprocess.Popen[str]:
    """`command` started with its stdout piped (text) and stderr to `err`; with `cpus`, it and
    everything it starts may run only on those CPUs."""
    return subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=err,
        text=True,
        env=env,
        preexec_fn=None if cpus is None else partial(os.sched_setaffinity, 0, cpus),
    )


def parse_summary(stdout: str) -> dict[str, Any]:
    """The job's `--json` summary (an indented JSON object) out of its stdout."""
    match = re.search(r"^\{", stdout, re.MULTILINE)
    if match is None:
        raise ValueError("the job printed no JSON summary")
    value, _ = json.JSONDecoder().raw_decode(stdout[match.start() :])
    return dict(value)


def run_job(
    corpus: Path,
    warehouse: Path,
    config: Path,
    interval: float,
    log: Path,
    env: dict[str, str] | None = None,
    event_log: Path | None = None,
    py_spy: tuple[str, Path] | None = None,
    cpus: set[int] | None = None,
) -> dict[str, Any]:
    """One run of the job as a subprocess, its RSS sampled; returns the measurements. With
    `cpus`, the job (and everything it starts) may run only on those CPUs."""
    command = job_command(corpus, warehouse, config)
    load_before = load_average()
    started = time.perf_counter()
    spy = None
    with log.open("w") as err:
        proc = start_job(command, err, env, cpus)
        if py_spy is not None:
            spy = subprocess.Popen(
                [
                    *(py_spy[0], "record", "--pid", str(proc.pid), "--rate", str(PY_SPY_RATE)),
                    *("--idle", "--nonblocking", "--format", "raw", "--output", str(py_spy[1])),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        with RssSampler(proc.pid, interval) as sampler:
            stdout, _ = proc.communicate()
    wall = time.perf_counter() - started
    if spy is not None:
        spy.wait(timeout=60)
    if proc.returncode != 0:
        tail = log.read_text()[-3000:]
        raise SystemExit(f"the job failed (exit {proc.returncode}); stderr tail:\n{tail}")
    summary = parse_summary(stdout)
    blocks = int(summary.get("rows_written", {}).get(BLOCKS_TABLE, 0))
    phases = phases_from_event_log(event_log) if event_log is not None else None
    driver = driver_profile(py_spy[1]) if py_spy is not None and py_spy[1].exists() else None
    return {
        "wall_s": rounded(wall, 2),
        "job_reported_s": rounded(float(summary["seconds"]), 2),
        "startup_and_shutdown_s": rounded(wall - float(summary["seconds"]), 2),
        "files_seen": summary["files_seen"],
        "loaded": summary["loaded"],
        "unchanged": summary["unchanged"],
        "rejected": summary["rejected"],
        "blocks_written": blocks,
        "rows_written": summary.get("rows_written", {}),
        "blocks_per_s": rounded(blocks / wall, 1),
        "memory": sampler.peaks.as_mib(),
        "cpus": sorted(cpus) if cpus is not None else None,
        "load_average_before": load_before,
        "load_average_after": load_average(),
        **({"spark_phases": phases} if phases is not None else {}),
        **({"driver_profile": driver} if driver is not None else {}),
    }


def _frame_name(frame: str) -> str:
    """`function (path/to/file.py:123)` -> `file.py:function`."""
    name, _, where = frame.partition(" (")
    filename = where.rsplit(":", 1)[0].rsplit("/", 1)[-1]
    return f"{filename}:{name}" if filename else name


def driver_profile(raw: Path, top: int = 15) -> dict[str, Any]:
    """Where the Python driver's main thread spends the run's wall time, from py-spy's raw
    (collapsed) samples taken with `--idle`: waiting on the JVM counts where it is waited for.

    `by_step` attributes each sample to the step of `run_course_archives` it is under (or to
    the start-up/shut-down code around it); `by_olx_spark_frame` to the innermost olx_spark
    function on the stack."""
    steps: dict[str, float] = {}
    inner: dict[str, float] = {}
    total = 0.0
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if "cli.py" not in stack or not count_text.isdigit():
            continue  # not the main thread (py4j's and the JVM-callback threads)
        seconds = int(count_text) / PY_SPY_RATE
        frames = stack.split(";")
        total += seconds
        names = [_frame_name(f) for f in frames]
        where = next((i for i, n in enumerate(names) if n.endswith(":run_course_archives")), None)
        if where is None:
            cli = [n for n in names if n.startswith("cli.py:")]
            step = f"outside the job ({cli[-1] if cli else names[0]})"
            deeper = [n for n in names if "session.py:" in n or "jars.py:" in n]
            step += f" > {deeper[0]}" if deeper else ""
        elif where + 1 < len(names):
            step = names[where + 1]
        else:
            step = names[where] + " (itself)"
        steps[step] = steps.get(step, 0.0) + seconds
        olx = [n for n, f in zip(names, frames, strict=True) if "olx_spark/" in f]
        if olx:
            inner[olx[-1]] = inner.get(olx[-1], 0.0) + seconds

    def ranked(values: dict[str, float]) -> dict[str, float]:
        return {k: round(v, 1) for k, v in sorted(values.items(), key=lambda kv: -kv[1])[:top]}

    return {
        "sampled_s": round(total, 1),
        "rate_hz": PY_SPY_RATE,
        "by_step": ranked(steps),
        "by_olx_spark_frame": ranked(inner),
    }


def phases_from_event_log(log_dir: Path) -> dict[str, Any]:
    """Wall time per Spark job description (the job names its phases: "parse N course
    archives", "write blocks", ...) from Spark's event log, plus the run's first-to-last job."""
    files = sorted(
        p for p in log_dir.rglob("*") if p.is_file() and not p.name.startswith((".", "appstatus"))
    )
    if not files:
        return {}
    starts: dict[int, tuple[int, str]] = {}
    phases: dict[str, dict[str, float]] = {}
    app_start = app_end = first_job = last_job = 0
    with files[0].open() as events:
        for line in events:
            try:
                event = json.loads(line)
            except ValueError:  # a line cut short by a killed run
                continue
            kind = event.get("Event", "")
            if kind == "SparkListenerApplicationStart":
                app_start = int(event["Timestamp"])
            elif kind == "SparkListenerApplicationEnd":
                app_end = int(event["Timestamp"])
            elif kind == "SparkListenerJobStart":
                props = event.get("Properties") or {}
                name = props.get("spark.job.description") or "(no description)"
                name = re.sub(r"\d+", "N", name)
                starts[int(event["Job ID"])] = (int(event["Submission Time"]), name)
                first_job = first_job or int(event["Submission Time"])
            elif kind == "SparkListenerJobEnd" and int(event["Job ID"]) in starts:
                started, name = starts[int(event["Job ID"])]
                ended = int(event["Completion Time"])
                last_job = max(last_job, ended)
                phase = phases.setdefault(name, {"jobs": 0, "seconds": 0.0})
                phase["jobs"] += 1
                phase["seconds"] = round(phase["seconds"] + (ended - started) / 1000, 2)
    in_jobs = sum(p["seconds"] for p in phases.values())
    return {
        "app_s": round((app_end - app_start) / 1000, 2) if app_end else None,
        "first_job_to_last_job_s": round((last_job - first_job) / 1000, 2) if first_job else None,
        "inside_spark_jobs_s": round(in_jobs, 2),
        "by_description": dict(sorted(phases.items(), key=lambda kv: -kv[1]["seconds"])),
    }


def _fresh(path: Path) -> Path:
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


def _cores(master: str) -> int:
    match = re.fullmatch(r"local\[(\d+)\]", master)
    return int(match.group(1)) if match else 2


def _aggregate(runs: list[dict[str, Any]]) -> dict[str, Any]:
    keys = runs[0]["memory"].keys()
    peak_memory = {
        k: max(r["memory"][k] for r in runs) for k in keys if k.endswith("_mib") or k == "samples"
    }
    return {
        "runs": len(runs),
        "wall_s_median": rounded(median(r["wall_s"] for r in runs), 2),
        "wall_s_runs": [r["wall_s"] for r in runs],
        "blocks_per_s_median": rounded(median(r["blocks_per_s"] for r in runs), 1),
        "startup_and_shutdown_s_median": rounded(
            median(r["startup_and_shutdown_s"] for r in runs), 2
        ),
        "memory_peak_over_runs": peak_memory,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Run `olx-spark ingest course-archives` on CORPUS_DIR and measure it.",
    )
    parser.add_argument("corpus", metavar="CORPUS_DIR", type=Path)
    parser.add_argument(
        "--master",
        action="append",
        metavar="MASTER",
        help="Spark master, e.g. 'local[2]'; repeat to compare (default local[2])",
    )
    parser.add_argument(
        "--warehouse",
        type=Path,
        required=True,
        metavar="DIR",
        help="scratch folder: each run gets a fresh warehouse under it (deleted first)",
    )
    parser.add_argument("--runs", type=int, default=1, help="fresh runs per master (default 1)")
    parser.add_argument(
        "--reruns",
        type=int,
        default=0,
        help="after the last fresh run, run the job again N times with nothing new",
    )
    parser.add_argument(
        "--floor", action="store_true", help="also run the floor and report job / floor"
    )
    parser.add_argument("--floor-repeat", type=int, default=3, help="floor passes (median)")
    parser.add_argument(
        "--baseline",
        action="store_true",
        help="also run the one-process baseline (bench_baseline.py) and report the job's "
        "blocks/s over its rows/s",
    )
    parser.add_argument(
        "--spark-conf",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra Spark setting for the job (repeatable)",
    )
    parser.add_argument(
        "--ingest",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="an [ingest] setting for the job, e.g. max_parse_tasks=16 or direct_writes=false"
        " (repeatable)",
    )
    parser.add_argument(
        "--pin-cpus",
        action="store_true",
        help="run each master's job on only as many CPUs as it has cores (local[1] on one "
        "CPU, local[2] on two), so the speed-up is one core against two",
    )
    parser.add_argument(
        "--phases",
        action="store_true",
        help="turn on Spark's event log and report wall time per Spark job description",
    )
    parser.add_argument(
        "--py-spy",
        metavar="BIN",
        help="py-spy executable: sample the Python driver and report where its time goes",
    )
    parser.add_argument(
        "--whatif",
        action="append",
        choices=("lazy_zip", "tar_bufsize"),
        default=[],
        help="run the job with an in-memory change applied in the Python workers "
        "(see whatif_daemon.py; both changes are in the job itself since 2026-11-27); repeatable",
    )
    parser.add_argument("--interval", type=float, default=0.2, help="RSS sampling period (s)")
    parser.add_argument(
        "--load-threshold",
        type=float,
        default=1.5,
        help="before each run, wait while the 1-minute load average is above this",
    )
    parser.add_argument(
        "--max-load-wait",
        type=float,
        default=120.0,
        help="wait at most this long (s) for the load to drop, then measure anyway",
    )
    parser.add_argument("--json-out", type=Path, metavar="FILE", help="also write the JSON here")
    args = parser.parse_args(argv)

    masters: list[str] = args.master or ["local[2]"]
    spark_conf = dict(kv.split("=", 1) for kv in args.spark_conf)
    ingest = {k: _toml_value(v) for k, v in (kv.split("=", 1) for kv in args.ingest)}
    env = dict(os.environ)
    if args.whatif:
        spark_conf["spark.python.daemon.module"] = "whatif_daemon"
        here = str(Path(__file__).resolve().parent)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (here, env.get("PYTHONPATH")) if p)
        env["OLX_WHATIF"] = ",".join(args.whatif)
    archives = list_archives(args.corpus)
    compressed = sum(p.stat().st_size for p in archives)
    base = args.warehouse.resolve()
    base.mkdir(parents=True, exist_ok=True)

    result: dict[str, Any] = {
        "benchmark": "job",
        "date": now_utc(),
        "corpus": str(args.corpus),
        "archives": len(archives),
        "compressed_bytes": compressed,
        "command": " ".join(
            job_command(args.corpus, base / "<run>", base / "<master>.toml")
        ).replace(sys.executable, ".venv/bin/python"),
        "spark_conf": spark_conf,
        "ingest": ingest,
        "pin_cpus": args.pin_cpus,
        "whatif": args.whatif,
        "by_master": {},
    }
    lines = [f"job: {len(archives)} archives, {compressed / MB:,.1f} MB compressed"]
    if args.whatif:
        lines.append(f"  WHAT-IF run, workers changed in memory: {', '.join(args.whatif)}")
    last: tuple[str, Path] | None = None  # (master, warehouse) of the last fresh run

    def one_run(master: str, name: str, warehouse: Path) -> dict[str, Any]:
        conf = dict(spark_conf)
        event_log = None
        if args.phases:
            event_log = _fresh(base / f"{name}-eventlog")
            conf |= {
                "spark.eventLog.enabled": "true",
                "spark.eventLog.dir": event_log.as_uri(),
                "spark.eventLog.rolling.enabled": "false",
                "spark.eventLog.compress": "false",
            }
        config = base / f"{name}.toml"
        write_config(config, master, conf, ingest)
        load_wait = wait_for_low_load(args.load_threshold, args.max_load_wait)
        spy = (args.py_spy, base / f"{name}-driver.pyspy.txt") if args.py_spy else None
        cpus = pinned_cpus(master) if args.pin_cpus else None
        run = run_job(
            *(args.corpus, warehouse, config, args.interval, base / f"{name}.log"),
            *(env, event_log, spy, cpus),
        )
        run["load_wait"] = load_wait
        mem = run["memory"]
        lines.append(
            f"  {master} {name}: {run['wall_s']:.1f}s wall (job {run['job_reported_s']:.1f}s + "
            f"startup/shutdown {run['startup_and_shutdown_s']:.1f}s), {run['loaded']} loaded, "
            f"{run['unchanged']} unchanged, {run['blocks_written']:,} blocks, "
            f"{run['blocks_per_s']:,.0f} blocks/s; peak RSS JVM {mem['jvm_peak_mib']:.0f} MiB, "
            f"Python driver {mem['python_driver_peak_mib']:.0f} MiB, workers "
            f"{mem['python_workers_sum_peak_mib']:.0f} MiB (largest one "
            f"{mem['python_worker_single_peak_mib']:.0f} MiB); load "
            f"{run['load_average_before']} -> {run['load_average_after']}"
        )
        cpu = mem.get("cpu_s_by_role", {})
        lines.append(
            "      CPU seconds by role (sampled): "
            + ", ".join(f"{role} {seconds:.1f}" for role, seconds in cpu.items())
        )
        for phase, t in (run.get("spark_phases") or {}).get("by_description", {}).items():
            lines.append(f"      {t['seconds']:8.1f}s  {t['jobs']:3d} jobs  {phase}")
        for step, seconds in (run.get("driver_profile") or {}).get("by_step", {}).items():
            lines.append(f"      {seconds:8.1f}s  driver: {step}")
        return run

    for master in masters:
        tag = re.sub(r"[^A-Za-z0-9]+", "_", master).strip("_")
        runs = []
        for i in range(max(1, args.runs)):
            warehouse = _fresh(base / f"{tag}-run{i + 1}")
            runs.append(one_run(master, f"{tag}-run{i + 1}", warehouse))
            if i + 1 < args.runs:
                shutil.rmtree(warehouse)
            else:
                last = (master, warehouse)
        result["by_master"][master] = {"aggregate": _aggregate(runs), "runs": runs}

    walls = {m: result["by_master"][m]["aggregate"]["wall_s_median"] for m in masters}
    if len(masters) > 1:
        first = masters[0]
        result["speedup"] = {
            f"{first} -> {m}": rounded(walls[first] / walls[m], 2) for m in masters[1:]
        }
        lines += [f"  speedup {k}: {v:.2f}x" for k, v in result["speedup"].items()]

    if args.reruns and last is not None:
        reruns = [one_run(last[0], f"rerun{i + 1}", last[1]) for i in range(args.reruns)]
        result["reruns"] = {"aggregate": _aggregate(reruns), "runs": reruns}

    if args.floor:
        wait_for_low_load(args.load_threshold, args.max_load_wait)
        floor = floor_result(
            args.corpus, archives, _cores(masters[-1]), args.floor_repeat, hash_bytes=False
        )
        result["floor"] = floor
        ratio = walls[masters[-1]] / floor["seconds_median"]
        result["job_over_floor"] = rounded(ratio, 2)
        lines += floor_summary_lines(floor)
        lines.append(f"  job / floor ({masters[-1]}): {ratio:.2f}")

    if args.baseline:
        wait_for_low_load(args.load_threshold, args.max_load_wait)
        baseline = baseline_result(args.corpus, archives, args.floor_repeat)
        result["baseline"] = baseline
        job_speed = result["by_master"][masters[-1]]["aggregate"]["blocks_per_s_median"]
        speed = job_speed / baseline["rows_per_s"]
        result["job_blocks_per_s_over_baseline_rows_per_s"] = rounded(speed, 2)
        lines += baseline_summary_lines(baseline)
        lines.append(f"  job blocks/s / baseline rows/s ({masters[-1]}): {speed:.2f}")

    result["machine"] = machine_info(with_java=True)
    emit(result, lines, args.json_out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
