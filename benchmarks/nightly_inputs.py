"""The nightly benchmark's inputs (`bench_nightly.py`): one world generated once (`olx-spark
synth` archives, then the same generator's learners, daily tracking logs and weekly
GPG-encrypted data packages: the same people throughout), then staged per night into a
landing folder, with changed copies of some archives."""

from __future__ import annotations

import argparse
import dataclasses
import gzip
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

COMMON_START = datetime(2024, 1, 15, tzinfo=UTC)
_TITLE = re.compile(rb'display_name="')


@dataclasses.dataclass
class Pool:
    """Every generated file, by the day (1-based) it belongs to."""

    archives: list[Path]
    logs: dict[int, list[Path]]
    events: dict[int, int]
    packages: dict[int, list[Path]]
    gnupg_home: str
    passphrase: str
    seconds: float


def olx_spark_bin() -> str:
    return str(Path(sys.executable).parent / "olx-spark")


def package_days(history: int, nights: int) -> list[int]:
    """Weekly: every 7th day counted back from day history+1 (night 1 has one)."""
    return [d for d in range(1, history + nights + 1) if (history + 1 - d) % 7 == 0]


def _delivered(path: Path, day: date) -> None:
    moment = datetime.combine(day, datetime.min.time(), UTC).timestamp() + 6 * 3600
    os.utime(path, (moment, moment))


def generate(work: Path, args: argparse.Namespace) -> Pool:
    """Archives with `olx-spark synth`, then logs and weekly packages from one world."""
    from olx_spark.synth.courseware import load_courseware
    from olx_spark.synth.inputs import make_throwaway_keyring
    from olx_spark.synth.learning import World
    from olx_spark.synth.packages import stop_agent
    from olx_spark.synth.research import package_members, write_package

    started = time.perf_counter()
    pool = work / "pool"
    shutil.rmtree(pool, ignore_errors=True)
    synth = [olx_spark_bin(), "synth", str(pool / "archives"), "--courses", str(args.courses)]
    synth += ["--seed", str(args.seed), "--scale", args.scale, "--workers", "2"]
    subprocess.run(synth, check=True, stdout=subprocess.DEVNULL)
    archives = sorted((pool / "archives").glob("*.tar.gz"))
    courses = [
        dataclasses.replace(load_courseware(p), start=COMMON_START, enrollment_start=None)
        for p in archives
    ]
    total = args.history_days + args.nights
    world = World.build(
        courses,
        learners=args.learners,
        days=total,
        events_per_day=max(1, round(args.events_per_day / args.courses)),
        seed=args.seed,
    )
    first = min(w[0] for w in world.windows.values()).date()
    keyring = make_throwaway_keyring(pool)
    logs: dict[int, list[Path]] = {}
    events: dict[int, int] = {}
    packages: dict[int, list[Path]] = {}
    weekly = set(package_days(args.history_days, args.nights))
    (pool / "logs").mkdir()
    (pool / "packages").mkdir()
    try:
        for day, by_org in world.days():
            index = min((day - first).days + 1, total)  # a midnight spill joins the last day
            for org, lines in by_org.items():
                data = "".join(json.dumps(line) + "\n" for line in lines).encode()
                path = pool / "logs" / f"{org.lower()}-prod-events-{day.isoformat()}.log.gz"
                path.write_bytes(gzip.compress(data, compresslevel=6, mtime=0))
                _delivered(path, day + timedelta(days=1))
                logs.setdefault(index, []).append(path)
                events[index] = events.get(index, 0) + len(lines)
            if index in weekly and index not in packages:  # the world's state after the day
                delivered = day + timedelta(days=1)
                for org in world.orgs:
                    path = pool / "packages" / f"{org.lower()}-{delivered.isoformat()}.zip"
                    write_package(path, package_members(world, org), delivered, keyring.encrypt)
                    _delivered(path, delivered)
                    packages.setdefault(index, []).append(path)
    finally:
        stop_agent(keyring.home)
    return Pool(
        archives,
        logs,
        events,
        packages,
        keyring.home,
        keyring.passphrase or "",
        time.perf_counter() - started,
    )


def changed_archive(source: Path, out_dir: Path, night: int) -> Path:
    """A copy of `source` with the course's title edited, under a new name (new bytes: the
    ingest's ledger sees a new version of the course)."""
    out = out_dir / f"{source.name.removesuffix('.tar.gz')}-r{night}.tar.gz"
    buffer = io.BytesIO()
    with tarfile.open(source, "r:gz") as src, tarfile.open(fileobj=buffer, mode="w:gz") as dst:
        for member in src.getmembers():
            data = src.extractfile(member).read() if member.isfile() else None  # type: ignore[union-attr]
            if data is not None and re.fullmatch(r"[^/]+/course/[^/]+\.xml", member.name):
                data = _TITLE.sub(f'display_name="[rev {night}] '.encode(), data, count=1)
                member.size = len(data)
            dst.addfile(member, io.BytesIO(data) if data is not None else None)
    out.write_bytes(buffer.getvalue())
    return out


def night_inputs(pool: Pool, work: Path, args: argparse.Namespace, night: int) -> dict[str, Any]:
    """Night `night`'s files: day N+k's logs, its package if any, changed archives."""
    day = args.history_days + night
    n = len(pool.archives)
    count = max(1, round(args.changed_fraction * n))
    chosen = [pool.archives[((night - 1) * count + j) % n] for j in range(min(count, n))]
    out_dir = work / "pool" / f"changed{night}"
    out_dir.mkdir(exist_ok=True)
    changed = [changed_archive(a, out_dir, night) for a in chosen]
    for path in changed:
        _delivered(path, COMMON_START.date() + timedelta(days=day))
    return {
        "day": day,
        "logs": pool.logs.get(day, []),
        "packages": pool.packages.get(day, []),
        "archives": changed,
        "events": pool.events.get(day, 0),
    }


def stage(landing: Path, archives: list[Path], logs: list[Path], packages: list[Path]) -> None:
    """Hard-link files into the landing's three folders (same inode: same size and time)."""
    for sub, files in (
        ("course-archives", archives),
        ("tracking-logs", logs),
        ("data-packages", packages),
    ):
        folder = landing / sub
        folder.mkdir(parents=True, exist_ok=True)
        for path in files:
            if not (folder / path.name).exists():
                os.link(path, folder / path.name)
