"""Tracking logs listed and read from a real S3 endpoint (moto's server on 127.0.0.1), and the
xAPI statements written back to it as JSON lines (`--out s3://...`): the events, the ledger and
the uploaded objects are read back exactly, and a rerun finds nothing new without Spark."""

from __future__ import annotations

import gzip
import json
from dataclasses import replace

import pytest

from olx_spark.spark.tracking_logs import TrackingLogJob, ingest_tracking_logs
from olx_spark.spark.xapi_statements import XapiJob, run_xapi
from olx_spark.tracking.tables import EVENTS_TABLE, LEDGER_TABLE
from olx_spark.xapi.tables import STATEMENTS_TABLE
from tests.spark.test_data_packages_s3 import _rows, no_session
from tests.spark.test_s3_source import bucket  # noqa: F401  (the bucket fixture)
from tests.spark.test_xapi_job import DAY1, LMS, SALT, SALT_ENV, _pseudonym

pytestmark = pytest.mark.spark


def test_logs_from_a_bucket_and_statements_out_to_one(
    spark,
    config,
    bucket,  # noqa: F811
    s3_config,
    monkeypatch,
):
    monkeypatch.setenv(SALT_ENV, SALT)
    client, name = bucket
    day1 = ("\n".join(json.dumps(line) for line in DAY1) + "\n").encode()
    client.put_object(
        Bucket=name, Key="logs/MITx-prod-events-2024-03-03.log.gz", Body=gzip.compress(day1)
    )
    client.put_object(Bucket=name, Key="logs/sub/tracking.log", Body=b"not json\n" + day1[:200])
    client.put_object(Bucket=name, Key="elsewhere/MITx-prod-events-2024-03-04.log.gz", Body=b"x")
    s3 = replace(config, s3=s3_config)
    source = f"s3://{name}/logs/"

    first = ingest_tracking_logs(s3, TrackingLogJob(source), lambda _: spark)

    assert first.spark_used
    summary = first.summary
    assert (summary.files_seen, summary.loaded, summary.rejected) == (2, 2, 0)
    gz_uri = f"{source}MITx-prod-events-2024-03-03.log.gz"
    plain_uri = f"{source}sub/tracking.log"
    assert _rows(spark, config, LEDGER_TABLE, "file_uri, line_count, event_count, status", "1") == [
        (gz_uri, 6, 6, "loaded"),
        (plain_uri, 2, 0, "loaded"),  # "not json" and the first event cut at byte 200: both bad
    ]
    events = _rows(
        spark, config, EVENTS_TABLE, "file_uri, line_number, event_name, user_id", "1, 2"
    )
    assert events == [
        (gz_uri, i + 1, line.get("name"), line["context"].get("user_id"))
        for i, line in enumerate(DAY1)
    ]

    again = ingest_tracking_logs(s3, TrackingLogJob(source), no_session)
    assert (again.spark_used, again.precheck) == (False, "nothing new")

    out = f"s3://{name}/xapi/out"
    xapi = run_xapi(spark, s3, XapiJob(lms_root_url=LMS, out=out))

    assert xapi.statements_written == 3
    listed = client.list_objects_v2(Bucket=name, Prefix="xapi/out/")["Contents"]
    keys = sorted(o["Key"] for o in listed)
    assert len(keys) >= 1
    assert all(k.startswith("xapi/out/statement_date=2024-03-03/part-") for k in keys), keys
    assert all(k.endswith(".txt.gz") for k in keys)
    uploaded = [
        json.loads(line)
        for k in keys
        for line in gzip.decompress(client.get_object(Bucket=name, Key=k)["Body"].read())
        .decode()
        .splitlines()
    ]
    table = _rows(spark, config, STATEMENTS_TABLE, "statement_id, actor_id", "1")
    assert sorted((s["id"], s["actor"]["account"]["name"]) for s in uploaded) == table
    assert {actor for _, actor in table} == {
        _pseudonym("7"),
        _pseudonym("username:bob"),
        _pseudonym("9"),
    }
