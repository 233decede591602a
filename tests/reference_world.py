"""The inputs and the local reference run that tests/cluster and tests/s3_warehouse share.

Both folders prove that another place to run (a standalone cluster, a warehouse on S3) gives
the same tables as a local run of the same inputs. The inputs are the marts' hand-made world
(tests/marts_fixtures.py: one course archive, one data package, one tracking log, which every
job and every mart has rows from), with the package GPG-encrypted as edX delivers it. The local
reference run happens once per test session, in the test run's own Spark session (the four jobs
through the CLI's entry points, then every dbt model), and both folders compare against it.

`table_lines` is the one reader both comparisons use: every row of a Delta table as a sorted
JSON line, less the columns that say *when* a run happened (they differ between any two runs
of the same inputs).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from olx_spark.config import Config
from tests.marts_fixtures import PACKAGE_COURSE, PACKAGE_TABLES, RUN, course_files
from tests.marts_fixtures import tracking_events as marts_events
from tests.packages_fixtures import PASSPHRASE, Keyrings
from tests.spark.courses import write_tar_gz

LMS_ROOT_URL = "https://lms.example.org"
# The secrets every run of the world needs, under the names the default config reads.
SECRETS = {"OLX_SPARK_GPG_PASSPHRASE": PASSPHRASE, "OLX_SPARK_XAPI_SALT": "reference-test-salt"}
REFERENCE_RAW_SCHEMA = "reference_raw"
# The xdist group of the tests that use the reference run: one worker runs them all, so the run
# is made once (`make test` runs the suite with `-n 2 --dist loadgroup`).
REFERENCE_GROUP = "reference_world"

# Columns whose value is the time of the run that wrote the row, not of the data; a staging
# model keeps them under its entity's prefix (`coursestructure_retrieved_at`).
PER_RUN_COLUMNS = (
    "retrieved_at",  # raw rows: when this run read the file
    "retrieved_date",  # its date (the raw tables' partition column)
    "loaded_at",
    "transformed_at",  # xAPI rows: when this run made the statement
    "transformed_date",  # its date
)
# Staging row keys that are surrogate keys over `retrieved_at` (dbt/macros/stage_course_xml.sql,
# stg__edxorg__s3__data_package_files, stg__edxorg__s3__tracking_logs_files).
PER_RUN_KEYS = ("coursearchive_key", "packagefile_row_key", "trackinglogfile_row_key")
PER_RUN_PATTERN = re.compile(rf"(^|_)({'|'.join(PER_RUN_COLUMNS)})$|^({'|'.join(PER_RUN_KEYS)})$")

# What each job loads from the world on a first run (and 0 on a rerun).
FIRST_RUN_LOADED = {"course-archives": 1, "data-packages": 5, "tracking-logs": 1, "xapi": 1}


@dataclass(frozen=True)
class Landing:
    """The world's input folders (as `ingest` arguments) and the keyring that opens the package."""

    root: Path
    gnupg_home: str

    @property
    def archives(self) -> str:
        return str(self.root / "course-archives")

    @property
    def packages(self) -> str:
        return str(self.root / "data-packages")

    @property
    def logs(self) -> str:
        return str(self.root / "tracking-logs")


def write_landing(root: Path, keys: Keyrings) -> Landing:
    """course-archives/ (one .tar.gz), data-packages/ (a package folder of five encrypted
    dumps) and tracking-logs/ (one day) under `root`."""
    write_tar_gz(root / "course-archives" / f"MITx-M101-{RUN}.tar.gz", course_files())
    package = root / "data-packages" / "mitx-2024-01-20"
    package.mkdir(parents=True)
    for table, content in PACKAGE_TABLES.items():
        name = f"{PACKAGE_COURSE}-{table}-prod-analytics.sql.gpg"
        (package / name).write_bytes(keys.encrypt(content))
    logs = root / "tracking-logs"
    logs.mkdir()
    text = "".join(json.dumps(event) + "\n" for event in marts_events())
    (logs / "MITx-prod-events-2024-01-25.log").write_text(text)
    return Landing(root, keys.home)


@contextmanager
def secrets_in_environment() -> Iterator[None]:
    """The world's secrets in os.environ for the duration (the jobs read them from there)."""
    with pytest.MonkeyPatch.context() as patch:
        for key, value in SECRETS.items():
            patch.setenv(key, value)
        yield


def run_jobs(config: Config, landing: Landing, session: Callable[[Config], Any]) -> dict[str, Any]:
    """The four jobs as the CLI runs them (ledger check before Spark, locks, summaries): what
    each loaded and whether it started Spark. The secrets must be in the environment."""
    from olx_spark.spark.course_archives import CourseArchiveJob, ingest_course_archives
    from olx_spark.spark.data_packages import DataPackageJob, ingest_data_packages
    from olx_spark.spark.tracking_logs import TrackingLogJob, ingest_tracking_logs
    from olx_spark.spark.xapi_statements import XapiJob, transform_to_xapi

    archives = CourseArchiveJob(landing.archives, "edxorg", "prod")
    packages = DataPackageJob(landing.packages, landing.gnupg_home)
    logs = TrackingLogJob(landing.logs)
    outcomes: dict[str, Any] = {}
    for name, run in (
        ("course-archives", lambda: ingest_course_archives(config, archives, session)),
        ("data-packages", lambda: ingest_data_packages(config, packages, session)),
        ("tracking-logs", lambda: ingest_tracking_logs(config, logs, session)),
    ):
        outcome = run()
        outcomes[name] = {"loaded": outcome.summary.loaded, "spark_used": outcome.spark_used}
    summary, spark_used = transform_to_xapi(config, XapiJob(lms_root_url=LMS_ROOT_URL), session)
    outcomes["xapi"] = {"loaded": summary.files_pending, "spark_used": spark_used}
    return outcomes


@dataclass(frozen=True)
class ReferenceRun:
    """The world run locally: its config (schemas in the test run's warehouse) and outcomes."""

    config: Config
    first: dict[str, Any]

    def schema_folder(self, layer: str) -> Path:
        from olx_spark.transform import dbt_schema

        schema = self.config.warehouse.raw_schema if layer == "raw" else dbt_schema(
            self.config, layer
        )  # fmt: skip
        return Path(self.config.warehouse.dir) / f"{schema}.db"


ALL_MODELS: tuple[str, ...] = ()  # a selection meaning every model


class Reference:
    """The local reference run of the world, in the test run's Spark session, built as far as
    the tests of this session ask: the four jobs once, then the dbt models each asks for
    (`ALL_MODELS`: every one; no dbt tests, which the marts tests run on this world). Work goes
    to one background thread, in order, so a test can start it and do other things meanwhile
    (tests/cluster starts its cluster)."""

    def __init__(self, spark: Any, base_config: Config, landing: Landing) -> None:
        self.config = replace(
            base_config, warehouse=replace(base_config.warehouse, raw_schema=REFERENCE_RAW_SCHEMA)
        )
        self._spark = spark
        self._landing = landing
        # The jobs read the secrets from os.environ: set here, on the main thread, before any
        # work starts, and put back in `close` (a thread must not change the environment).
        self._environment = ExitStack()
        self._environment.enter_context(secrets_in_environment())
        self._pool = ThreadPoolExecutor(max_workers=1)
        self._jobs: Future[dict[str, Any]] | None = None
        self._builds: dict[tuple[str, ...], Future[int]] = {}

    def _run_jobs(self) -> dict[str, Any]:
        self._spark.sql(f"DROP DATABASE IF EXISTS `{REFERENCE_RAW_SCHEMA}` CASCADE")
        self._spark.sql(f"CREATE DATABASE `{REFERENCE_RAW_SCHEMA}`")
        return run_jobs(self.config, self._landing, lambda _: self._spark)

    def _build(self, models: tuple[str, ...]) -> int:
        from olx_spark.transform import run_transform

        return run_transform(
            self.config, select=list(models) or None, extra=["--exclude-resource-type", "test"]
        )

    def start(self, models: tuple[str, ...] = ALL_MODELS) -> Future[int]:
        """Queue the jobs (once) and a build of `models` (unless every model is built). Called
        from the test's (main) thread only."""
        if self._jobs is None:
            self._jobs = self._pool.submit(self._run_jobs)
        if ALL_MODELS in self._builds:
            return self._builds[ALL_MODELS]
        if models not in self._builds:
            self._builds[models] = self._pool.submit(self._build, models)
        return self._builds[models]

    def run(self, models: tuple[str, ...] = ALL_MODELS) -> ReferenceRun:
        """Wait for the jobs and a build of `models`; both must have succeeded."""
        built = self.start(models)
        assert self._jobs is not None
        first = self._jobs.result()
        assert built.result() == 0, f"dbt could not build the reference run's models {models}"
        return ReferenceRun(self.config, first)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._environment.close()


def delta_tables(schema_folder: Path) -> dict[str, Path]:
    """The Delta tables under one schema's folder of a warehouse, by name."""
    if not schema_folder.is_dir():
        return {}
    return {p.name: p for p in sorted(schema_folder.iterdir()) if (p / "_delta_log").is_dir()}


def table_lines(spark: Any, path: str | Path) -> list[str]:
    """Every row of the Delta table at `path` as a sorted JSON line, less the per-run columns."""
    return frame_lines(spark.read.format("delta").load(str(path)))


def frame_lines(df: Any) -> list[str]:
    """Every row of a DataFrame as a sorted JSON line, less the per-run columns."""
    kept = [c for c in df.columns if not PER_RUN_PATTERN.search(c)]
    return sorted(
        json.dumps(r.asDict(recursive=True), sort_keys=True, default=str)
        for r in df.select(*kept).collect()
    )


def assert_same_tables(
    spark: Any, tables: Mapping[str, list[str]], reference: Mapping[str, str | Path], what: str
) -> int:
    """Each of `tables` (name -> `table_lines`) holds the rows of the reference table of the same
    name; returns how many rows were compared."""
    missing = sorted(set(tables) - set(reference))
    assert not missing, f"{what}: not in the reference run: {missing}"
    compared = 0
    for name, lines in tables.items():
        assert lines == table_lines(spark, reference[name]), f"{what}: {name} differs"
        compared += len(lines)
    return compared
