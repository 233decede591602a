#!/usr/bin/env python
"""The data package job end to end on one big generated package: decrypted MB/s, rows/s, memory.

Issue 5 asks for the throughput of `olx-spark ingest data-packages` on a package whose
`courseware_studentmodule` dump is 1 GB, and for its memory. This script generates that package
first, outside every timed region (`olx_spark.synth.packages`: a throwaway GPG key in a keyring
of its own, the dump streamed through `gpg --encrypt` into the zip), then runs the real job,
`olx-spark ingest data-packages SRC --json`, as a subprocess into a fresh warehouse while a
thread samples the RSS of its process tree from /proc (`benchlib.RssSampler`; the `gpg`
processes the Python workers start are counted apart from the workers).

    # a 1 GB (10^9 bytes of plaintext) dump, on 2 cores
    .venv/bin/python benchmarks/bench_data_packages.py --workdir /tmp/olxbench/dp \\
        --size-mb 1000 --master 'local[2]' --phases

`--reuse` keeps a package generated earlier in the same workdir with the same size and seed.
The last line of stdout is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench_job import parse_summary, phases_from_event_log, write_config
from benchlib import (
    MB,
    ProcInfo,
    RssSampler,
    emit,
    load_average,
    machine_info,
    now_utc,
    rounded,
    wait_for_low_load,
)

from olx_spark.packages.tables import dump_table_name
from olx_spark.synth.packages import TABLE, make_keyring, write_studentmodule_package

PASSPHRASE_ENV = "OLX_SPARK_GPG_PASSPHRASE"
GPG_PROGRAMS = ("gpg", "gpg2", "gpg-agent")


class PackageRssSampler(RssSampler):
    """`RssSampler`, with the `gpg` processes (children of the Python workers) kept apart: their
    peak is reported as `gpg`, and the workers' figures are the Python processes alone."""

    def __init__(self, root: int, interval: float = 0.2) -> None:
        super().__init__(root, interval)
        self.gpg_sum = 0
        self.gpg_single = 0

    def role_of(self, info: ProcInfo) -> str:
        if os.path.basename(info.cmdline.split(" ", 1)[0]) in GPG_PROGRAMS:
            self.gpg_single = max(self.gpg_single, info.rss_bytes)
            return "gpg"
        return super().role_of(info)

    def sampled(self, totals: dict[str, int]) -> None:
        self.gpg_sum = max(self.gpg_sum, totals.get("gpg", 0))

    def as_mib(self) -> dict[str, Any]:
        return {
            **self.peaks.as_mib(),
            "gpg_sum_peak_mib": round(self.gpg_sum / 2**20, 1),
            "gpg_single_peak_mib": round(self.gpg_single / 2**20, 1),
        }


def prepare_package(workdir: Path, size_mb: float, seed: int, reuse: bool) -> dict[str, Any]:
    """The package (and its keyring and passphrase) under `workdir/package`, generated unless
    `reuse` finds one made with the same size and seed; returns the generator's summary."""
    folder = workdir / "package"
    record = folder / "summary.json"
    wanted = {"size_mb": size_mb, "seed": seed}
    if reuse and record.exists():
        saved = json.loads(record.read_text())
        if saved.get("request") == wanted and Path(saved["package_path"]).exists():
            return dict(saved)
    if folder.exists():
        subprocess.run(
            ["gpgconf", "--homedir", str(folder / "gnupg"), "--kill", "gpg-agent"], check=False
        )
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    passphrase = secrets.token_hex(16)  # a throwaway key's, kept next to it for --reuse
    (folder / "passphrase").write_text(passphrase)
    (folder / "passphrase").chmod(0o600)
    fingerprint = make_keyring(folder / "gnupg", passphrase)
    load_before = load_average()
    summary = write_studentmodule_package(
        folder / "src",
        int(size_mb * MB),
        gnupg_home=str(folder / "gnupg"),
        recipient=fingerprint,
        seed=seed,
    )
    result = {
        **summary.to_dict(),
        "request": wanted,
        "generation_load_before": load_before,
        "generation_load_after": load_average(),
    }
    record.write_text(json.dumps(result, indent=2))
    return result


def job_command(source: Path, gnupg_home: Path, warehouse: Path, config: Path) -> list[str]:
    return [
        *(sys.executable, "-m", "olx_spark.cli", "ingest", "data-packages", str(source)),
        *("--gnupg-home", str(gnupg_home), "--warehouse", str(warehouse)),
        *("--config", str(config), "--json"),
    ]


def run_job(
    command: list[str], env: dict[str, str], interval: float, log: Path
) -> tuple[dict[str, Any], float, dict[str, Any]]:
    """One run as a subprocess, its RSS sampled: (the job's summary, wall seconds, memory)."""
    with log.open("w") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=err, text=True, env=env)
        with PackageRssSampler(proc.pid, interval) as sampler:
            stdout, _ = proc.communicate()
        wall = time.perf_counter() - started
    if proc.returncode != 0:
        tail = log.read_text()[-3000:]
        raise SystemExit(f"the job failed (exit {proc.returncode}); stderr tail:\n{tail}")
    return parse_summary(stdout), wall, sampler.as_mib()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Generate a data package with a big courseware_studentmodule dump, run "
        "`olx-spark ingest data-packages` on it and measure it."
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        required=True,
        metavar="DIR",
        help="scratch folder: the package, its keyring, the warehouse (under /tmp, not the repo)",
    )
    parser.add_argument(
        "--size-mb", type=float, default=1000.0, help="plaintext of the dump, MB of 10^6 bytes"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--reuse", action="store_true", help="keep a package generated earlier")
    parser.add_argument("--master", default="local[2]", help="Spark master (default local[2])")
    parser.add_argument(
        "--spark-conf", action="append", default=[], metavar="KEY=VALUE", help="repeatable"
    )
    parser.add_argument(
        "--phases", action="store_true", help="Spark event log: wall time per job description"
    )
    parser.add_argument("--interval", type=float, default=0.2, help="RSS sampling period (s)")
    parser.add_argument("--load-threshold", type=float, default=1.5)
    parser.add_argument("--max-load-wait", type=float, default=120.0)
    parser.add_argument("--json-out", type=Path, metavar="FILE", help="also write the JSON here")
    args = parser.parse_args(argv)

    workdir = args.workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    package = prepare_package(workdir, args.size_mb, args.seed, args.reuse)
    gnupg_home = workdir / "package" / "gnupg"
    source = Path(package["package_path"]).parent

    warehouse = workdir / "warehouse"
    if warehouse.exists():
        shutil.rmtree(warehouse)
    spark_conf = dict(kv.split("=", 1) for kv in args.spark_conf)
    event_log = workdir / "eventlog"
    if args.phases:
        if event_log.exists():
            shutil.rmtree(event_log)
        event_log.mkdir()
        spark_conf |= {
            "spark.eventLog.enabled": "true",
            "spark.eventLog.dir": event_log.as_uri(),
            "spark.eventLog.rolling.enabled": "false",
            "spark.eventLog.compress": "false",
        }
    config = workdir / "job.toml"
    write_config(config, args.master, spark_conf)
    env = {**os.environ, PASSPHRASE_ENV: (workdir / "package" / "passphrase").read_text()}

    load_wait = wait_for_low_load(args.load_threshold, args.max_load_wait)
    load_before = load_average()
    command = job_command(source, gnupg_home, warehouse, config)
    summary, wall, memory = run_job(command, env, args.interval, workdir / "job.log")
    load_after = load_average()
    subprocess.run(["gpgconf", "--homedir", str(gnupg_home), "--kill", "gpg-agent"], check=False)

    table = dump_table_name(TABLE)
    rows = int(summary.get("rows_written", {}).get(table, 0))
    if (summary["loaded"], rows) != (1, package["rows"]):
        raise SystemExit(
            f"the job loaded {summary['loaded']} files and wrote {rows:,} rows to {table}; "
            f"the package has 1 file of {package['rows']:,} rows"
        )
    plaintext = package["plaintext_bytes"]
    job_s = float(summary["seconds"])
    result: dict[str, Any] = {
        "benchmark": "data_packages",
        "date": now_utc(),
        "command": " ".join(command).replace(sys.executable, ".venv/bin/python"),
        "master": args.master,
        "spark_conf": spark_conf,
        "package": {
            k: package[k]
            for k in (
                "member_path",
                "rows",
                "plaintext_bytes",
                "encrypted_bytes",
                "package_bytes",
                "seconds",
                "generation_load_before",
                "generation_load_after",
            )
        },
        "wall_s": rounded(wall, 2),
        "job_reported_s": rounded(job_s, 2),
        "startup_and_shutdown_s": rounded(wall - job_s, 2),
        "decrypted_mb_per_s_wall": rounded(plaintext / MB / wall, 2),
        "decrypted_mb_per_s_job": rounded(plaintext / MB / job_s, 2),
        "rows_per_s_wall": rounded(package["rows"] / wall, 1),
        "rows_per_s_job": rounded(package["rows"] / job_s, 1),
        "rows_written": summary.get("rows_written", {}),
        "memory": memory,
        "load_wait": load_wait,
        "load_average_before": load_before,
        "load_average_after": load_after,
    }
    if args.phases:
        result["spark_phases"] = phases_from_event_log(event_log)
    result["machine"] = machine_info(with_java=True)

    lines = [
        f"data packages: {package['rows']:,} rows, {plaintext / MB:,.1f} MB decrypted "
        f"({package['package_bytes'] / MB:,.1f} MB package), generated in {package['seconds']}s",
        f"  {args.master}: {wall:.1f}s wall (job {job_s:.1f}s + startup/shutdown "
        f"{wall - job_s:.1f}s); {plaintext / MB / wall:,.2f} MB/s decrypted, "
        f"{package['rows'] / wall:,.0f} rows/s (job time: {plaintext / MB / job_s:,.2f} MB/s, "
        f"{package['rows'] / job_s:,.0f} rows/s)",
        f"  peak RSS: JVM {memory['jvm_peak_mib']:.0f} MiB, Python driver "
        f"{memory['python_driver_peak_mib']:.0f} MiB, Python workers "
        f"{memory['python_workers_sum_peak_mib']:.0f} MiB (largest one "
        f"{memory['python_worker_single_peak_mib']:.0f} MiB), gpg "
        f"{memory['gpg_sum_peak_mib']:.0f} MiB; load {load_before} -> {load_after}",
        "  CPU seconds by role (sampled): "
        + ", ".join(f"{r} {s:.1f}" for r, s in memory["cpu_s_by_role"].items()),
    ]
    for phase, t in (result.get("spark_phases") or {}).get("by_description", {}).items():
        lines.append(f"      {t['seconds']:8.1f}s  {t['jobs']:3d} jobs  {phase}")
    emit(result, lines, args.json_out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
