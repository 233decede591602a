"""The pyarrow-only Delta log reader on hand-written tables: replay, checkpoints, S3, and
refusing (so that Spark reads instead) everything it does not understand."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.fs as pafs
import pytest

from olx_spark.config import S3Config
from olx_spark.storage.delta_log import (
    UnsupportedDeltaTable,
    load_snapshot,
    read_columns,
    table_location,
)
from tests.delta_fixtures import PROTOCOL, DeltaTableWriter, metadata_action, remove_action

FIELDS = {"uri": "string", "size": "long", "modified_at": "timestamp"}
T1 = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)


def _rows(*uris: str) -> pa.Table:
    return pa.table(
        {
            "uri": list(uris),
            "size": [len(u) for u in uris],
            "modified_at": pa.array([T1] * len(uris), pa.timestamp("us", tz="UTC")),
        }
    )


def _read(root: Path) -> list[dict]:
    table = read_columns(table_location(str(root), S3Config()), ["uri", "size", "modified_at"])
    return sorted(table.to_pylist(), key=lambda r: r["uri"])


def _new_table(root: Path, **meta: object) -> DeltaTableWriter:
    writer = DeltaTableWriter(root)
    writer.commit({"protocol": PROTOCOL}, metadata_action(FIELDS, "day", **meta))  # type: ignore[arg-type]
    return writer


def test_replays_adds_and_removes_in_order(tmp_path):
    writer = _new_table(tmp_path / "t")
    a = writer.data_file(_rows("a", "b"), "day=2024-05-06")
    writer.commit(a)
    c = writer.data_file(_rows("c"), "day=2024-05-07")
    writer.commit(c)
    replacement = writer.data_file(_rows("a2"), "day=2024-05-07")
    writer.commit(remove_action(a), replacement)

    rows = _read(tmp_path / "t")

    assert [r["uri"] for r in rows] == ["a2", "c"]
    assert rows[0]["modified_at"] == T1  # INT96 on disk, microseconds in UTC back
    snapshot = load_snapshot(table_location(f"file://{tmp_path}/t", S3Config()))
    assert snapshot.version == 3
    assert snapshot.partition_columns == ("day",)


def test_columns_are_typed_as_declared(tmp_path):
    writer = _new_table(tmp_path / "t")
    writer.commit(writer.data_file(_rows("a")))
    table = read_columns(table_location(str(tmp_path / "t"), S3Config()), ["modified_at", "size"])
    assert table.schema == pa.schema(
        [("modified_at", pa.timestamp("us", tz="UTC")), ("size", pa.int64())]
    )
    assert table.column("modified_at").cast(pa.int64()).to_pylist() == [
        (T1 - datetime(1970, 1, 1, tzinfo=UTC)) // pa.scalar(1, pa.duration("us")).as_py()
    ]


def test_a_table_without_files_reads_empty(tmp_path):
    _new_table(tmp_path / "t")
    assert _read(tmp_path / "t") == []


@pytest.mark.parametrize("parts", [1, 2])
def test_reads_from_the_newest_checkpoint_after_old_commits_are_gone(tmp_path, parts):
    writer = _new_table(tmp_path / "t")
    a = writer.data_file(_rows("a"))
    b = writer.data_file(_rows("b"))
    writer.commit(a, b)
    writer.commit(remove_action(a))
    writer.checkpoint([{"protocol": PROTOCOL}, metadata_action(FIELDS, "day"), b], parts=parts)
    for version in range(writer.version + 1):  # log clean-up after the checkpoint
        (writer.log / f"{version:020d}.json").unlink()
    writer.commit(writer.data_file(_rows("c")))

    assert [r["uri"] for r in _read(tmp_path / "t")] == ["b", "c"]


def test_an_incomplete_multi_part_checkpoint_is_not_used(tmp_path):
    writer = _new_table(tmp_path / "t")
    writer.commit(writer.data_file(_rows("a")))
    writer.checkpoint([{"protocol": PROTOCOL}, metadata_action(FIELDS)], parts=2)
    (writer.log / f"{writer.version:020d}.checkpoint.0000000002.0000000002.parquet").unlink()

    assert [r["uri"] for r in _read(tmp_path / "t")] == ["a"]  # from the commits instead


def test_reads_a_table_on_s3(tmp_path, s3_config):
    import boto3

    writer = _new_table(tmp_path / "t")
    writer.commit(writer.data_file(_rows("a", "b"), "day=2024-05-06"))
    client = boto3.client("s3", endpoint_url=s3_config.endpoint_url, region_name=s3_config.region)
    client.create_bucket(Bucket="delta-log-test")
    for path in (tmp_path / "t").rglob("*"):
        if path.is_file():
            key = f"raw.db/t/{path.relative_to(tmp_path / 't').as_posix()}"
            client.upload_file(str(path), "delta-log-test", key)

    location = table_location("s3://delta-log-test/raw.db/t", s3_config)
    rows = read_columns(location, ["uri"]).to_pylist()

    assert sorted(r["uri"] for r in rows) == ["a", "b"]


def _refused(root: Path, match: str) -> None:
    with pytest.raises(UnsupportedDeltaTable, match=match):
        _read(root)


def test_refuses_deletion_vectors(tmp_path):
    writer = _new_table(tmp_path / "t")
    add = writer.data_file(_rows("a"))
    add["add"]["deletionVector"] = {"storageType": "u", "pathOrInlineDv": "ab^-aqEH.-t@S}K{vb[*k^"}
    writer.commit(add)
    _refused(tmp_path / "t", "deletion vectors")


def test_refuses_unknown_reader_features(tmp_path):
    writer = DeltaTableWriter(tmp_path / "t")
    protocol = {
        "minReaderVersion": 3,
        "minWriterVersion": 7,
        "readerFeatures": ["deletionVectors", "timestampNtz"],
        "writerFeatures": ["deletionVectors", "timestampNtz"],
    }
    writer.commit({"protocol": protocol}, metadata_action(FIELDS))
    _refused(tmp_path / "t", "reader features not supported: \\['deletionVectors'\\]")


def test_refuses_column_mapping(tmp_path):
    _new_table(tmp_path / "t", configuration={"delta.columnMapping.mode": "name"})
    _refused(tmp_path / "t", "column mapping")


def test_refuses_a_newer_protocol(tmp_path):
    writer = DeltaTableWriter(tmp_path / "t")
    writer.commit(
        {"protocol": {"minReaderVersion": 4, "minWriterVersion": 7}}, metadata_action(FIELDS)
    )
    _refused(tmp_path / "t", "reader version 4")


def test_refuses_a_gap_in_the_log(tmp_path):
    writer = _new_table(tmp_path / "t")
    writer.commit(writer.data_file(_rows("a")))
    writer.commit(writer.data_file(_rows("b")))
    (writer.log / f"{1:020d}.json").unlink()
    _refused(tmp_path / "t", "gaps")


def test_refuses_v2_checkpoints_and_unknown_actions(tmp_path):
    writer = _new_table(tmp_path / "t")
    (writer.log / f"{0:020d}.checkpoint.80a083e8-7026-4e79-81be-64bd76c43a11.json").write_text("")
    _refused(tmp_path / "t", "checkpoint format")

    other = _new_table(tmp_path / "u")
    other.commit({"sidecar": {"path": "x.parquet"}})
    _refused(tmp_path / "u", "unknown action 'sidecar'")


def test_refuses_files_outside_the_table(tmp_path):
    writer = _new_table(tmp_path / "t")
    add = writer.data_file(_rows("a"))
    add["add"]["path"] = "s3://elsewhere/part-0.parquet"
    writer.commit(add)
    _refused(tmp_path / "t", "outside the table folder")


def test_refuses_what_is_not_a_delta_table(tmp_path):
    _refused(tmp_path / "nothing", "no Delta log")
    (tmp_path / "empty" / "_delta_log").mkdir(parents=True)
    _refused(tmp_path / "empty", "empty Delta log")
    with pytest.raises(UnsupportedDeltaTable, match="no pyarrow file system"):
        table_location("hdfs://nn/wh/t", S3Config())


def test_local_locations_in_every_form_spark_writes(tmp_path):
    """Hadoop gives a local table's location as `file:/x`; plain paths and `file:///x` too."""
    folder = tmp_path / "a b" / "t"
    encoded = str(folder).replace(" ", "%20")
    for uri in (
        str(folder),
        f"file://{folder}",
        f"file:{folder}",
        f"file:{encoded}",
        f"file://localhost{encoded}",
    ):
        location = table_location(uri, S3Config())
        assert isinstance(location.filesystem, pafs.LocalFileSystem), uri
        assert location.path == str(folder), uri
    # A colon without a slash after it, or a drive letter, is part of a path, not a scheme.
    for relative in ("backup:2024/t", "C:/wh/t"):
        assert table_location(relative, S3Config()).path == str(Path(relative).absolute())
    for not_here in ("file://nas/share/t", "s3:/bucket-less/key", "dbfs:/user/t"):
        with pytest.raises(UnsupportedDeltaTable, match="no pyarrow file system"):
            table_location(not_here, S3Config())


def test_refuses_columns_it_cannot_read(tmp_path):
    writer = _new_table(tmp_path / "t")
    writer.commit(writer.data_file(_rows("a")))
    location = table_location(str(tmp_path / "t"), S3Config())
    with pytest.raises(UnsupportedDeltaTable, match="no column 'nope'"):
        read_columns(location, ["nope"])
    with pytest.raises(UnsupportedDeltaTable, match="partition column"):
        read_columns(location, ["day"])
    shutil.rmtree(tmp_path / "t" / "day=2024-05-06", ignore_errors=True)
    for f in (tmp_path / "t").glob("part-*"):
        f.unlink()  # a data file the log names is gone
    with pytest.raises(UnsupportedDeltaTable, match="cannot read the data files"):
        read_columns(location, ["uri"])
