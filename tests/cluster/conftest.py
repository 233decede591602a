"""Session fixtures of tests/cluster: the inputs, the standalone cluster (tests/cluster/
standalone.py), the README's jobs run on it twice, the same inputs run locally once, and the
Thrift server with `olx-spark transform --target thrift`.

Time is what this folder is short of (CI runs everything on 2 cores), so there is one cluster
per session, the inputs are the marts' hand-made world (tests/marts_fixtures.py: one course,
one data package, one tracking log, which every job and every mart has rows from), and the
local reference run (4 ingests and `olx-spark transform`, each its own process, as a user runs
them) goes on in a thread while the cluster starts and runs the jobs.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
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
from tests.marts_fixtures import PACKAGE_COURSE, PACKAGE_TABLES, RUN, course_files
from tests.marts_fixtures import tracking_events as marts_events
from tests.packages_fixtures import PASSPHRASE, Keyrings, make_keyrings, stop_agents
from tests.spark.courses import write_tar_gz

LMS_ROOT_URL = "https://lms.example.org"
SECRETS = {"OLX_SPARK_GPG_PASSPHRASE": PASSPHRASE, "OLX_SPARK_XAPI_SALT": "cluster-test-salt"}
OLX_SPARK = str(Path(sys.executable).parent / "olx-spark")
RAW_SCHEMA = "ol_warehouse_local_raw"  # the default: neither run names another


@dataclass(frozen=True)
class Inputs:
    landing: Path  # course-archives/, data-packages/ (GPG-encrypted), tracking-logs/
    keys: Keyrings


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
def cluster_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cluster")


@pytest.fixture(scope="session")
def inputs(cluster_root: Path) -> Iterator[Inputs]:
    keys = make_keyrings(cluster_root / "keys")
    landing = cluster_root / "landing"
    write_tar_gz(landing / "course-archives" / f"MITx-M101-{RUN}.tar.gz", course_files())
    package = landing / "data-packages" / "mitx-2024-01-20"
    package.mkdir(parents=True)
    for table, content in PACKAGE_TABLES.items():
        name = f"{PACKAGE_COURSE}-{table}-prod-analytics.sql.gpg"
        (package / name).write_bytes(keys.encrypt(content))
    logs = landing / "tracking-logs"
    logs.mkdir()
    text = "".join(json.dumps(event) + "\n" for event in marts_events())
    (logs / "MITx-prod-events-2024-01-25.log").write_text(text)
    yield Inputs(landing, keys)
    stop_agents(keys)


def job_args(inputs: Inputs) -> list[tuple[str, list[str]]]:
    """The four jobs' CLI arguments, as the README's block gives them to `jobs/*.py`."""
    landing = inputs.landing
    return [
        ("course-archives", ["ingest", "course-archives", f"{landing}/course-archives",
                             "--platform", "edxorg", "--source-system", "prod"]),
        ("data-packages", ["ingest", "data-packages", f"{landing}/data-packages",
                           "--gnupg-home", inputs.keys.home]),
        ("tracking-logs", ["ingest", "tracking-logs", f"{landing}/tracking-logs"]),
        ("xapi", ["xapi", "--lms-root-url", LMS_ROOT_URL]),
    ]  # fmt: skip


@dataclass(frozen=True)
class LocalRun:
    warehouse: Path
    steps: list[Step]


def _local_run(root: Path, inputs: Inputs) -> LocalRun:
    """The same inputs through the `olx-spark` console script in local mode (embedded
    metastore, own warehouse), then `olx-spark transform`."""
    warehouse = root / "warehouse"
    conf = root / "local.toml"
    conf.write_text('[spark]\nmaster = "local[2]"\n[spark.conf]\n"spark.driver.memory" = "1g"\n')
    common = ["--warehouse", str(warehouse), "--config", str(conf)]
    env = spark_env({**SECRETS, **dbt_env(root)})
    steps = []
    for name, args in job_args(inputs):
        steps.append(
            run_step(f"local {name}", [OLX_SPARK, *args, *common], env, 600, root / f"{name}.log")
        )
    steps.append(
        run_step(
            "local transform",
            [OLX_SPARK, "transform", "--models-only", *common],
            env,
            900,
            root / "dbt.log",
        )
    )
    return LocalRun(warehouse, steps)


@pytest.fixture(scope="session")
def local_run_future(cluster_root: Path, inputs: Inputs) -> Iterator[Future[LocalRun]]:
    """The local reference run, started now in a thread; `.result()` waits for it."""
    root = cluster_root / "local"
    root.mkdir()
    with ThreadPoolExecutor(max_workers=1) as pool:
        future = pool.submit(_local_run, root, inputs)
        yield future
        future.result()


@pytest.fixture(scope="session")
def local_run(local_run_future: Future[LocalRun]) -> LocalRun:
    run = local_run_future.result()
    for step in run.steps:
        step.check()
    return run


@pytest.fixture(scope="session")
def cluster(cluster_root: Path, local_run_future: Future[LocalRun]) -> Iterator[Cluster]:
    """The cluster (the local reference run is already going on beside it)."""
    started = start_cluster(cluster_root / "standalone")
    try:
        yield started
    finally:
        started.processes.stop()


def cluster_env(cluster: Cluster, inputs: Inputs, **extra: str) -> dict[str, str]:
    return readme_env(
        cluster,
        {
            **SECRETS,
            "LANDING": str(inputs.landing),
            "GNUPG_HOME": inputs.keys.home,
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
def cluster_runs(cluster: Cluster, inputs: Inputs, delta_jars: str) -> ClusterRuns:
    """The README's jobs block on the cluster, then the same block again. The README's Thrift
    server starts between the two (it takes a while to come up and holds no executor while
    idle), so that it is up by the time the rerun is done."""
    env = cluster_env(cluster, inputs, DELTA_JARS=delta_jars)
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
