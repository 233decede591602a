"""olx-spark on a real Spark standalone cluster (issue 16, item 2): the four `jobs/*.py` under
spark-submit exactly as the README documents (driver, executors and Python workers in separate
processes; a metastore shared through Derby's network server), their tables equal to a local
run of the same inputs row for row, a rerun that loads nothing; then dbt's `thrift` target
through Spark's Thrift server on that cluster builds staging and marts equal to the local build.

Tables are compared through the Thrift server, reading both warehouses' Delta tables by path
(`delta.`...``), so the same reader sees both sides. Only columns that say *when* a run
happened differ between two runs of the same inputs (and three staging keys hashed over
them); they are named in `PER_RUN_COLUMNS` and `PER_RUN_KEYS`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.cluster.conftest import RAW_SCHEMA, ClusterRuns, LocalRun, ThriftBuild
from tests.cluster.standalone import HOST, Cluster

pytestmark = [pytest.mark.e2e, pytest.mark.cluster]

BASE_SCHEMA = RAW_SCHEMA.removesuffix("_raw")
# Columns whose value is the time of the run that wrote the row (not of the data): they differ
# between any two runs. Everything else must be equal.
PER_RUN_COLUMNS = (
    "retrieved_at",  # raw rows: when this run read the file
    "retrieved_date",  # its date (the raw tables' partition column)
    "transformed_at",  # xAPI rows: when this run made the statement
    "transformed_date",  # its date
)
# ... and the same under a staging model's entity prefix (`{entity}_retrieved_at`, ...), and
# the staging row keys that are surrogate keys over `retrieved_at` (dbt/macros/
# stage_course_xml.sql, stg__edxorg__s3__data_package_files, stg__edxorg__s3__tracking_logs_files).
PER_RUN_KEYS = ("coursearchive_key", "packagefile_row_key", "trackinglogfile_row_key")
PER_RUN_PATTERN = re.compile(rf"(^|_)({'|'.join(PER_RUN_COLUMNS)})$|^({'|'.join(PER_RUN_KEYS)})$")


def delta_tables(warehouse: Path, schema: str) -> dict[str, Path]:
    folder = warehouse / f"{schema}.db"
    return {
        p.name: p for p in sorted(folder.iterdir()) if (p / "_delta_log").is_dir()
    } if folder.is_dir() else {}  # fmt: skip


def cursor(port: int) -> Any:
    from pyhive import hive

    return hive.connect(host=HOST, port=port, username="test").cursor()


def rows(cur: Any, path: Path) -> tuple[list[str], list[tuple[Any, ...]]]:
    cur.execute(f"SELECT * FROM delta.`{path}`")
    columns = [d[0].split(".")[-1] for d in cur.description]
    keep = [i for i, c in enumerate(columns) if not PER_RUN_PATTERN.search(c)]
    body = sorted((tuple(row[i] for i in keep) for row in cur.fetchall()), key=repr)
    return [columns[i] for i in keep], body


def assert_same_tables(port: int, cluster_wh: Path, local_wh: Path, schema: str) -> int:
    """Every Delta table of `schema` in both warehouses: same names, same rows. Returns how
    many rows were compared."""
    on_cluster, local = delta_tables(cluster_wh, schema), delta_tables(local_wh, schema)
    assert sorted(on_cluster) == sorted(local)
    assert on_cluster, f"no tables in {schema}"
    cur = cursor(port)
    compared = 0
    for name in on_cluster:
        cols_c, rows_c = rows(cur, on_cluster[name])
        cols_l, rows_l = rows(cur, local[name])
        assert cols_c == cols_l, name
        assert rows_c == rows_l, f"{schema}.{name} differs"
        compared += len(rows_c)
    cur.close()
    return compared


def summary_counts(text: str, label: str) -> list[int]:
    return [int(n) for n in re.findall(rf"^\s+{label}\s+(\d+)", text, flags=re.M)]


def test_the_four_jobs_run_on_the_cluster_and_a_rerun_loads_nothing(
    cluster: Cluster, cluster_runs: ClusterRuns
) -> None:
    first = cluster_runs.first.check().stdout
    # three ingests loaded their file(s), the xAPI job transformed the log
    assert summary_counts(first, "loaded") == [1, 5, 1]
    assert summary_counts(first, "log files transformed") == [1]
    # executors on both workers, in JVMs of their own (the apps' folders under the workers)
    apps = [p for p in cluster.root.glob("worker-*/app-*/*") if p.is_dir()]
    assert {p.parent.parent.name for p in apps} == {"worker-1", "worker-2"}

    rerun = cluster_runs.rerun.check().stdout
    assert summary_counts(rerun, "loaded") == [0, 0, 0]
    assert summary_counts(rerun, "log files transformed") == [0]
    assert "nothing new to transform" in rerun


def test_the_cluster_tables_equal_a_local_run_and_so_does_the_thrift_build(
    cluster: Cluster, cluster_runs: ClusterRuns, local_run: LocalRun, thrift_build: ThriftBuild
) -> None:
    cluster_runs.rerun.check()
    port = thrift_build.port
    raw = assert_same_tables(port, cluster.warehouse, local_run.warehouse, RAW_SCHEMA)
    assert raw > 100

    thrift_build.transform.check()
    for layer in ("staging", "marts"):
        compared = assert_same_tables(
            port, cluster.warehouse, local_run.warehouse, f"{BASE_SCHEMA}_{layer}"
        )
        assert compared > 0, layer
    # the views of the intermediate layer are in the shared metastore too
    cur = cursor(port)
    cur.execute(f"SHOW VIEWS IN {BASE_SCHEMA}_intermediate")
    assert len(cur.fetchall()) > 5
    cur.close()
