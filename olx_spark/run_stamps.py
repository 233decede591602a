"""When `olx-spark transform` and `olx-spark report` have nothing to do, and how they remember.

A nightly run on a night with nothing new (no log, no package, no changed archive) should end in
seconds without starting Spark. The jobs stop early on their own (their ledgers); these two
commands use the stamps of `olx_spark.storage.warehouse_state`:

- transform: reads the raw schema, writes the staging, intermediate and marts schemas; the
  stamp (`{warehouse}/_olx_spark_state/transform-{raw_schema}.json`) also holds a digest of the
  dbt project's files, whether dbt's tests ran, and olx-spark's version. Only a plain
  `olx-spark transform` (local target, no `--select`, no `--full-refresh`) is ever skipped.
- report: reads the marts; the stamp sits in the report folder (`.olx-spark-report.json`) with
  the courses asked for and olx-spark's version, and counts only if `index.html` is there.

A run removes the stamp before it starts and writes it only when it succeeded, so after a
failed or killed run the next one runs whatever the tables look like.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from olx_spark import __version__
from olx_spark.config import Config
from olx_spark.storage.warehouse_state import (
    Stamp,
    StateUnavailable,
    folder_digest,
    read_stamp,
    remove_stamp,
    stamp_uri,
    table_versions,
    unchanged_since,
    write_stamp,
)

MODEL_LAYERS = ("staging", "intermediate", "marts")
REPORT_STAMP = ".olx-spark-report.json"
# What in the dbt project folder is not the project: dbt's own output and installed packages.
DBT_NOT_PROJECT = ("target", "logs", "dbt_packages")


@dataclass(frozen=True)
class RunCheck:
    """Whether a run can be skipped, and what to stamp after it if it runs."""

    stamp_at: str
    read: dict[str, int]
    settings: dict[str, Any]
    up_to_date: bool
    written_schemas: tuple[str, ...]

    def record(self, config: Config) -> None:
        """After a successful run: the stamp (the tables written, listed now)."""
        try:
            written = table_versions(config.warehouse.dir, config.s3, self.written_schemas)
            write_stamp(self.stamp_at, config.s3, Stamp(self.read, written, self.settings))
        except (StateUnavailable, OSError):
            remove_stamp(self.stamp_at, config.s3)

    def forget(self, config: Config) -> None:
        """Before a run: until it succeeds, nothing is known to be up to date."""
        remove_stamp(self.stamp_at, config.s3)


def transform_check(config: Config, models_only: bool) -> RunCheck | None:
    """For a plain `olx-spark transform` on the local target; None if the warehouse cannot be
    listed without Spark (the transform then runs, unstamped)."""
    from olx_spark.transform import dbt_project_dir, dbt_schema

    raw = config.warehouse.raw_schema
    layers = tuple(dbt_schema(config, layer) for layer in MODEL_LAYERS)
    at = stamp_uri(config.warehouse.dir, f"transform-{raw}")
    settings = {
        "dbt_project": folder_digest(dbt_project_dir(), skip=DBT_NOT_PROJECT),
        "dbt_tests": not models_only,
        "olx_spark": __version__,
    }
    try:
        read = table_versions(config.warehouse.dir, config.s3, [raw])
        written = table_versions(config.warehouse.dir, config.s3, layers)
    except StateUnavailable:
        return None
    stamp = read_stamp(at, config.s3)
    fresh = bool(written) and unchanged_since(stamp, read, written, settings)
    return RunCheck(at, read, settings, fresh, layers)


def report_check(config: Config, out_dir: str, courses: list[str]) -> RunCheck | None:
    from olx_spark.transform import dbt_schema

    marts = dbt_schema(config, "marts")
    at = str(Path(out_dir).resolve() / REPORT_STAMP)
    settings = {"courses": sorted(courses), "olx_spark": __version__, "marts": marts}
    try:
        read = table_versions(config.warehouse.dir, config.s3, [marts])
    except StateUnavailable:
        return None
    stamp = read_stamp(at, config.s3)
    fresh = (
        bool(read)
        and (Path(out_dir) / "index.html").is_file()
        and unchanged_since(stamp, read, {}, settings)
    )
    return RunCheck(at, read, settings, fresh, ())
