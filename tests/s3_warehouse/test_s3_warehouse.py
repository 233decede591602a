"""Delta tables on S3: a warehouse at `s3a://{bucket}/wh` on moto's server (the test run's S3
endpoint on 127.0.0.1), with hadoop-aws and its AWS SDK modules fetched from Maven Central.

One scenario (`scenario.py`) runs the four jobs, `dbt build` of a staging model per input kind,
and the jobs again, in one process of its own on the S3 warehouse, on the world tests/cluster
runs too; its tables must hold the rows of the test session's local reference run of that world
(tests/reference_world.py, shared with tests/cluster, so it is run once). Then
what bad settings do: credentials the endpoint refuses, an endpoint that is down, and the S3A
jars missing with no Maven to fetch them each stop the command before Spark starts, with a
message naming what to fix, and nothing in the bucket. No test here is skipped: if the jars
cannot be fetched, the scenario fails.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.conftest import _free_port
from tests.reference_world import (
    FIRST_RUN_LOADED,
    REFERENCE_GROUP,
    Landing,
    Reference,
    assert_same_tables,
    delta_tables,
)
from tests.s3_warehouse import scenario

pytestmark = [pytest.mark.spark, pytest.mark.xdist_group(REFERENCE_GROUP)]

BUCKET = "olx-lake"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def bucket(s3_endpoint: str) -> Iterator[Any]:
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    yield client
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
        for obj in page.get("Contents", []):
            client.delete_object(Bucket=BUCKET, Key=obj["Key"])
    client.delete_bucket(Bucket=BUCKET)


def _keys(client: Any, prefix: str) -> list[str]:
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
    return [obj["Key"] for page in pages for obj in page.get("Contents", [])]


def _config_file(tmp_path: Path, prefix: str, endpoint: str) -> Path:
    path = tmp_path / f"{prefix}.toml"
    path.write_text(
        f'[warehouse]\ndir = "s3a://{BUCKET}/{prefix}"\nraw_schema = "lake_raw"\n'
        f'metastore_dir = "{tmp_path / prefix}-metastore"\nlock_wait_seconds = 0\n'
        '[spark]\nmaster = "local[2]"\n[spark.conf]\n"spark.driver.memory" = "2g"\n'
        '"spark.ui.showConsoleProgress" = "false"\n'
        f'[s3]\nendpoint_url = "{endpoint}"\nregion = "us-east-1"\n',
        encoding="utf-8",
    )
    return path


def _env(**extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO), **extra}


def test_jobs_and_transform_on_s3_match_a_local_warehouse(
    spark, reference_landing: Landing, reference: Reference, bucket, s3_endpoint, tmp_path
) -> None:
    # The local side: the reference run of the same world, with (at least) the same models.
    reference.start(tuple(scenario.MODELS))
    landing_json = tmp_path / "landing.json"
    landing_json.write_text(
        json.dumps(
            {"root": str(reference_landing.root), "gnupg_home": reference_landing.gnupg_home}
        ),
        encoding="utf-8",
    )
    out = tmp_path / "s3.json"
    args = [str(_config_file(tmp_path, "wh", s3_endpoint)), str(landing_json)]
    started = time.monotonic()
    s3_run = subprocess.run(
        [sys.executable, "-m", "tests.s3_warehouse.scenario", *args, str(out)],
        cwd=REPO,
        # dbt's folders of its own: the reference run may be building in the session's meanwhile
        env=_env(
            DBT_TARGET_PATH=str(tmp_path / "dbt-target"), DBT_LOG_PATH=str(tmp_path / "dbt-logs")
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=900,
    )
    assert s3_run.returncode == 0, s3_run.stdout[-5000:]
    phases = [line for line in s3_run.stdout.splitlines() if line.startswith("S3 side")]
    print(f"S3 side: {time.monotonic() - started:.1f} s", *phases)
    s3 = json.loads(out.read_text(encoding="utf-8"))
    reference_run = reference.run(tuple(scenario.MODELS))

    loaded = {name: {"loaded": n, "spark_used": True} for name, n in FIRST_RUN_LOADED.items()}
    assert s3["first"] == reference_run.first == loaded
    assert s3["transform"] == 0
    # Run again: every job finds its files in the ledger on S3, read without starting Spark.
    assert s3["again"] == {name: {"loaded": 0, "spark_used": False} for name in FIRST_RUN_LOADED}

    # Every raw table and the four staging models equal the local reference run's, row for row.
    raw = {t.split(".", 1)[1]: v for t, v in s3["tables"].items() if t.startswith("raw.")}
    staging = {t.split(".", 1)[1]: v for t, v in s3["tables"].items() if t.startswith("staging.")}
    assert sorted(raw) == sorted(delta_tables(reference_run.schema_folder("raw")))
    assert sorted(staging) == sorted(scenario.MODELS)
    assert_same_tables(spark, raw, delta_tables(reference_run.schema_folder("raw")), "raw")
    assert_same_tables(
        spark, staging, delta_tables(reference_run.schema_folder("staging")), "staging"
    )
    # By hand from tests/marts_fixtures.py: the course and its 11 blocks below it, the package's
    # 4 learners, the log's 28 events (every one valid JSON with a time); the xAPI statements are
    # those of the reference run (their mapping has tests of its own).
    counts = {name: len(rows) for name, rows in staging.items()}
    assert counts["stg__edxorg__s3__course_xml_blocks"] == 12
    assert counts["stg__edxorg__s3__tables__auth_user"] == 4
    assert counts["stg__edxorg__s3__tracking_logs"] == 28
    assert counts["stg__xapi__statements"] > 0

    # The tables are Delta tables in the bucket, not anywhere else.
    keys = _keys(bucket, "wh/")
    logs = {key.split("/_delta_log/")[0] for key in keys if "/_delta_log/" in key}
    assert {
        f"wh/lake_raw.db/{t.split('.', 1)[1]}" for t in s3["tables"] if t.startswith("raw.")
    } <= logs
    assert "wh/lake_staging.db/stg__xapi__statements" in logs
    assert any(key.endswith(".parquet") for key in keys)
    # The catalog is local: Derby cannot keep its database on S3.
    assert (tmp_path / "wh-metastore" / "_metastore_db").is_dir()


def _run_cli(tmp_path: Path, config_file: Path, **env: str) -> subprocess.CompletedProcess[str]:
    source = tmp_path / "archives"
    source.mkdir(exist_ok=True)
    from tests.spark.courses import tiny_course, write_tar_gz

    write_tar_gz(source / "T1.tar.gz", tiny_course())
    olx_spark = [sys.executable, "-m", "olx_spark.cli"]
    command = ["ingest", "course-archives", str(source), "--platform", "edxorg"]
    return subprocess.run(
        [*olx_spark, *command, "--source-system", "prod", "--config", str(config_file)],
        cwd=tmp_path,
        env=_env(**env),
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_credentials_the_endpoint_refuses(bucket, s3_endpoint, tmp_path) -> None:
    from moto.core.authorization import enable_iam_authentication

    config_file = _config_file(tmp_path, "refused", s3_endpoint)
    with enable_iam_authentication():  # moto now checks keys as S3 does: this one is unknown
        result = _run_cli(tmp_path, config_file, AWS_ACCESS_KEY_ID="AKIAWRONGWRONGWRONG")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"the S3 endpoint {s3_endpoint} ([s3] endpoint_url) refused the credentials" in (
        result.stderr
    )
    assert "InvalidAccessKeyId" in result.stderr and "AWS_ACCESS_KEY_ID" in result.stderr
    assert "AKIAWRONGWRONGWRONG" not in result.stderr + result.stdout
    assert "SparkContext" not in result.stderr  # stopped before Spark started
    assert _keys(bucket, "refused") == []


def test_endpoint_down(bucket, tmp_path) -> None:
    down = f"http://127.0.0.1:{_free_port()}"
    result = _run_cli(tmp_path, _config_file(tmp_path, "down", down))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"the S3 endpoint {down} ([s3] endpoint_url) cannot be reached" in result.stderr
    assert "SparkContext" not in result.stderr
    assert _keys(bucket, "down") == []


def test_missing_jars_and_no_maven(bucket, s3_endpoint, tmp_path) -> None:
    # An empty jar cache, and a PATH with Python but no `mvn`.
    config_file = _config_file(tmp_path, "nojars", s3_endpoint)
    env = {"OLX_SPARK_JARS_DIR": str(tmp_path / "jars"), "PATH": str(Path(sys.executable).parent)}
    result = _run_cli(tmp_path, config_file, **env)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "a warehouse on S3 needs the S3A jars (org.apache.hadoop:hadoop-aws:" in result.stderr
    assert "Maven (`mvn`) is not on the PATH" in result.stderr
    assert "python -m olx_spark.spark.jars --s3a" in result.stderr
    assert "SparkContext" not in result.stderr
    assert _keys(bucket, "nojars") == []
