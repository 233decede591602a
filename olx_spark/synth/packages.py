"""A deterministic generator of big research data packages (pure Python and the `gpg` binary).

Benchmarks need a data package shaped like edX.org's weekly one, at the sizes real packages
reach (issue 5 asks for a 1 GB `courseware_studentmodule` dump), without shipping learner
data. `write_studentmodule_package` writes `{org}-{YYYY-MM-DD}.zip` holding one member,
`{org}-{course}-{run}-courseware_studentmodule-{site}-analytics.sql.gpg`: a dump of the
requested plaintext size with the table's columns (`COLUMNS`), made row by row from a seed and
streamed through `gpg --encrypt` straight into the zip, so memory stays at a few MiB whatever the
size. The plaintext is reproducible (same seed and size, same bytes and sha256); the ciphertext
is not (gpg draws a fresh session key each time).

Values are written as the dumps write them (`olx_spark.packages.tsv`): tab-separated, `NULL`
for null, backslash escapes. `state` is the JSON the LMS stores, with the escapes real states
carry (quotes, backslashes from LaTeX answers, newlines in free text, non-ASCII), so that the
dump's escaping is exercised at volume.

    python -m olx_spark.synth.packages OUT_DIR --size-mb 1000 --gnupg-home DIR --recipient FPR
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import random
import shutil
import subprocess
import tempfile
import threading
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import IO, Any

COLUMNS = (
    "id",
    "module_type",
    "module_id",
    "student_id",
    "state",
    "grade",
    "created",
    "modified",
    "max_grade",
    "done",
    "course_id",
)
TABLE = "courseware_studentmodule"
FLUSH_BYTES = 1024 * 1024  # plaintext handed to gpg at a time
COPY_BYTES = 1024 * 1024
# Module types and how often they occur among a course's studentmodule rows.
MODULE_TYPES = (
    ("problem", 0.55),
    ("video", 0.2),
    ("sequential", 0.12),
    ("chapter", 0.05),
    ("openassessment", 0.04),
    ("course", 0.02),
    ("library_content", 0.02),
)
# Free-text answers with what real answers contain: quotes, LaTeX backslashes, line breaks,
# tabs, non-ASCII text.
ANSWERS = (
    "The answer is 42",
    'She said "it depends"',
    "\\frac{1}{2} + \\sqrt{x}",
    "C:\\Users\\learner\\notes.txt",
    "first line\nsecond line",
    "col1\tcol2",
    "naïve café — 数学",
    "x^2 + 2*x + 1",
)


@dataclass(frozen=True)
class PackageSummary:
    """What `write_studentmodule_package` wrote."""

    package_path: str
    member_path: str
    course_id: str
    rows: int  # data rows (the header not counted)
    plaintext_bytes: int
    plaintext_sha256: str
    encrypted_bytes: int
    package_bytes: int
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def encode_value(value: str | None) -> str:
    """One value as a dump writes it: `NULL` for null, `\\\\`, `\\t`, `\\n`, `\\r` escaped."""
    if value is None:
        return "NULL"
    if not any(c in value for c in "\\\t\n\r"):
        return value
    return (
        value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    )


def _stamp(moment: datetime) -> str:
    """A datetime as the dumps write it: UTC, no zone suffix."""
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


class _Rows:
    """The dump's rows for one course, from one seed."""

    def __init__(self, seed: int, org: str, course: str, run: str) -> None:
        self.rng = random.Random(seed)
        self.course_id = f"course-v1:{org}+{course}+{run}"
        key = f"{org}+{course}+{run}"
        types = [t for t, _ in MODULE_TYPES]
        weights = [w for _, w in MODULE_TYPES]
        # A course has a few thousand modules; learners touch them in any order.
        self.modules = [
            (kind, f"block-v1:{key}+type@{kind}+block@{self.rng.getrandbits(128):032x}")
            for kind in self.rng.choices(types, weights, k=3000)
        ]
        self.start = datetime(2024, 1, 8, tzinfo=UTC)
        self.next_id = 1

    def _state(self, kind: str, module_id: str, moment: datetime) -> tuple[str, str | None]:
        """(state JSON, grade) of one module for one learner."""
        rng = self.rng
        if kind == "problem":
            attempts = rng.randint(0, 3)
            inputs = [
                f"{module_id.rsplit('@', 1)[1]}_{i}_1" for i in range(2, 2 + rng.randint(1, 3))
            ]
            answers = {
                i: rng.choice(ANSWERS) if rng.random() < 0.3 else f"choice_{rng.randint(0, 3)}"
                for i in inputs
            }
            correct = {i: rng.random() < 0.6 for i in inputs}
            state: dict[str, Any] = {
                "correct_map": {
                    i: {
                        "correctness": "correct" if ok else "incorrect",
                        "npoints": None,
                        "msg": "" if ok else '<div class="detailed-solution">Try "again"</div>',
                        "hint": "",
                        "hintmode": None,
                        "queuestate": None,
                        "answervariable": None,
                    }
                    for i, ok in correct.items()
                },
                "input_state": {i: {} for i in inputs},
                "last_submission_time": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "attempts": attempts,
                "seed": rng.randint(1, 1000),
                "done": attempts > 0,
                "student_answers": answers,
                "score": {"raw_earned": sum(correct.values()), "raw_possible": len(inputs)},
            }
            grade = f"{sum(correct.values()):.1f}" if attempts else None
            return json.dumps(state, ensure_ascii=rng.random() < 0.5), grade
        if kind == "video":
            position = rng.randint(0, 3600)
            return json.dumps(
                {
                    "saved_video_position": f"{position // 3600:02d}:{position // 60 % 60:02d}:"
                    f"{position % 60:02d}",
                    "speed": rng.choice(("0.75", "1.0", "1.25", "1.50", "2.0")),
                    "auto_advance": rng.random() < 0.2,
                }
            ), None
        if kind == "openassessment":
            return json.dumps(
                {
                    "submission_uuid": f"{rng.getrandbits(128):032x}",
                    "has_saved": True,
                    "saved_response": json.dumps({"parts": [{"text": rng.choice(ANSWERS)}]}),
                }
            ), None
        return json.dumps({"position": rng.randint(1, 12)}), None

    def row(self) -> str:
        """The next row, encoded, without its line end."""
        rng = self.rng
        kind, module_id = rng.choice(self.modules)
        created = self.start - timedelta(seconds=rng.randint(0, 200 * 86400))
        modified = created + timedelta(seconds=rng.randint(0, 30 * 86400))
        state, grade = self._state(kind, module_id, modified)
        max_grade = f"{rng.randint(1, 3):.1f}" if kind == "problem" and grade is not None else None
        values = (
            str(self.next_id),
            kind,
            module_id,
            str(rng.randint(1000, 2_000_000)),
            state,
            grade,
            _stamp(created),
            _stamp(modified),
            max_grade,
            "na",
            self.course_id,
        )
        self.next_id += 1
        return "\t".join(encode_value(v) for v in values)


class _Encryptor:
    """`gpg --encrypt` as a pipe: plaintext written in, ciphertext copied (by a thread) into
    `out` as it comes, so neither side ever holds more than a pipe's worth."""

    def __init__(self, proc: subprocess.Popen[bytes], out: IO[bytes]) -> None:
        self._proc = proc
        self.encrypted_bytes = 0
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._copy, args=(out,), daemon=True)
        self._thread.start()

    def _copy(self, out: IO[bytes]) -> None:
        assert self._proc.stdout is not None
        try:
            while chunk := self._proc.stdout.read(COPY_BYTES):
                out.write(chunk)
                self.encrypted_bytes += len(chunk)
        except BaseException as exc:  # reported by finish(), never lost in the thread
            self._error = exc

    def write(self, data: bytes) -> None:
        assert self._proc.stdin is not None
        self._proc.stdin.write(data)

    def finish(self) -> int:
        """Close gpg's input, wait for the last ciphertext; gpg's exit code."""
        assert self._proc.stdin is not None
        with suppress(BrokenPipeError):  # gpg stopped reading: its exit code says why
            self._proc.stdin.close()
        self._thread.join()
        code = self._proc.wait()
        if self._error is not None:
            raise self._error
        return code


@contextmanager
def _encrypting(out: IO[bytes], gnupg_home: str, recipient: str, gpg: str) -> Iterator[_Encryptor]:
    with tempfile.TemporaryFile() as stderr:
        proc = subprocess.Popen(
            [
                *(gpg, "--homedir", gnupg_home, "--batch", "--yes", "--quiet"),
                *("--trust-model", "always", "--recipient", recipient, "--encrypt"),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
        )
        encryptor = _Encryptor(proc, out)
        stopped = False
        try:
            yield encryptor
        except BrokenPipeError:  # gpg stopped reading: its exit code and message say why
            stopped = True
        finally:
            code = encryptor.finish()
        if code != 0 or stopped:
            stderr.seek(0)
            message = stderr.read().decode("utf-8", "replace").strip()
            raise RuntimeError(f"gpg --encrypt failed (exit {code}): {message}")


def _write_dump(rows: _Rows, size_bytes: int, out: _Encryptor) -> tuple[int, int, str]:
    """The header, then rows until the plaintext reaches `size_bytes` (at least one row), in
    blocks of about `FLUSH_BYTES`; returns (rows, plaintext bytes, plaintext sha256)."""
    digest = hashlib.sha256()
    written = count = 0
    pending = ["\t".join(COLUMNS)]
    size = len(pending[0]) + 1
    while written + size < size_bytes or count == 0:
        line = rows.row()
        pending.append(line)
        size += len(line.encode("utf-8")) + 1
        count += 1
        if size >= FLUSH_BYTES or written + size >= size_bytes:
            data = ("\n".join(pending) + "\n").encode("utf-8")
            digest.update(data)
            out.write(data)
            written += len(data)
            pending, size = [], 0
    return count, written, digest.hexdigest()


def member_name(org: str, course: str, run: str, site: str = "prod") -> str:
    return f"{org}-{course}-{run}-{TABLE}-{site}-analytics.sql.gpg"


def write_studentmodule_package(
    out_dir: Path,
    size_bytes: int,
    *,
    gnupg_home: str,
    recipient: str,
    seed: int = 1,
    org: str = "MITx",
    course: str = "6.00x",
    run: str = "2024_T1",
    package_date: date = date(2024, 1, 7),
    site: str = "prod",
    gpg_binary: str = "gpg",
) -> PackageSummary:
    """Write `{org}-{date}.zip` under `out_dir`: one encrypted courseware_studentmodule dump of
    at least `size_bytes` of plaintext (rows are whole: it ends with the row that reaches the
    size), encrypted to `recipient` (a key in the keyring `gnupg_home`)."""
    started = time.monotonic()
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{org.lower()}-{package_date.isoformat()}.zip"
    member = member_name(org, course, run, site)
    rows = _Rows(seed, org, course, run)
    info = zipfile.ZipInfo(member, (2024, 1, 7, 0, 0, 0))  # a fixed time: reproducible names
    with (
        zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive,
        archive.open(info, "w", force_zip64=True) as stored,
        _encrypting(stored, gnupg_home, recipient, gpg_binary) as encryptor,
    ):
        count, written, sha256 = _write_dump(rows, size_bytes, encryptor)
    return PackageSummary(
        package_path=str(path),
        member_path=member,
        course_id=rows.course_id,
        rows=count,
        plaintext_bytes=written,
        plaintext_sha256=sha256,
        encrypted_bytes=encryptor.encrypted_bytes,
        package_bytes=path.stat().st_size,
        seconds=round(time.monotonic() - started, 2),
    )


def encrypt_bytes(data: bytes, gnupg_home: str, recipient: str, gpg: str = "gpg") -> bytes:
    """`data` encrypted to `recipient` (binary OpenPGP, as edX's `.gpg` files are)."""
    out = io.BytesIO()
    with _encrypting(out, gnupg_home, recipient, gpg) as encryptor:
        encryptor.write(data)
    return out.getvalue()


def stop_agent(gnupg_home: str) -> None:
    """Stop the gpg-agent gpg started for the keyring `gnupg_home` (if any)."""
    with suppress(OSError):
        subprocess.run(
            ["gpgconf", "--homedir", gnupg_home, "--kill", "gpg-agent"],
            check=False,
            capture_output=True,
            timeout=30,
        )


def make_keyring(home: Path, passphrase: str, email: str = "synth@example.org") -> str:
    """A new keyring folder (mode 700) holding one ed25519/cv25519 key pair protected by
    `passphrase`, for generated packages; returns the key's fingerprint."""
    import gnupg

    home.mkdir(mode=0o700, parents=True)
    gpg = gnupg.GPG(gnupghome=str(home))
    key = gpg.gen_key(
        gpg.gen_key_input(
            key_type="EDDSA",
            key_curve="ed25519",
            subkey_type="ECDH",
            subkey_curve="cv25519",
            name_email=email,
            passphrase=passphrase,
        )
    )
    if not key.fingerprint:
        raise RuntimeError(f"gpg could not make a key: {key.stderr}")
    return str(key.fingerprint)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Write a data package with one encrypted courseware_studentmodule dump."
    )
    parser.add_argument("out_dir", type=Path, metavar="OUT_DIR")
    parser.add_argument("--size-mb", type=float, default=100.0, help="plaintext MB (10^6 bytes)")
    parser.add_argument("--gnupg-home", required=True, help="keyring holding the recipient key")
    parser.add_argument("--recipient", required=True, help="key fingerprint or user id")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    if shutil.which("gpg") is None:
        raise SystemExit("the gpg binary is not installed")
    summary = write_studentmodule_package(
        args.out_dir,
        int(args.size_mb * 1_000_000),
        gnupg_home=args.gnupg_home,
        recipient=args.recipient,
        seed=args.seed,
    )
    print(json.dumps(summary.to_dict(), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
