"""One scenario, run on a warehouse on S3 and on a local one: the four jobs on small hand-made
inputs, `dbt build` of one staging model per input kind, then the four jobs again.

The S3 side runs in a process of its own (`python -m tests.s3_warehouse.scenario CONFIG INPUTS
OUT`), because a session's warehouse and jars are fixed when its JVM starts and the test run
already has a local session; it builds its session as every command does (`get_session`) and
calls the jobs' CLI entry points (`ingest_*`, `transform_to_xapi`, `run_transform`), so the
ledger check before Spark, the locks and the jar fetch are the commands' own. The local side
runs the same functions on the test run's session. Both write `dump_tables`: every row of every
raw and staging table, less the columns that say when a run happened.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from olx_spark.config import Config, load_config
from olx_spark.spark.course_archives import CourseArchiveJob, ingest_course_archives
from olx_spark.spark.data_packages import DataPackageJob, ingest_data_packages
from olx_spark.spark.tracking_logs import TrackingLogJob, ingest_tracking_logs
from olx_spark.spark.xapi_statements import XapiJob, transform_to_xapi
from olx_spark.transform import dbt_schema, run_transform

PASSPHRASE_ENV = "TEST_OLX_SPARK_PASSPHRASE"
SALT_ENV = "OLX_SPARK_XAPI_SALT"
SALT = "s3-warehouse-test-salt"
LMS = "https://courses.example.org"
COURSE = "course-v1:MITx+T.01+2024_T1"  # tiny_course's id
MODELS = [
    "stg__edxorg__s3__course_xml_blocks",
    "stg__edxorg__s3__tables__auth_user",
    "stg__edxorg__s3__tracking_logs",
    "stg__xapi__statements",
]
# Columns whose values are the time of the run (or derived from it), not of the input; staging
# models keep them under a prefixed name (`coursestructure_retrieved_at`).
RUN_TIME_COLUMNS = ("retrieved_at", "retrieved_date", "loaded_at", "transformed_at")


def is_run_time(column: str) -> bool:
    return any(column == c or column.endswith(f"_{c}") for c in RUN_TIME_COLUMNS)


@dataclass(frozen=True)
class Inputs:
    archives: str
    packages: str
    logs: str
    gnupg_home: str


def write_inputs(root: Path, keys: Any) -> Inputs:
    """A course archive, a data package (two encrypted dumps) and two days of tracking logs."""
    import gzip

    from tests.packages_fixtures import AUTH_USER, STUDENTMODULE, member, write_package
    from tests.spark.courses import tiny_course, write_tar_gz

    write_tar_gz(root / "archives" / "T1.tar.gz", tiny_course())
    write_package(
        root / "packages" / "mitx-2024-01-07.zip",
        {
            member("auth_user"): keys.encrypt(AUTH_USER),
            member("courseware_studentmodule"): keys.encrypt(STUDENTMODULE),
        },
    )
    days = {
        "2024-03-03": [
            _event("edx.course.enrollment.activated", "2024-03-03T10:00:01+00:00", 7, "alice"),
            _event("edx.course.enrollment.activated", "2024-03-03T10:00:02+00:00", 8, "bob"),
            "not json",
        ],
        "2024-03-04": [
            _event("edx.course.enrollment.deactivated", "2024-03-04T08:00:00+00:00", 7, "alice")
        ],
    }
    (root / "logs").mkdir(parents=True)
    for day, lines in days.items():
        text = "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines)
        path = root / "logs" / f"mitx-edx-events-{day}.log.gz"
        path.write_bytes(gzip.compress(f"{text}\n".encode(), mtime=0))
    return Inputs(
        archives=str(root / "archives"),
        packages=str(root / "packages"),
        logs=str(root / "logs"),
        gnupg_home=keys.home,
    )


def _event(name: str, time: str, user_id: int, username: str) -> dict[str, Any]:
    return {
        "name": name,
        "timestamp": time,
        "username": username,
        "data": {"course_id": COURSE, "mode": "audit", "user_id": user_id},
        "context": {"course_id": COURSE, "org_id": "MITx", "user_id": user_id},
    }


def run_jobs(config: Config, inputs: Inputs, session: Callable[[Config], Any]) -> dict[str, Any]:
    """The four jobs, as the CLI runs them; each one's summary and whether it started Spark."""
    outcomes: dict[str, Any] = {}
    archives = CourseArchiveJob(inputs.archives, "edxorg", "prod")
    packages = DataPackageJob(inputs.packages, inputs.gnupg_home, PASSPHRASE_ENV)
    logs = TrackingLogJob(inputs.logs)
    for name, run in (
        ("course-archives", lambda: ingest_course_archives(config, archives, session)),
        ("data-packages", lambda: ingest_data_packages(config, packages, session)),
        ("tracking-logs", lambda: ingest_tracking_logs(config, logs, session)),
    ):
        outcome = run()
        outcomes[name] = {"loaded": outcome.summary.loaded, "spark_used": outcome.spark_used}
    summary, spark_used = transform_to_xapi(config, XapiJob(lms_root_url=LMS), session)
    outcomes["xapi"] = {"files": summary.files_pending, "spark_used": spark_used}
    return outcomes


def transform(config: Config) -> int:
    # Cautious: a dbt test runs only if every model it reads was built.
    return run_transform(config, select=MODELS, extra=["--indirect-selection", "cautious"])


def dump_tables(spark: Any, config: Config) -> dict[str, list[str]]:
    """Every raw and staging table: its rows as sorted JSON lines, run-time columns left out."""
    dumps: dict[str, list[str]] = {}
    for schema in (config.warehouse.raw_schema, dbt_schema(config, "staging")):
        for row in spark.sql(f"SHOW TABLES IN `{schema}`").collect():
            if row["isTemporary"]:  # a session's temporary views (dbt's `__dbt_tmp` ones)
                continue
            name = row["tableName"]
            df = spark.table(f"`{schema}`.`{name}`")
            kept = [c for c in df.columns if not is_run_time(c)]
            lines = [
                json.dumps(r.asDict(recursive=True), sort_keys=True, default=str)
                for r in df.select(*kept).collect()
            ]
            dumps[f"{'raw' if schema == config.warehouse.raw_schema else 'staging'}.{name}"] = (
                sorted(lines)
            )
    return dumps


def main(config_file: str, inputs_json: str, out: str) -> None:
    """The S3 side: jobs, transform, jobs again, then the dumps, into `out` (JSON)."""
    from olx_spark.spark.session import get_session

    config = load_config(config_file)
    inputs = Inputs(**json.loads(Path(inputs_json).read_text(encoding="utf-8")))
    started = time.monotonic()
    result: dict[str, Any] = {"first": run_jobs(config, inputs, get_session)}
    seconds = {"jobs": time.monotonic() - started}
    result["transform"] = transform(config)
    seconds["transform"] = time.monotonic() - started - sum(seconds.values())
    result["again"] = run_jobs(config, inputs, get_session)
    seconds["again"] = time.monotonic() - started - sum(seconds.values())
    result["tables"] = dump_tables(get_session(config), config)
    print(f"S3 side, seconds: {json.dumps({k: round(v, 1) for k, v in seconds.items()})}")
    Path(out).write_text(json.dumps(result), encoding="utf-8")


if __name__ == "__main__":
    main(*sys.argv[1:])
