"""The executors' JSON lines writer against a real S3 endpoint (moto's server on 127.0.0.1):
one gzip object per partition value per task, every line once, named by run and task, no temp
file left behind."""

from __future__ import annotations

import gzip
import tempfile
from pathlib import Path

import boto3
import pyarrow as pa
import pytest

from olx_spark.storage.upload import NULL_PARTITION, JsonLinesTarget, upload_json_lines


@pytest.fixture
def bucket(s3_config):
    client = boto3.client("s3", endpoint_url=s3_config.endpoint_url, region_name=s3_config.region)
    client.create_bucket(Bucket="out")
    yield client
    for obj in client.list_objects_v2(Bucket="out").get("Contents", []):
        client.delete_object(Bucket="out", Key=obj["Key"])
    client.delete_bucket(Bucket="out")


def _batch(lines: list[str | None], dates: list[str | None]) -> pa.RecordBatch:
    return pa.record_batch(
        [pa.array(lines, pa.string()), pa.array(dates, pa.string())], names=["line", "d"]
    )


def test_one_object_per_date_every_line_once(bucket, s3_config, monkeypatch, tmp_path):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # to see what is left behind
    target = JsonLinesTarget("s3://out/x/y/", "d", "run1")
    batches = [
        _batch(['{"a":1}', '{"a":2}', None, '{"a":3}'], ["2024-03-03", "2024-03-04"] * 2),
        _batch(['{"a":4}', '{"a":5}'], ["2024-03-03", None]),
    ]

    written = pa.Table.from_batches(
        list(upload_json_lines(batches, target, 7, s3_config, "line"))
    ).to_pylist()

    assert written == [
        {"uri": "s3://out/x/y/d=2024-03-03/part-00007-run1.txt.gz", "lines": 2},
        {"uri": "s3://out/x/y/d=2024-03-04/part-00007-run1.txt.gz", "lines": 2},
        {"uri": f"s3://out/x/y/d={NULL_PARTITION}/part-00007-run1.txt.gz", "lines": 1},
    ]
    bodies = {
        o["Key"]: gzip.decompress(bucket.get_object(Bucket="out", Key=o["Key"])["Body"].read())
        for o in bucket.list_objects_v2(Bucket="out")["Contents"]
    }
    assert bodies == {
        "x/y/d=2024-03-03/part-00007-run1.txt.gz": b'{"a":1}\n{"a":4}\n',
        "x/y/d=2024-03-04/part-00007-run1.txt.gz": b'{"a":2}\n{"a":3}\n',
        f"x/y/d={NULL_PARTITION}/part-00007-run1.txt.gz": b'{"a":5}\n',
    }
    assert list(Path(tmp_path).iterdir()) == []


def test_nothing_to_write_uploads_nothing(bucket, s3_config):
    target = JsonLinesTarget("s3://out", "d", "run1")
    assert not list(
        upload_json_lines([_batch([None], ["2024-03-03"])], target, 0, s3_config, "line")
    )
    assert "Contents" not in bucket.list_objects_v2(Bucket="out")
