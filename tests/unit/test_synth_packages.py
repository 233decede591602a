"""The data package generator: a small package, decrypted with the real gpg and decoded with the
dump reference decoder, has the declared columns, the rows it says, and reproducible content;
and the benchmark script built on it starts."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from olx_spark.packages import names
from olx_spark.packages.gpg import open_decrypted
from olx_spark.packages.tsv import decode_dump
from olx_spark.synth.packages import COLUMNS, encode_value, write_studentmodule_package

SIZE = 300_000


def _plaintext(package: Path, member: str, gpg_keys) -> bytes:
    with (
        zipfile.ZipFile(package) as archive,
        archive.open(member) as encrypted,
        open_decrypted(encrypted, gpg_keys.settings()) as plain,
    ):
        return plain.read()


def test_a_generated_dump_decodes_to_the_declared_columns(tmp_path, gpg_keys):
    summary = write_studentmodule_package(
        tmp_path / "a", SIZE, gnupg_home=gpg_keys.home, recipient=gpg_keys.fingerprint, seed=3
    )

    package = Path(summary.package_path)
    assert names.parse_package_name(package.name) is not None
    member = names.parse_member_name(summary.member_path, "mitx")
    assert (member.kind, member.table, member.course_id) == (
        names.KIND_TABLE,
        "courseware_studentmodule",
        summary.course_id,
    )
    with zipfile.ZipFile(package) as archive:
        assert archive.namelist() == [summary.member_path]
    data = _plaintext(package, summary.member_path, gpg_keys)
    assert len(data) == summary.plaintext_bytes >= SIZE
    assert summary.plaintext_bytes - SIZE < 10_000  # ends with the row that reaches the size
    assert hashlib.sha256(data).hexdigest() == summary.plaintext_sha256

    header, rows, bad = decode_dump(data.decode("utf-8"))
    assert (tuple(header), bad) == (COLUMNS, [])
    assert len(rows) == summary.rows > 100
    by_name = [dict(zip(COLUMNS, row, strict=True)) for row in rows]
    assert [int(r["id"] or 0) for r in by_name] == list(range(1, summary.rows + 1))
    assert {r["course_id"] for r in by_name} == {summary.course_id}
    assert {r["done"] for r in by_name} == {"na"}
    states = [json.loads(r["state"] or "") for r in by_name]
    answers = [
        a
        for s in states
        for a in s.get("student_answers", {}).values()
        if not a.startswith("choice")
    ]
    assert any("\n" in a for a in answers) and any("\\" in a for a in answers)
    assert all(r["module_id"] and r["module_id"].startswith("block-v1:") for r in by_name)
    assert {r["module_type"] for r in by_name} >= {"problem", "video", "sequential"}

    # The same seed and size: the same plaintext (the ciphertext differs: a new session key).
    again = write_studentmodule_package(
        tmp_path / "b", SIZE, gnupg_home=gpg_keys.home, recipient=gpg_keys.fingerprint, seed=3
    )
    assert (again.rows, again.plaintext_sha256) == (summary.rows, summary.plaintext_sha256)


def test_values_are_escaped_as_the_dumps_escape_them():
    assert encode_value(None) == "NULL"
    assert encode_value('{"a": "x\\ny"}') == '{"a": "x\\\\ny"}'  # JSON: backslashes doubled
    assert encode_value("a\tb\nc\rd\\e") == "a\\tb\\nc\\rd\\\\e"
    assert encode_value("plain") == "plain"


def test_a_key_gpg_cannot_use_is_an_error_with_gpg_s_reason(tmp_path, gpg_keys):
    with pytest.raises(RuntimeError, match="gpg --encrypt failed"):
        write_studentmodule_package(
            tmp_path, 5_000_000, gnupg_home=gpg_keys.home, recipient="nobody@example.org"
        )


def test_the_benchmark_script_starts():
    """`benchmarks/bench_data_packages.py --help` (its imports and arguments; no Spark)."""
    script = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_data_packages.py"
    done = subprocess.run(
        [sys.executable, str(script), "--help"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "--size-mb" in done.stdout
