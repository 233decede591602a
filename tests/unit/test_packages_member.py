"""One data package file read end to end, as an executor reads it: zip member byte ranges (local
and S3), decryption, and the staging batches of every kind, ledger row last."""

from __future__ import annotations

import dataclasses
import zipfile
from datetime import UTC, date, datetime
from typing import Any

import pyarrow as pa
import pytest

from olx_spark.config import S3Config
from olx_spark.olx.model import Limits
from olx_spark.packages.member import MemberTask, ReadSettings, read_member
from olx_spark.packages.staging import staging_schema
from olx_spark.packages.zipmembers import ZipMemberError, list_members, open_member
from olx_spark.storage.ranges import open_range, open_seekable
from tests.packages_fixtures import (
    AUTH_USER,
    COURSE,
    COURSE_ID,
    COURSE_STRUCTURE,
    EMAIL_OPT_IN,
    FORUM,
    STUDENTMODULE,
    member,
    zip_bytes,
)
from tests.spark.courses import tiny_course, write_tar_gz

MODIFIED = datetime(2024, 1, 8, tzinfo=UTC)


def _settings(keys: Any, passphrase: str | None = "default", **limits: Any) -> ReadSettings:
    gpg = keys.settings() if passphrase == "default" else keys.settings(passphrase)
    return ReadSettings(
        gpg=gpg,
        limits=Limits(**limits),
        s3=S3Config(),
        chunk_bytes=1 << 20,
        max_line_bytes=1 << 20,
        max_errors_per_file=20,
    )


def _tasks(path: Any, uri: str) -> dict[str, MemberTask]:
    with open(path, "rb") as handle:
        members = list_members(handle)
    return {
        m.path: MemberTask(
            file_uri=f"{uri}!/{m.path}",
            source_uri=uri,
            source_size_bytes=path.stat().st_size,
            source_modified_at=MODIFIED,
            package_uri=uri,
            package_date=date(2024, 1, 7),
            org="mitx",
            member_path=m.path,
            header_offset=m.header_offset,
            compress_size=m.compress_size,
            file_size=m.file_size,
            compress_type=m.compress_type,
            crc=m.crc,
            flag_bits=m.flag_bits,
        )
        for m in members
    }


def _read(task: MemberTask, settings: ReadSettings) -> tuple[dict[str, list[dict]], dict]:
    batches = list(read_member(task, settings))
    assert all(b.schema.equals(staging_schema()) for b in batches)
    table = pa.Table.from_batches(batches, staging_schema())
    by_kind: dict[str, list[dict]] = {}
    for row in table.to_pylist():
        by_kind.setdefault(row["kind"], []).append(row)
    (ledger,) = by_kind.pop("file")
    assert batches[-1].column("kind")[0].as_py() == "file"  # the ledger row comes last
    return by_kind, ledger["file"]


@pytest.fixture
def package(tmp_path, gpg_keys):
    tar = write_tar_gz(tmp_path / "course.tar.gz", tiny_course()).read_bytes()
    members = {
        member("auth_user"): gpg_keys.encrypt(AUTH_USER),
        member("courseware_studentmodule"): gpg_keys.encrypt(STUDENTMODULE),
        f"{COURSE}-course_structure-prod-analytics.json.gpg": gpg_keys.encrypt(COURSE_STRUCTURE),
        f"{COURSE}-prod.mongo.gpg": gpg_keys.encrypt(FORUM),
        "MITx-email_opt_in-prod-analytics.csv.gpg": gpg_keys.encrypt(EMAIL_OPT_IN),
        f"{COURSE}-course-prod.xml.tar.gz.gpg": gpg_keys.encrypt(tar),
        member("student_courseenrollment"): gpg_keys.encrypt("id\n1\n", to_other=True),
        "notes.txt": b"not a package file",
    }
    path = tmp_path / "mitx-2024-01-07.zip"
    path.write_bytes(zip_bytes(members))
    return path, _tasks(path, path.as_uri())


def test_dump_lines_go_out_raw_and_bad_lines_apart(package, gpg_keys):
    _, tasks = package
    rows, ledger = _read(tasks[member("courseware_studentmodule")], _settings(gpg_keys))
    assert [(r["table"], r["line_number"]) for r in rows["line"]] == [
        ("courseware_studentmodule", 2),
        ("courseware_studentmodule", 3),
        ("courseware_studentmodule", 5),
    ]
    assert rows["line"][0]["line"] == STUDENTMODULE.split("\n")[1]
    (bad,) = rows["bad_line"]
    assert (bad["line_number"], bad["line"], bad["reason"]) == (
        4,
        "12\tproblem\tbad\tline",
        "4 fields where the header has 7",
    )
    assert ledger["status"] == "loaded" and ledger["row_count"] == 3
    assert ledger["bad_line_count"] == 1
    assert ledger["errors"] == [
        {
            "path": member("courseware_studentmodule"),
            "kind": "bad_line",
            "message": "line 4: 4 fields where the header has 7",
        }
    ]
    assert ledger["header"][4] == "state"
    assert ledger["course_id_hint"] == COURSE_ID
    assert ledger["source_system"] == "prod" and ledger["course_id"] == COURSE_ID
    assert ledger["table_name"] == "courseware_studentmodule"
    assert ledger["target_table"] == "raw__edxorg__s3__tables__courseware_studentmodule"
    assert ledger["encrypted"] and ledger["file_size_bytes"] == len(STUDENTMODULE.encode())
    assert len(ledger["file_sha256"]) == 64


def test_every_kind_reads(package, gpg_keys):
    _, tasks = package
    settings = _settings(gpg_keys)
    rows, ledger = _read(tasks[f"{COURSE}-course_structure-prod-analytics.json.gpg"], settings)
    assert len(rows["structure"]) == 3 and ledger["row_count"] == 3
    assert ledger["target_table"] == "raw__edxorg__s3__course_structure"

    rows, ledger = _read(tasks[f"{COURSE}-prod.mongo.gpg"], settings)
    assert [r["line_number"] for r in rows["forum"]] == [1, 2]
    assert rows["forum"][1]["forum"]["comment_thread_id"] == "65a000000000000000000001"
    assert [r["line_number"] for r in rows["bad_line"]] == [3]
    assert ledger["status"] == "loaded" and ledger["bad_line_count"] == 1

    rows, ledger = _read(tasks["MITx-email_opt_in-prod-analytics.csv.gpg"], settings)
    assert [r["fields"][1] for r in rows["csv"]] == ["alice", "bob"]
    assert ledger["course_id"] is None and ledger["table_name"] == "email_opt_in"

    rows, ledger = _read(tasks[f"{COURSE}-course-prod.xml.tar.gz.gpg"], settings)
    assert len(rows["blocks"]) == 6 and len(rows["archives"]) == 1
    assert rows["archives"][0]["archives"]["status"] == "loaded"
    assert rows["blocks"][0]["blocks"]["source_system"] == "prod"
    assert ledger["status"] == "loaded" and ledger["course_id"] == "course-v1:MITx+T.01+2024_T1"


def test_wrong_key_and_unknown_files_are_rejected_with_reasons(package, gpg_keys):
    _, tasks = package
    rows, ledger = _read(tasks[member("student_courseenrollment")], _settings(gpg_keys))
    assert rows == {}
    assert (ledger["status"], ledger["retryable"]) == ("rejected", True)
    assert ledger["errors"][0]["kind"] == "no_secret_key"

    rows, ledger = _read(tasks["notes.txt"], _settings(gpg_keys))
    assert (ledger["status"], ledger["retryable"]) == ("rejected", False)
    assert ledger["errors"][0]["kind"] == "unknown_file"


def test_wrong_passphrase_rejects_and_nothing_secret_is_in_the_row(package, gpg_keys):
    _, tasks = package
    rows, ledger = _read(tasks[member("auth_user")], _settings(gpg_keys, "wrong-passphrase-xyz"))
    assert ledger["status"] == "rejected" and ledger["errors"][0]["kind"] == "bad_passphrase"
    assert "wrong-passphrase-xyz" not in repr(ledger) and "wrong-passphrase-xyz" not in repr(rows)


def test_a_plaintext_bomb_is_stopped(tmp_path, gpg_keys):
    bomb = gpg_keys.encrypt(b"id\tx\n" + b"1\t" + b"a" * 3_000_000 + b"\n")  # gpg compresses it
    path = tmp_path / "mitx-2024-01-07.zip"
    path.write_bytes(zip_bytes({member("auth_user"): bomb}))
    (task,) = _tasks(path, path.as_uri()).values()
    _, ledger = _read(task, _settings(gpg_keys, ratio_grace_bytes=1_000_000, max_ratio=10.0))
    assert ledger["status"] == "rejected" and ledger["errors"][0]["kind"] == "bomb"


def test_zip_member_checks_size_and_crc(tmp_path):
    path = tmp_path / "p.zip"
    path.write_bytes(zip_bytes({"a.txt": b"hello " * 1000, "b.txt": b"stored"}, zipfile.ZIP_STORED))
    uri = path.as_uri()
    with open(path, "rb") as handle:
        members = {m.path: m for m in list_members(handle)}

    def opener(start, length):
        return open_range(uri, start, length, S3Config())

    with open_member(opener, members["a.txt"]) as stream:
        assert stream.read() == b"hello " * 1000
    lying = dataclasses.replace(members["b.txt"], crc=1)
    with pytest.raises(ZipMemberError, match="CRC"), open_member(opener, lying) as stream:
        stream.read()


def test_zip_members_from_s3_byte_ranges(tmp_path, s3_config):
    from olx_spark.storage.s3 import s3_client

    client = s3_client(s3_config)
    client.create_bucket(Bucket="pkgs")
    data = zip_bytes({f"m{i}.txt": (f"member {i}\n" * 5000).encode() for i in range(3)})
    client.put_object(Bucket="pkgs", Key="in/mitx-2024-01-07.zip", Body=data)
    uri = "s3://pkgs/in/mitx-2024-01-07.zip"
    with open_seekable(uri, len(data), s3_config) as handle:
        members = list_members(handle)
    assert [m.path for m in members] == ["m0.txt", "m1.txt", "m2.txt"]
    with open_member(lambda s, n: open_range(uri, s, n, s3_config), members[1]) as stream:
        assert stream.read() == b"member 1\n" * 5000
