"""Archives listed and read from a real S3 endpoint (moto's server on 127.0.0.1)."""

from __future__ import annotations

from dataclasses import replace

import boto3
import pytest

from olx_spark.olx.tables import course_table_name
from olx_spark.spark.course_archives import CourseArchiveJob, run_course_archives
from olx_spark.storage.listing import SourceError, list_source
from tests.spark.courses import tiny_course, write_tar_gz

pytestmark = pytest.mark.spark


@pytest.fixture
def bucket(s3_config):
    client = boto3.client("s3", endpoint_url=s3_config.endpoint_url, region_name=s3_config.region)
    name = "exports"
    client.create_bucket(Bucket=name)
    yield client, name
    paginator = client.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=name):
        for obj in page.get("Contents", []):
            client.delete_object(Bucket=name, Key=obj["Key"])
    client.delete_bucket(Bucket=name)


def test_listing_pages_past_1000_keys(bucket, s3_config):
    client, name = bucket
    for i in range(1_105):
        client.put_object(Bucket=name, Key=f"courses/a/{i:05d}.tar.gz", Body=b"x")
    client.put_object(Bucket=name, Key="courses/a/notes.txt", Body=b"x")
    client.put_object(Bucket=name, Key="elsewhere/z.tar.gz", Body=b"x")

    files = list_source(f"s3://{name}/courses/", (".tar.gz",), s3_config)

    assert len(files) == 1_105
    assert files[-1].uri == f"s3://{name}/courses/a/01104.tar.gz"
    assert all(f.size == 1 for f in files)


def test_job_reads_archives_from_a_bucket_prefix(spark, config, bucket, s3_config, tmp_path):
    client, name = bucket
    # Junk keys that sort first, so the archives are only found past the first page.
    for i in range(1_001):
        client.put_object(Bucket=name, Key=f"exports/0-junk/{i:05d}.txt", Body=b"")
    for run in ("R1", "R2"):
        path = write_tar_gz(tmp_path / f"{run}.tar.gz", tiny_course(run))
        client.upload_file(str(path), name, f"exports/courses/{run}.tar.gz")
    client.put_object(Bucket=name, Key="exports/courses/bad.tar.gz", Body=b"garbage")
    s3_job_config = replace(config, s3=s3_config)
    job = CourseArchiveJob(f"s3://{name}/exports/", "openedx", "mitxonline")

    summary = run_course_archives(spark, s3_job_config, job)

    assert (summary.files_seen, summary.loaded, summary.rejected) == (3, 2, 1)
    table = f"`{config.warehouse.raw_schema}`.{course_table_name('openedx', 'archives')}"
    rows = spark.sql(f"SELECT archive_uri, status, source_system FROM {table} ORDER BY 1").collect()
    assert [tuple(r) for r in rows] == [
        (f"s3://{name}/exports/courses/R1.tar.gz", "loaded", "mitxonline"),
        (f"s3://{name}/exports/courses/R2.tar.gz", "loaded", "mitxonline"),
        (f"s3://{name}/exports/courses/bad.tar.gz", "rejected", "mitxonline"),
    ]
    again = run_course_archives(spark, s3_job_config, job)
    assert (again.unchanged, again.loaded) == (3, 0)


def test_unreachable_bucket_is_a_clear_error(s3_config):
    with pytest.raises(SourceError, match="cannot list s3://no-such-bucket"):
        list_source("s3://no-such-bucket/x/", (".tar.gz",), s3_config)
