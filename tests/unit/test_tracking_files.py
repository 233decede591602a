"""One tracking log read end to end (as an executor does): staging batches, then the ledger row."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path
from typing import Any

import pyarrow as pa

from olx_spark.config import S3Config
from olx_spark.tracking.files import LogTask, ReadSettings, read_log_file
from olx_spark.tracking.tables import staging_schema
from tests.packages_fixtures import PASSPHRASE

TEXT = b'{"event_type": "a"}\n{"event_type": "b"}\nnot json\n'


def _settings(gpg_keys: Any = None, passphrase: str | None = PASSPHRASE) -> ReadSettings:
    from olx_spark.packages.gpg import GpgSettings

    gpg = gpg_keys.settings(passphrase) if gpg_keys else GpgSettings(None, None, "nowhere")
    return ReadSettings(
        gpg=gpg,
        s3=S3Config(),
        chunk_bytes=16,
        max_line_bytes=1000,
        keep_bytes=100,
        default_source_system="unknown",
    )


def _read(path: Path, settings: ReadSettings) -> tuple[list[tuple[int, str, str | None]], dict]:
    task = LogTask(path.as_uri(), path.stat().st_size if path.exists() else 0, None)
    table = pa.Table.from_batches(list(read_log_file(task, settings)), schema=staging_schema())
    rows = table.to_pylist()
    *lines, last = rows
    assert last["kind"] == "file" and all(r["kind"] == "line" for r in lines)
    assert {r["file_uri"] for r in rows} == {task.uri}
    return [(r["line_number"], r["line"], r["read_error"]) for r in lines], last["file"]


def test_plain_and_gzip_files_give_the_same_lines_and_hash(tmp_path):
    plain = tmp_path / "MITx-prod-events-2024-03-03.log"
    plain.write_bytes(TEXT)
    packed = tmp_path / "tracking.log-20240303.gz"
    packed.write_bytes(gzip.compress(TEXT))

    lines, row = _read(plain, _settings())
    lines_gz, row_gz = _read(packed, _settings())

    assert (
        lines
        == lines_gz
        == [
            (1, '{"event_type": "a"}', None),
            (2, '{"event_type": "b"}', None),
            (3, "not json", None),
        ]
    )
    assert row["file_sha256"] == row_gz["file_sha256"] == hashlib.sha256(TEXT).hexdigest()
    assert (row["status"], row["compression"], row["line_count"]) == ("loaded", "none", 3)
    assert (row["source_system"], row["org"], row["site"]) == ("prod", "MITx", "prod")
    assert str(row["log_date"]) == "2024-03-03" and row["encrypted"] is False
    assert (row_gz["status"], row_gz["compression"], row_gz["source_system"]) == (
        "loaded",
        "gzip",
        "unknown",
    )
    assert row["errors"] == [] and row["retryable"] is False
    assert row["event_count"] is None  # counted by Spark, later


def test_truncated_gzip_is_partial(tmp_path):
    text = b"".join(b'{"n": %d}\n' % i for i in range(3000))
    whole = gzip.compress(text)
    path = tmp_path / "x.log.gz"
    path.write_bytes(whole[: len(whole) // 2])
    lines, row = _read(path, _settings())
    assert row["status"] == "partial" and row["retryable"] is False
    (error,) = row["errors"]
    assert error["kind"] == "truncated"
    assert row["line_count"] == len(lines) and lines[-1][2] is not None
    assert (
        row["file_sha256"]
        == hashlib.sha256("\n".join(line for _, line, _ in lines).encode()).hexdigest()
    )


def test_a_missing_file_is_rejected_and_retried(tmp_path):
    lines, row = _read(tmp_path / "gone.log", _settings())
    assert lines == []
    assert (row["status"], row["retryable"], row["errors"][0]["kind"]) == (
        "rejected",
        True,
        "unreadable",
    )


def test_encrypted_logs(gpg_keys, tmp_path):
    good = tmp_path / "MITx-prod-events-2024-03-03.log.gz.gpg"
    good.write_bytes(gpg_keys.encrypt(gzip.compress(TEXT)))
    lines, row = _read(good, _settings(gpg_keys))
    assert [n for n, _, _ in lines] == [1, 2, 3]
    assert (row["status"], row["encrypted"], row["compression"]) == ("loaded", True, "gzip")
    assert row["file_sha256"] == hashlib.sha256(TEXT).hexdigest()

    other = tmp_path / "MITx-prod-events-2024-03-04.log.gz.gpg"
    other.write_bytes(gpg_keys.encrypt(gzip.compress(TEXT), to_other=True))
    lines, row = _read(other, _settings(gpg_keys))
    assert lines == []
    assert (row["status"], row["retryable"], row["errors"][0]["kind"]) == (
        "rejected",
        True,
        "no_secret_key",
    )
    assert "not in the keyring" in row["errors"][0]["message"]

    _, row = _read(good, _settings(gpg_keys, "wrong passphrase"))
    assert (row["status"], row["retryable"]) == ("rejected", True)
    assert "wrong passphrase" not in str(row) and PASSPHRASE not in str(row)

    big = b"".join(b'{"n": %d, "pad": "%s"}\n' % (i, b"y" * 200) for i in range(20000))
    cut = tmp_path / "MITx-prod-events-2024-03-05.log.gz.gpg"
    sealed = gpg_keys.encrypt(gzip.compress(big, compresslevel=1))
    cut.write_bytes(sealed[: len(sealed) // 2])
    _, row = _read(cut, _settings(gpg_keys))
    # Truncated encrypted data fails gpg's integrity check: nothing from it is trusted.
    assert (row["status"], row["retryable"]) == ("rejected", False)
