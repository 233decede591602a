"""`olx-spark transform`: the dbt project (`dbt/`) run in this process, on this Spark session.

The dbt profile's `local` target uses dbt-spark's `session` method, whose cursor calls
`SparkSession.builder.enableHiveSupport().config(...).getOrCreate()` for every statement
(dbt-spark 1.10.3, `dbt/adapters/spark/session.py`). `getOrCreate()` returns the session that
already exists in the process and only applies runtime settings to it. So we build OUR session
first (`get_session(config)`: warehouse, embedded metastore, Delta, UTC) and dbt runs on that very
session: the jobs and dbt share one source of truth for every Spark setting. The one runtime
setting dbt-spark forces (`spark.sql.ansi.enabled=false`) is put back when dbt is done.

Schemas: the raw tables are in `config.warehouse.raw_schema` (dbt var `raw_schema`); dbt's base
schema is that name without its `_raw` suffix (dbt var `target_schema`), and models land in
`{base}_staging`, `{base}_intermediate` and `{base}_marts` (e.g. `ol_warehouse_local_marts`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from olx_spark.config import Config
from olx_spark.olx.tables import PLATFORMS

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

DBT_TARGET = "local"
ANSI_KEY = "spark.sql.ansi.enabled"
RAW_SUFFIX = "_raw"


def dbt_project_dir() -> Path:
    """The dbt project: `$OLX_SPARK_DBT_PROJECT_DIR`, else `dbt/` next to the package (a source
    checkout or editable install), else `./dbt`."""
    override = os.environ.get("OLX_SPARK_DBT_PROJECT_DIR")
    if override:
        return Path(override).expanduser().resolve()
    beside = Path(__file__).resolve().parent.parent / "dbt"
    if (beside / "dbt_project.yml").is_file():
        return beside
    return (Path.cwd() / "dbt").resolve()


def dbt_base_schema(raw_schema: str) -> str:
    """dbt's base schema for a raw schema: `ol_warehouse_local_raw` -> `ol_warehouse_local`."""
    base = raw_schema.removesuffix(RAW_SUFFIX)
    return base or raw_schema


def dbt_schema(config: Config, layer: str) -> str:
    """Where a dbt layer (`staging`, `intermediate`, `marts`) lands for this config."""
    return f"{dbt_base_schema(config.warehouse.raw_schema)}_{layer}"


def dbt_vars(config: Config) -> dict[str, str]:
    raw = config.warehouse.raw_schema
    return {"raw_schema": raw, "target_schema": dbt_base_schema(raw)}


def dbt_args(config: Config, args: Sequence[str], project_dir: Path | None = None) -> list[str]:
    """`args` (e.g. `["build"]`) plus the project, profile, target and vars for `config`."""
    project = str(project_dir or dbt_project_dir())
    return [
        *args,
        "--project-dir",
        project,
        "--profiles-dir",
        project,
        "--target",
        DBT_TARGET,
        "--vars",
        json.dumps(dbt_vars(config)),
    ]


def prepare_session(config: Config) -> SparkSession:
    """Our session (the one dbt will get), with every raw course table present for both
    platforms, so the dbt sources resolve even when only one platform was ingested."""
    from olx_spark.spark.course_archives import CourseArchiveJob, ensure_tables
    from olx_spark.spark.session import get_session

    spark = get_session(config)
    for platform in PLATFORMS:
        ensure_tables(
            spark, config, CourseArchiveJob(source="", platform=platform, source_system="")
        )
    return spark


def run_dbt(config: Config, args: list[str]) -> int:
    """Run one dbt command (`["docs", "generate"]`, `["test", "--select", "..."]`, ...) in this
    process with the local profile. Returns 0 on success, 1 if a node failed, 2 if dbt errored."""
    from dbt.cli.main import dbtRunner

    spark = prepare_session(config)
    ansi = spark.conf.get(ANSI_KEY, None)
    try:
        result = dbtRunner().invoke(dbt_args(config, args))
    finally:
        if ansi is None:
            spark.conf.unset(ANSI_KEY)
        else:
            spark.conf.set(ANSI_KEY, ansi)
    if result.exception is not None:
        return 2
    return 0 if result.success else 1


def run_transform(
    config: Config, select: list[str] | None = None, extra: list[str] | None = None
) -> int:
    """`dbt build` (models and their tests) with the local profile; `select` is dbt's
    `--select` (e.g. `["staging"]`, `["+int__combined__course_xml_courseruns"]`), `extra` is
    passed through (e.g. `["--full-refresh"]`). Returns 0 on success, 1 on a failed model or
    test, 2 if dbt could not run."""
    args = ["build"]
    if select:
        args += ["--select", *select]
    return run_dbt(config, args + list(extra or ()))
