"""All three inputs for the same courses and learners: archives, tracking logs, a data package.

`write_learning_inputs` reads the course archives (given, or just generated), builds a `World`
on them (`olx_spark.synth.learning`), writes its days as daily tracking logs
(`tracking-logs/{org}-prod-events-{YYYY-MM-DD}.log.gz`, or `.log.gz.gpg`) and then the weekly
research data package of each org (`data-packages/{org}-{YYYY-MM-DD}.zip`), so that the logs'
courses are the archives, the package's learners are the logs' learners, and what the package
says (enrollments, answers, grades, forum posts) is what the logs show them doing.

Encryption uses a key pair made for the purpose in a keyring of its own (`gnupg/` under the
output, with a random passphrase in `gnupg-passphrase.txt`, both readable by the owner only),
or a key you name. The plaintext is deterministic for a seed (same archives, same options, same
bytes); GPG ciphertext is not (every encryption draws a new session key). File times are set
to when edX would have delivered each file, so a second run over the same output lists the
same names, sizes (for plaintext files) and times.
"""

from __future__ import annotations

import gzip
import json
import os
import secrets
import shutil
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path

from olx_spark.synth.courseware import load_courseware
from olx_spark.synth.learning import World
from olx_spark.synth.packages import encrypt_bytes, make_keyring, stop_agent
from olx_spark.synth.research import package_date, package_members, write_package

ENCRYPT_CHOICES = ("packages", "all", "none")
ARCHIVES_DIR = "course-archives"
LOGS_DIR = "tracking-logs"
PACKAGES_DIR = "data-packages"
KEYRING_DIR = "gnupg"
PASSPHRASE_FILE = "gnupg-passphrase.txt"


@dataclass(frozen=True)
class Keyring:
    """Where the key the files are encrypted to lives, and which key it is."""

    home: str
    recipient: str
    passphrase: str | None = None  # only for a keyring made here (also in passphrase_file)
    passphrase_file: str | None = None

    def encrypt(self, data: bytes) -> bytes:
        return encrypt_bytes(data, self.home, self.recipient)


@dataclass
class LearningInputs:
    """What `write_learning_inputs` wrote."""

    archives_dir: str
    logs_dir: str
    packages_dir: str
    courses: list[str]
    learners: int
    enrollments: int
    log_files: int = 0
    events: int = 0
    events_by_name: Counter[str] = field(default_factory=Counter)
    log_bytes: int = 0
    packages: list[str] = field(default_factory=list)
    package_files: int = 0
    package_bytes: int = 0
    first_day: date | None = None
    last_day: date | None = None
    keyring: Keyring | None = None
    seconds: float = 0.0

    def render(self, passphrase: bool = True) -> str:
        """What was written, for people; `passphrase` says where the throwaway key's
        passphrase is (else only that the key is a throwaway one)."""
        lines = [
            f"wrote the inputs of {len(self.courses)} course runs in {self.seconds:.1f}s",
            f"  course archives   {self.archives_dir}",
            *(f"                      {course}" for course in self.courses),
            f"  learners          {self.learners:,} ({self.enrollments:,} enrollments)",
            f"  tracking logs     {self.logs_dir}: {self.log_files:,} daily files, "
            f"{self.events:,} events, {self.first_day} to {self.last_day}",
            f"  data packages     {self.packages_dir}: {', '.join(self.packages)} "
            f"({self.package_files} files, {self.package_bytes:,} bytes decrypted)",
        ]
        if self.keyring is not None:
            lines.append(
                f"  encrypted to      {self.keyring.recipient} (keyring {self.keyring.home})"
            )
            if self.keyring.passphrase_file and not passphrase:
                lines.append("  (a throwaway key pair made for these files only)")
            elif self.keyring.passphrase_file:
                lines.append(
                    f"  passphrase        in {self.keyring.passphrase_file} (a throwaway key for "
                    'these files only: export OLX_SPARK_GPG_PASSPHRASE="$(cat '
                    f'{self.keyring.passphrase_file})")'
                )
        return "\n".join(lines)


def make_throwaway_keyring(out_dir: Path) -> Keyring:
    """A new key pair, protected by a random passphrase, in `out_dir/gnupg` (mode 700); the
    passphrase is written to `out_dir/gnupg-passphrase.txt` (mode 600)."""
    home = out_dir / KEYRING_DIR
    if home.exists():
        shutil.rmtree(home)
    passphrase = secrets.token_urlsafe(24)
    fingerprint = make_keyring(home, passphrase, email="olx-spark-synth@example.org")
    secret = out_dir / PASSPHRASE_FILE
    secret.unlink(missing_ok=True)
    descriptor = os.open(secret, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(passphrase + "\n")
    return Keyring(str(home), fingerprint, passphrase, str(secret))


def _delivered(path: Path, day: date) -> None:
    """Give the file the time edX would have delivered it: 06:00 UTC on `day`."""
    moment = datetime.combine(day, clock(6), UTC).timestamp()
    os.utime(path, (moment, moment))


def write_learning_inputs(
    out_dir: Path,
    archives: Sequence[Path],
    *,
    learners: int,
    days: int,
    events_per_day: int,
    seed: int = 0,
    encrypt: str = "packages",
    keyring: Keyring | None = None,
    archives_dir: Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> LearningInputs:
    """Write tracking logs and data packages for `archives` under `out_dir`.

    `encrypt` is `packages` (package members are `.gpg`, logs plain gzip), `all` (logs too)
    or `none`; the files are encrypted to `keyring`, else to a throwaway key made in
    `out_dir/gnupg`.
    """
    if encrypt not in ENCRYPT_CHOICES:
        raise ValueError(f"encrypt must be one of {', '.join(ENCRYPT_CHOICES)}")
    if not archives:
        raise ValueError("no course archives to build the world on")
    started = time.perf_counter()
    say = progress or (lambda _: None)
    out_dir.mkdir(parents=True, exist_ok=True)
    courses = [load_courseware(path) for path in archives]
    world = World.build(
        courses, learners=learners, days=days, events_per_day=events_per_day, seed=seed
    )
    if encrypt != "none" and keyring is None:
        say("making a throwaway GPG key pair ...")
        keyring = make_throwaway_keyring(out_dir)
    summary = LearningInputs(
        archives_dir=str(archives_dir or Path(archives[0]).parent),
        logs_dir=str(out_dir / LOGS_DIR),
        packages_dir=str(out_dir / PACKAGES_DIR),
        courses=[c.course_id for c in world.courses],
        learners=len(world.learners),
        enrollments=len(world.enrollments),
        keyring=keyring if encrypt != "none" else None,
    )
    try:
        say(f"writing tracking logs of {len(world.learners):,} learners ...")
        _write_logs(world, out_dir / LOGS_DIR, summary, keyring if encrypt == "all" else None)
        say("writing data packages ...")
        day = package_date(world)
        for org in world.orgs:
            members = package_members(world, org)
            path = out_dir / PACKAGES_DIR / f"{org.lower()}-{day.isoformat()}.zip"
            seal = keyring.encrypt if keyring is not None and encrypt != "none" else None
            summary.package_bytes += write_package(path, members, day, seal)
            _delivered(path, day)
            summary.packages.append(path.name)
            summary.package_files += len(members)
    finally:
        if keyring is not None and keyring.passphrase_file:
            stop_agent(keyring.home)  # the agent gpg started for a keyring made here
    summary.seconds = time.perf_counter() - started
    return summary


def _write_logs(
    world: World, folder: Path, summary: LearningInputs, keyring: Keyring | None
) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for day, by_org in world.days():
        for org, lines in by_org.items():
            data = "".join(json.dumps(line) + "\n" for line in lines).encode("utf-8")
            packed = gzip.compress(data, compresslevel=6, mtime=0)
            name = f"{org.lower()}-prod-events-{day.isoformat()}.log.gz"
            if keyring is not None:
                packed, name = keyring.encrypt(packed), f"{name}.gpg"
            path = folder / name
            path.write_bytes(packed)
            _delivered(path, day + timedelta(days=1))
            summary.log_files += 1
            summary.log_bytes += len(packed)
            summary.events += len(lines)
            summary.events_by_name.update(line.get("name") or "page view" for line in lines)
            summary.first_day = min(summary.first_day or day, day)
            summary.last_day = max(summary.last_day or day, day)
