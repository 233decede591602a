"""Read one loaded version of a course from the raw course tables, for `olx export` / `olx diff`.

The only Spark in the OLX workflow: the ledger says which archives of a course were loaded
(each is a version), and one version's rows are filtered by course id and archive hash in Spark
and cross to Python over Arrow. Everything after that is `olx_spark.olx`'s pure Python.
"""

from __future__ import annotations

from typing import Any

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from olx_spark.config import Config
from olx_spark.olx.tables import (
    CONTENT_ENTITIES,
    PLATFORMS,
    STATUS_LOADED,
    course_table_name,
    entity_columns,
)
from olx_spark.olx.versions import CourseVersion, VersionError
from olx_spark.spark.delta import qualified

_LEDGER_COLUMNS = [
    "course_id",
    "course_version",
    "archive_sha256",
    "archive_uri",
    "archive_size_bytes",
    "retrieved_at",
    "org",
    "course",
    "run",
]


def _table(config: Config, platform: str, entity: str) -> str:
    return qualified(config.warehouse.raw_schema, course_table_name(platform, entity))


def loaded_versions(
    spark: SparkSession, config: Config, course_id: str, platform: str | None = None
) -> list[dict[str, Any]]:
    """The loaded archives of a course, oldest first, each with its `platform`; a platform
    without course tables yet is skipped."""
    found: list[dict[str, Any]] = []
    for name in [platform] if platform else list(PLATFORMS):
        table = _table(config, name, "archives")
        if not spark.catalog.tableExists(table.replace("`", "")):
            continue
        rows = (
            spark.table(table)
            .filter((F.col("course_id") == course_id) & (F.col("status") == STATUS_LOADED))
            .select(*_LEDGER_COLUMNS)
            .toArrow()
            .to_pylist()
        )
        found.extend({**row, "platform": name} for row in rows)
    return sorted(found, key=lambda r: (r["retrieved_at"], r["platform"], r["archive_sha256"]))


def _pick(versions: list[dict[str, Any]], course_id: str, version: str | None) -> dict[str, Any]:
    if not versions:
        raise VersionError(
            f"no loaded archive of {course_id} in this warehouse. Check the course id "
            '(`olx-spark sql "SELECT DISTINCT course_id FROM '
            'raw__edxorg__s3__course_xml_archives"`) and the --warehouse folder.'
        )
    if version is None:
        return versions[-1]
    matching = [v for v in versions if v["course_version"] == version]
    if not matching:
        known = ", ".join(dict.fromkeys(v["course_version"] for v in versions))
        raise VersionError(
            f"version {version} of {course_id} is not loaded; its loaded versions, oldest "
            f"first: {known}"
        )
    return matching[-1]


def read_version(
    spark: SparkSession,
    config: Config,
    course_id: str,
    version: str | None = None,
    platform: str | None = None,
) -> CourseVersion:
    """The rows of one loaded version (the newest loaded one unless `version` names one)."""
    ledger = _pick(loaded_versions(spark, config, course_id, platform), course_id, version)
    name = ledger["platform"]
    rows: dict[str, list[dict[str, Any]]] = {}
    for entity in CONTENT_ENTITIES:
        rows[entity] = (
            spark.table(_table(config, name, entity))
            .filter(
                (F.col("course_id") == course_id)
                & (F.col("archive_sha256") == ledger["archive_sha256"])
            )
            .select(*entity_columns(entity))
            .toArrow()
            .to_pylist()
        )
    for block in rows["blocks"]:  # Arrow gives a map as a list of (key, value) pairs
        for column in ("settings", "xml_attributes"):
            if block[column] is not None:
                block[column] = dict(block[column])
    return CourseVersion(
        course_id=course_id,
        course_version=ledger["course_version"],
        org=ledger["org"],
        course=ledger["course"],
        run=ledger["run"],
        archive_sha256=ledger["archive_sha256"],
        archive_uri=ledger["archive_uri"],
        archive_size_bytes=ledger["archive_size_bytes"],
        retrieved_at=ledger["retrieved_at"],
        platform=name,
        rows=rows,
    )
