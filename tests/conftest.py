"""Shared fixtures: one local Spark session with Delta for the whole test run (in a temporary
warehouse), a fresh raw schema per test, and a real S3 endpoint (moto's server) on 127.0.0.1.

`make test` runs the suite in two pytest-xdist workers (`-n 2 --dist loadgroup`): each worker is
a test session of its own (its Spark session, warehouse, metastore and dbt output folders), and
the tests that share the local reference run of tests/reference_world.py (tests/cluster,
tests/s3_warehouse) go to one worker together (their mark `xdist_group(REFERENCE_GROUP)`), so it
is made once."""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from olx_spark.config import Config, S3Config, SparkConfig, WarehouseConfig

# Python workers inherit the environment the JVM started with, so S3 credentials for the test
# endpoint must be in place before any Spark session exists.
for key, value in {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}.items():
    os.environ[key] = value

# The JVMs of every Spark application the tests start through spark-submit (this session's, the
# CLI's in subprocesses, the cluster's drivers and its Thrift server; not the cluster's master,
# workers and executors) with the serial garbage collector: with 2 cores and heaps of a few GB it
# spends less CPU than G1 (tests/e2e/test_marts.py alone: 302-318 CPU-seconds against 342-360).
os.environ.setdefault("SPARK_SUBMIT_OPTS", "-XX:+UseSerialGC")


# Tests of this worker whose xdist group was lost (see below): each fails before its fixtures.
GROUPS_LOST: set[str] = set()
GROUPS_LOST_MESSAGE = (
    "xdist's --dist loadgroup lost this test's group (its node id has no @group suffix), so "
    "the tests sharing the reference run would each make it (and a cluster) in every worker: "
    "install the pytest and pytest-xdist versions pyproject.toml pins"
)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """In an xdist worker under `--dist loadgroup`, xdist's own hook (which runs before this one)
    gives each test marked `xdist_group(name)` the node id suffix `@name`, by which the tests of
    a group go to one worker. A pytest or xdist that drops the suffix (pytest 9.2.0 does,
    pytest-dev/pytest-xdist#1386) would silently make the reference run, and a cluster, once per
    worker: those tests fail instead, saying why."""
    if os.environ.get("PYTEST_XDIST_WORKER") and getattr(config.option, "loadgroup", False):
        GROUPS_LOST.update(
            i.nodeid for i in items if i.get_closest_marker("xdist_group") and "@" not in i.nodeid
        )


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.nodeid in GROUPS_LOST:
        pytest.fail(GROUPS_LOST_MESSAGE, pytrace=False)


@pytest.fixture(scope="session", autouse=True)
def dbt_output(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """dbt's target and log folders of this test session (and of the commands it starts), off
    the shared dbt/ project folder: two sessions (xdist workers) never write each other's
    manifest, partial parse or log."""
    folders = tmp_path_factory.mktemp("dbt")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DBT_TARGET_PATH", str(folders / "target"))
        patch.setenv("DBT_LOG_PATH", str(folders / "logs"))
        yield


@pytest.fixture(scope="session")
def warehouse_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("warehouse")


@pytest.fixture(scope="session")
def base_config(warehouse_dir: Path) -> Config:
    return Config(
        warehouse=WarehouseConfig(dir=str(warehouse_dir)),
        spark=SparkConfig(master="local[2]", conf={"spark.driver.memory": "2g"}),
    )


@pytest.fixture(scope="session")
def spark(base_config: Config) -> Iterator[Any]:
    from olx_spark.spark.session import get_session

    session = get_session(base_config)
    yield session
    session.stop()


@pytest.fixture
def config(base_config: Config, request: pytest.FixtureRequest, spark: Any) -> Config:
    """A config whose raw schema is new for this test, so tests never see each other's rows."""
    schema = "t_" + re.sub(r"[^a-z0-9]+", "_", request.node.name.lower())[:80]
    spark.sql(f"DROP DATABASE IF EXISTS `{schema}` CASCADE")
    spark.sql(f"CREATE DATABASE `{schema}`")
    return replace(base_config, warehouse=replace(base_config.warehouse, raw_schema=schema))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """moto in server mode: a real HTTP S3 endpoint on 127.0.0.1 for this test run."""
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3_config(s3_endpoint: str) -> S3Config:
    return S3Config(endpoint_url=s3_endpoint, region="us-east-1")


@pytest.fixture(scope="session")
def gpg_keys(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Two real GPG key pairs in temporary keyrings (see tests/packages_fixtures.py)."""
    from tests.packages_fixtures import make_keyrings, stop_agents

    keys = make_keyrings(tmp_path_factory.mktemp("gnupg"))
    yield keys
    stop_agents(keys)


@pytest.fixture(scope="session")
def reference_landing(tmp_path_factory: pytest.TempPathFactory, gpg_keys: Any) -> Any:
    """The inputs tests/cluster and tests/s3_warehouse both run (tests/reference_world.py)."""
    from tests.reference_world import write_landing

    return write_landing(tmp_path_factory.mktemp("reference-landing"), gpg_keys)


@pytest.fixture(scope="session")
def reference(spark: Any, base_config: Config, reference_landing: Any) -> Iterator[Any]:
    """The local reference run of those inputs (tests/reference_world.Reference): built in a
    thread of this process as far as the session's tests ask."""
    from tests.reference_world import Reference

    built = Reference(spark, base_config, reference_landing)
    yield built
    built.close()
