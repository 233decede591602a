"""When `olx-spark transform` and `olx-spark report` have nothing to do, and how they remember.

A nightly run on a night with nothing new (no log, no package, no changed archive) should end in
seconds without starting Spark. The jobs stop early on their own (their ledgers); these two
commands use the stamps of `olx_spark.storage.warehouse_state`:

- transform: reads the raw schema, writes the staging, intermediate and marts schemas; the
  stamp (`{warehouse}/_olx_spark_state/transform-{raw_schema}.json`) also holds a digest of the
  dbt project's files, whether dbt's tests ran, and olx-spark's version. Only a plain
  `olx-spark transform` (local target, no `--select`, no `--full-refresh`) is ever skipped.
  When only some raw tables changed since the stamp (and nothing else did), `changed` names
  them and the transform builds only the models downstream of them.
- report: reads the marts; the stamp sits in the report folder (`.olx-spark-report.json`) with
  the warehouse, the courses asked for and olx-spark's version, and counts only if
  `index.html` is there.

Both hold the identity of the local metastore (its folder and creation time): tables stamped
in one catalog say nothing of another machine's, or of a metastore deleted since. Only a local
session with an embedded Derby metastore is stamped; on a cluster the catalog, not the
warehouse folder, says where tables are, and the commands always run.

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
    changed_tables,
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
    tables_folder: str  # where the tables are listed
    read: dict[str, int]
    settings: dict[str, Any]
    up_to_date: bool
    written_schemas: tuple[str, ...]
    # the tables read that changed since the stamp, when only they did (None: run everything)
    changed: tuple[str, ...] | None = None

    def record(self, config: Config) -> None:
        """After a successful run: the stamp (the tables written, listed now)."""
        try:
            written = table_versions(self.tables_folder, config.s3, self.written_schemas)
            write_stamp(self.stamp_at, config.s3, Stamp(self.read, written, self.settings))
        except (StateUnavailable, OSError):
            remove_stamp(self.stamp_at, config.s3)

    def forget(self, config: Config) -> None:
        """Before a run: until it succeeds, nothing is known to be up to date."""
        remove_stamp(self.stamp_at, config.s3)


def tables_folder(config: Config) -> str | None:
    """Where a local session's catalog keeps the managed tables (the folder the stamps list);
    None on a cluster, whose catalog decides where tables live."""
    if config.spark.mode != "local":
        return None
    from olx_spark.spark.session import warehouse_location

    return config.spark.conf.get("spark.sql.warehouse.dir") or warehouse_location(config)


def catalog_identity(config: Config) -> str | None:
    """The local metastore the tables are registered in, and whether it exists: a transform
    stamped against one catalog says nothing about another (another machine, a deleted
    `_metastore_db`). None when the metastore is not an embedded Derby database on this disk."""
    from olx_spark.spark.session import embedded_derby_path

    derby = embedded_derby_path(config)
    if derby is None or not Path(derby).is_dir():
        return None
    created = Path(derby) / "service.properties"
    made = created.stat().st_mtime_ns if created.is_file() else 0
    return f"{Path(derby).resolve()}@{made}"


def transform_check(config: Config, models_only: bool) -> RunCheck | None:
    """For a plain `olx-spark transform` on the local target; None if the warehouse cannot be
    listed without Spark or its catalog is not a local one (the transform then runs,
    unstamped)."""
    from olx_spark.transform import dbt_project_dir, dbt_schema

    folder, catalog = tables_folder(config), catalog_identity(config)
    if folder is None or catalog is None:
        return None
    raw = config.warehouse.raw_schema
    layers = tuple(dbt_schema(config, layer) for layer in MODEL_LAYERS)
    at = stamp_uri(folder, f"transform-{raw}")
    settings = {
        "catalog": catalog,
        "dbt_project": folder_digest(dbt_project_dir(), skip=DBT_NOT_PROJECT),
        "dbt_tests": not models_only,
        "olx_spark": __version__,
    }
    try:
        read = table_versions(folder, config.s3, [raw])
        written = table_versions(folder, config.s3, layers)
    except StateUnavailable:
        return None
    changed = changed_tables(read_stamp(at, config.s3), read, written, settings)
    return RunCheck(at, folder, read, settings, changed == (), layers, changed)


def report_check(config: Config, out_dir: str, courses: list[str]) -> RunCheck | None:
    """For `olx-spark report --out OUT_DIR`: up to date when OUT_DIR holds a whole report of
    these marts (same warehouse, catalog, schema and versions) for the same courses."""
    from olx_spark.transform import dbt_schema

    folder, catalog = tables_folder(config), catalog_identity(config)
    if folder is None or catalog is None:
        return None
    marts = dbt_schema(config, "marts")
    at = str(Path(out_dir).resolve() / REPORT_STAMP)
    settings = {
        "catalog": catalog,
        "courses": sorted(courses),
        "marts": marts,
        "olx_spark": __version__,
        "report_code": folder_digest(Path(__file__).resolve().parent / "report"),
        "warehouse": folder,
    }
    try:
        read = table_versions(folder, config.s3, [marts])
    except StateUnavailable:
        return None
    stamp = read_stamp(at, config.s3)
    fresh = (
        bool(read)
        and (Path(out_dir) / "index.html").is_file()
        and unchanged_since(stamp, read, {}, settings)
    )
    return RunCheck(at, folder, read, settings, fresh, ())
