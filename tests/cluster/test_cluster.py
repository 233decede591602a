"""olx-spark on a real Spark standalone cluster (issue 16, item 2): the four `jobs/*.py` under
spark-submit exactly as the README documents (driver, executors and Python workers in separate
processes; a metastore shared through Derby's network server), their tables equal to a local
run of the same inputs row for row, a rerun that loads nothing; then dbt's `thrift` target
through Spark's Thrift server on that cluster builds staging and marts equal to the local build.

Tables are compared in the test run's own Spark session, reading both warehouses' Delta tables
by path, with the reader the S3 tests use (tests/reference_world.py, which names the columns
that say *when* a run happened: only those differ between two runs of the same inputs).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from olx_spark.transform import dbt_schema
from tests.cluster.conftest import RAW_SCHEMA, ClusterRuns, ThriftBuild
from tests.cluster.standalone import HOST, Cluster
from tests.reference_world import (
    ALL_MODELS,
    FIRST_RUN_LOADED,
    REFERENCE_GROUP,
    Reference,
    ReferenceRun,
    assert_same_tables,
    delta_tables,
    table_lines,
)

pytestmark = [pytest.mark.e2e, pytest.mark.cluster, pytest.mark.xdist_group(REFERENCE_GROUP)]

BASE_SCHEMA = RAW_SCHEMA.removesuffix("_raw")


def cluster_schema(cluster: Cluster, layer: str) -> Path:
    schema = RAW_SCHEMA if layer == "raw" else f"{BASE_SCHEMA}_{layer}"
    return cluster.warehouse / f"{schema}.db"


def same_as_reference(spark: Any, cluster: Cluster, reference: ReferenceRun, layer: str) -> int:
    """Every Delta table of one layer on the cluster equals the reference run's, and the two
    layers hold the same tables; returns how many rows were compared."""
    on_cluster = delta_tables(cluster_schema(cluster, layer))
    local = delta_tables(reference.schema_folder(layer))
    assert on_cluster, f"no {layer} tables on the cluster"
    assert sorted(on_cluster) == sorted(local), layer
    lines = {name: table_lines(spark, path) for name, path in on_cluster.items()}
    return assert_same_tables(spark, lines, local, layer)


def cursor(port: int) -> Any:
    from pyhive import hive

    return hive.connect(host=HOST, port=port, username="test").cursor()


def summary_counts(text: str, label: str) -> list[int]:
    return [int(n) for n in re.findall(rf"^\s+{label}\s+(\d+)", text, flags=re.M)]


def test_the_four_jobs_run_on_the_cluster_and_a_rerun_loads_nothing(
    cluster: Cluster, cluster_runs: ClusterRuns
) -> None:
    first = cluster_runs.first.check().stdout
    # three ingests loaded their file(s), the xAPI job transformed the log
    loaded = [FIRST_RUN_LOADED[n] for n in ("course-archives", "data-packages", "tracking-logs")]
    assert summary_counts(first, "loaded") == loaded
    assert summary_counts(first, "log files transformed") == [FIRST_RUN_LOADED["xapi"]]
    # executors on both workers, in JVMs of their own (the apps' folders under the workers)
    apps = [p for p in cluster.root.glob("worker-*/app-*/*") if p.is_dir()]
    assert {p.parent.parent.name for p in apps} == {"worker-1", "worker-2"}

    rerun = cluster_runs.rerun.check().stdout
    assert summary_counts(rerun, "loaded") == [0, 0, 0]
    assert summary_counts(rerun, "log files transformed") == [0]
    assert "nothing new to transform" in rerun
    # spark-submit's spark.sql.warehouse.dir is the jobs' --warehouse, so each rerun read its
    # ledger from the Delta log and made no Spark session (no executor was asked for)
    assert "Running Spark version" not in cluster_runs.rerun.stderr
    assert summary_counts(rerun, "skipped") == [1, 5, 1]


def test_the_cluster_tables_equal_a_local_run_and_so_does_the_thrift_build(
    spark: Any,
    cluster: Cluster,
    cluster_runs: ClusterRuns,
    reference: Reference,
    thrift_build: ThriftBuild,
) -> None:
    cluster_runs.rerun.check()
    reference_run = reference.run(ALL_MODELS)
    assert same_as_reference(spark, cluster, reference_run, "raw") > 100

    thrift_build.transform.check()
    for layer in ("staging", "marts"):
        assert same_as_reference(spark, cluster, reference_run, layer) > 0, layer
    # the intermediate layer's tables and views are in the shared metastore, as locally
    cur = cursor(thrift_build.port)
    cur.execute(f"SHOW TABLES IN {BASE_SCHEMA}_intermediate")
    on_cluster = {row[1] for row in cur.fetchall()}
    cur.close()
    schema = dbt_schema(reference_run.config, "intermediate")
    local = spark.sql(f"SHOW TABLES IN `{schema}`").where("NOT isTemporary").collect()
    assert on_cluster == {row["tableName"] for row in local} and on_cluster
