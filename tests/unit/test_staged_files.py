"""Staging files an executor writes itself: one Parquet file per table (more past a size), a
manifest naming exactly those files, locally and on S3."""

from __future__ import annotations

import io
from pathlib import Path

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from olx_spark.storage import staged_files
from olx_spark.storage.staged_files import MANIFEST_SCHEMA, StagedFiles, run_folder

EDGES = pa.schema([pa.field("archive_uri", pa.string()), pa.field("position", pa.int32())])
PAGES = pa.schema([pa.field("archive_uri", pa.string()), pa.field("content", pa.string())])


def _edges(uri: str, positions: list[int]) -> pa.RecordBatch:
    return pa.RecordBatch.from_pydict(
        {"archive_uri": [uri] * len(positions), "position": positions}, schema=EDGES
    )


def _pages(uri: str, texts: list[str]) -> pa.RecordBatch:
    return pa.RecordBatch.from_pydict(
        {"archive_uri": [uri] * len(texts), "content": texts}, schema=PAGES
    )


def test_one_file_per_table_and_a_manifest_of_exactly_those(tmp_path: Path, s3_config):
    staged = StagedFiles(str(tmp_path / "stage"), "3-0", s3_config)
    staged.add("edges", _edges("a", [0, 1]))
    staged.add("pages", _pages("a", ["x"]))
    staged.add("edges", _edges("b", [5]))
    staged.add("pages", _pages("b", []))  # nothing to write: no file for it
    manifest = pa.Table.from_batches([staged.close()]).to_pylist()

    assert sorted((m["table"], m["rows"]) for m in manifest) == [("edges", 3), ("pages", 1)]
    by_table = {m["table"]: m["uri"] for m in manifest}
    for table, uri in by_table.items():
        path = Path(uri)
        assert path.parent == tmp_path / "stage" / table
        assert path.name.startswith("part-3-0-") and path.suffix == ".parquet"
    edges = pq.read_table(by_table["edges"])
    assert edges.schema.equals(EDGES)
    assert edges.to_pylist() == [
        {"archive_uri": "a", "position": 0},
        {"archive_uri": "a", "position": 1},
        {"archive_uri": "b", "position": 5},
    ]
    assert pq.read_table(by_table["pages"]).to_pylist() == [{"archive_uri": "a", "content": "x"}]
    # Only what the manifest names is in the folder.
    assert sorted(p for p in (tmp_path / "stage").rglob("*") if p.is_file()) == sorted(
        Path(u) for u in by_table.values()
    )


def test_a_file_uri_and_an_empty_task(tmp_path: Path, s3_config):
    empty = StagedFiles(f"file://{tmp_path}/stage", "0-0", s3_config).close()
    assert empty.schema.equals(MANIFEST_SCHEMA) and empty.num_rows == 0

    staged = StagedFiles(f"file://{tmp_path}/stage", "0-1", s3_config)
    staged.add("edges", _edges("a", [7]))
    (row,) = pa.Table.from_batches([staged.close()]).to_pylist()
    assert row["uri"].startswith(f"file://{tmp_path}/stage/edges/part-0-1-")
    assert pq.read_table(row["uri"][len("file://") :]).column("position").to_pylist() == [7]


def test_a_large_table_is_split_over_files_and_no_row_is_lost(
    tmp_path: Path, s3_config, monkeypatch
):
    monkeypatch.setattr(staged_files, "FILE_BYTES", 4000)
    monkeypatch.setattr(staged_files, "ROW_GROUP_BYTES", 1000)
    staged = StagedFiles(str(tmp_path), "1-0", s3_config)
    for i in range(40):  # 40 batches of 100 int32 positions (+ a uri each): ~1.3 KB each
        staged.add("edges", _edges(f"u{i}", list(range(i * 100, i * 100 + 100))))
    manifest = pa.Table.from_batches([staged.close()]).to_pylist()

    assert len(manifest) > 1
    assert len({m["uri"] for m in manifest}) == len(manifest)
    assert sum(m["rows"] for m in manifest) == 4000
    positions = sorted(
        p for m in manifest for p in pq.read_table(m["uri"]).column("position").to_pylist()
    )
    assert positions == list(range(4000))
    for m in manifest:
        assert pq.read_metadata(m["uri"]).num_rows == m["rows"]


@pytest.mark.parametrize("scheme", ["s3", "s3a"])
def test_files_on_s3_are_uploaded_whole(s3_config, scheme: str):
    client = boto3.client("s3", endpoint_url=s3_config.endpoint_url, region_name=s3_config.region)
    bucket = f"staged-files-{scheme}"
    client.create_bucket(Bucket=bucket)
    staged = StagedFiles(f"{scheme}://{bucket}/wh/_staging/run1", "2-0", s3_config)
    staged.add("pages", _pages("a", ["p1", "p2"]))
    (row,) = pa.Table.from_batches([staged.close()]).to_pylist()

    prefix = f"{scheme}://{bucket}/"
    assert row["uri"].startswith(f"{prefix}wh/_staging/run1/pages/part-2-0-")
    key = row["uri"][len(prefix) :]
    (listed,) = client.list_objects_v2(Bucket=bucket, Prefix="wh/")["Contents"]
    assert listed["Key"] == key
    body = client.get_object(Bucket=bucket, Key=key)["Body"].read()
    assert pq.read_table(io.BytesIO(body)).column("content").to_pylist() == ["p1", "p2"]


def test_a_folder_python_cannot_write_says_which_setting_to_change(s3_config):
    staged = StagedFiles("dbfs:/user/hive/warehouse/_staging/run1", "0-0", s3_config)
    with pytest.raises(ValueError, match=r"ingest\.staging_dir"):
        staged.add("edges", _edges("a", [1]))


def test_a_run_folder_is_fresh_and_a_plain_path_becomes_a_file_uri(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    first, second = run_folder("stage"), run_folder("stage")
    assert first != second
    assert first.startswith(f"file://{tmp_path}/stage/")
    assert run_folder("my dir é").startswith(f"file://{tmp_path}/my dir é/")  # not %-encoded
    assert run_folder("s3a://bucket/wh/_staging/").startswith("s3a://bucket/wh/_staging/")
    assert run_folder("file:/tmp/wh/_staging").startswith("file:/tmp/wh/_staging/")


def test_on_s3_files_are_cut_smaller_so_a_task_holds_less_in_memory(s3_config, monkeypatch):
    monkeypatch.setattr(staged_files, "FILE_BYTES", 10**9)
    monkeypatch.setattr(staged_files, "S3_FILE_BYTES", 4000)
    monkeypatch.setattr(staged_files, "ROW_GROUP_BYTES", 1000)
    client = boto3.client("s3", endpoint_url=s3_config.endpoint_url, region_name=s3_config.region)
    client.create_bucket(Bucket="staged-files-cut")
    staged = StagedFiles("s3a://staged-files-cut/run", "4-0", s3_config)
    for i in range(40):
        staged.add("edges", _edges(f"u{i}", list(range(i * 100, i * 100 + 100))))
    manifest = pa.Table.from_batches([staged.close()]).to_pylist()

    listed = client.list_objects_v2(Bucket="staged-files-cut")["Contents"]
    assert len(listed) == len(manifest) > 1
    positions = []
    for obj in listed:
        body = client.get_object(Bucket="staged-files-cut", Key=obj["Key"])["Body"].read()
        positions += pq.read_table(io.BytesIO(body)).column("position").to_pylist()
    assert sorted(positions) == list(range(4000))
