"""Bad cluster settings (issue 16, item 2): a master that is down, a metastore driver missing
from the driver's class path, no Thrift server listening. Each command exits non-zero in
seconds, with one line naming the setting to fix, and writes nothing. None of them needs the
cluster: a port nobody listens on is a dead master, a socket that accepts is a live one.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cluster.conftest import OLX_SPARK, run_step
from tests.cluster.standalone import HOST, free_port, run_block, spark_env

pytestmark = pytest.mark.e2e


@pytest.fixture
def listening_port() -> Iterator[int]:
    """A port that accepts connections (and answers nothing): enough for a reachability check."""
    with socket.socket() as server:
        server.bind((HOST, 0))
        server.listen()
        yield int(server.getsockname()[1])


def jobs_env(tmp_path: Path, master: str, derby_client_jar: str) -> dict[str, str]:
    landing = tmp_path / "landing"
    (landing / "course-archives").mkdir(parents=True)
    return spark_env(
        {
            "SPARK_MASTER": master,
            "WAREHOUSE": str(tmp_path / "warehouse"),
            "METASTORE": f"{HOST}:{free_port()}",
            "DERBY_CLIENT_JAR": derby_client_jar,
            "LANDING": str(landing),
            "GNUPG_HOME": str(tmp_path / "keys"),
            "LMS_ROOT_URL": "https://lms.example.org",
        }
    )


def assert_nothing_written(warehouse: Path) -> None:
    written = [p for p in warehouse.rglob("*") if p.is_file()] if warehouse.exists() else []
    assert not [p for p in written if "_locks" not in p.parts], written


def test_a_job_submitted_to_a_master_that_is_down_names_the_master_setting(
    tmp_path: Path,
) -> None:
    dead = f"spark://{HOST}:{free_port()}"
    result = run_block(
        "jobs", jobs_env(tmp_path, dead, "derbyclient.jar"), 300, tmp_path / "dead-master.log"
    )
    assert result.returncode != 0
    # spark-submit passes the Python driver's stderr on to its own stdout
    said = result.stdout + result.stderr
    assert f"the Spark master {dead} (spark-submit's --master, setting spark.master)" in said
    assert "Nothing was written" in said
    assert_nothing_written(tmp_path / "warehouse")


def test_a_missing_metastore_driver_jar_names_the_class_path_option(
    tmp_path: Path, listening_port: int
) -> None:
    master = f"spark://{HOST}:{listening_port}"
    missing = str(tmp_path / "no-such-derbyclient.jar")
    result = run_block(
        "jobs", jobs_env(tmp_path, master, missing), 300, tmp_path / "missing-jar.log"
    )
    assert result.returncode != 0
    said = result.stdout + result.stderr
    assert "class org.apache.derby.jdbc.ClientDriver (setting " in said
    assert "--driver-class-path" in said
    assert_nothing_written(tmp_path / "warehouse")


def test_transform_with_no_thrift_server_listening_names_the_settings(tmp_path: Path) -> None:
    port = free_port()
    warehouse = tmp_path / "warehouse"
    step = run_step(
        "thrift transform, nothing listening",
        [OLX_SPARK, "transform", "--target", "thrift", "--warehouse", str(warehouse)],
        spark_env({"DBT_SPARK_THRIFT_HOST": HOST, "DBT_SPARK_THRIFT_PORT": str(port)}),
        120,
        tmp_path / "transform.log",
    )
    assert step.returncode == 2
    assert step.seconds < 60
    assert f"{HOST}:{port}" in step.stderr
    assert "DBT_SPARK_THRIFT_HOST" in step.stderr and "DBT_SPARK_THRIFT_PORT" in step.stderr
    assert "Nothing was written" in step.stderr
    assert not warehouse.exists()
