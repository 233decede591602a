"""Session fixtures of tests/cluster: the standalone cluster (tests/cluster/standalone.py), the
README's jobs run on it twice, and the Thrift server with `olx-spark transform --target thrift`.

Time is what this folder is short of (CI runs everything on 2 cores), so there is one cluster
per session, the inputs are the world tests/s3_warehouse runs too (tests/reference_world.py:
one course, one data package, one tracking log, which every job and every mart has rows from),
and the local reference run of that world, shared with tests/s3_warehouse, goes on in a thread
of the test process while the cluster starts and runs the jobs.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.cluster.standalone import (
    HOST,
    ROOT,
    Cluster,
    free_port,
    launch_thrift_server,
    readme_env,
    run_block,
    spark_env,
    start_cluster,
    wait_thrift_server,
)
from tests.reference_world import ALL_MODELS, LMS_ROOT_URL, SECRETS, Landing, Reference

OLX_SPARK = str(Path(sys.executable).parent / "olx-spark")
RAW_SCHEMA = "ol_warehouse_local_raw"  # the default: the README's commands name no other


@dataclass(frozen=True)
class Step:
    """One command and what it printed."""

    name: str
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    def check(self) -> Step:
        assert self.returncode == 0, f"{self.name} exited {self.returncode}\n{self.stderr[-6000:]}"
        return self


def run_step(name: str, argv: list[str], env: dict[str, str], timeout: float, log: Path) -> Step:
    started = time.monotonic()
    result = subprocess.run(
        argv, env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False
    )
    step = Step(name, result.returncode, result.stdout, result.stderr, time.monotonic() - started)
    log.write_text(f"$ {' '.join(argv)}\n{step.stdout}\n--- stderr ---\n{step.stderr}")
    return step


def dbt_env(folder: Path) -> dict[str, str]:
    """dbt's target and log folders of one build, off the shared dbt/ project folder."""
    return {"DBT_TARGET_PATH": str(folder / "dbt-target"), "DBT_LOG_PATH": str(folder / "dbt-logs")}


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory, reference: Reference) -> Iterator[Cluster]:
    """The cluster; the local reference run (the jobs and every model) starts first, in a
    thread of this process, and goes on beside the cluster's jobs."""
    reference.start(ALL_MODELS)
    started = start_cluster(tmp_path_factory.mktemp("cluster") / "standalone")
    try:
        yield started
    finally:
        started.processes.stop()


def cluster_env(cluster: Cluster, landing: Landing, **extra: str) -> dict[str, str]:
    return readme_env(
        cluster,
        {
            **SECRETS,
            "LANDING": str(landing.root),
            "GNUPG_HOME": landing.gnupg_home,
            "LMS_ROOT_URL": LMS_ROOT_URL,
            **extra,
        },
    )


@dataclass(frozen=True)
class ClusterRuns:
    first: Step
    rerun: Step
    thrift_port: int
    thrift_log: Path


@pytest.fixture(scope="session")
def cluster_runs(cluster: Cluster, reference_landing: Landing, delta_jars: str) -> ClusterRuns:
    """The README's jobs block on the cluster, then the same block again. The README's Thrift
    server starts between the two (it takes a while to come up and holds no executor while
    idle), so that it is up by the time the rerun is done."""
    env = cluster_env(cluster, reference_landing, DELTA_JARS=delta_jars)
    logs = cluster.root / "logs"
    steps = []
    port, thrift_log = free_port(), Path()
    for name in ("jobs", "jobs-rerun"):
        started = time.monotonic()
        result = run_block("jobs", env, 1500, logs / f"{name}.log")
        steps.append(
            Step(name, result.returncode, result.stdout, result.stderr, time.monotonic() - started)
        )
        if name == "jobs" and result.returncode == 0:
            thrift_log = launch_thrift_server(cluster, port, env)
    return ClusterRuns(steps[0], steps[1], port, thrift_log)


@dataclass(frozen=True)
class ThriftBuild:
    port: int
    transform: Step


@pytest.fixture(scope="session")
def thrift_build(cluster: Cluster, cluster_runs: ClusterRuns) -> ThriftBuild:
    """`olx-spark transform --target thrift` against the README's Thrift server."""
    cluster_runs.first.check()
    port = cluster_runs.thrift_port
    wait_thrift_server(cluster, port, cluster_runs.thrift_log)
    folder = cluster.root / "thrift-dbt"
    folder.mkdir()
    transform = run_step(
        "thrift transform",
        [OLX_SPARK, "transform", "--target", "thrift", "--models-only",
         "--config", "conf/standalone.toml",
         "--warehouse", str(cluster.warehouse)],
        spark_env({"DBT_SPARK_THRIFT_HOST": HOST, "DBT_SPARK_THRIFT_PORT": str(port),
                   **dbt_env(folder)}),
        1800,
        folder / "transform.log",
    )  # fmt: skip
    return ThriftBuild(port, transform)


@pytest.fixture(scope="session")
def delta_jars() -> str:
    """The Delta jars olx-spark caches (`python -m olx_spark.spark.jars`), as a class path."""
    from olx_spark.spark.jars import cached_jars, fetch_with_maven

    jars = cached_jars() or fetch_with_maven()
    assert jars, "the Delta jars could not be fetched (python -m olx_spark.spark.jars)"
    return ":".join(str(j) for j in jars)
