"""A night with nothing new: `olx-spark transform` and `olx-spark report` see from the tables'
Delta logs (no Spark) that nothing changed since their last successful run, and stop.

The warehouses here are folders of Delta log file names (`latest_version` reads names only);
tests/spark/test_report.py runs the report's stamp on real marts."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from olx_spark.config import Config, WarehouseConfig
from olx_spark.run_stamps import REPORT_STAMP, RunCheck, report_check, transform_check
from olx_spark.storage.warehouse_state import (
    NEVER_WRITTEN,
    Stamp,
    folder_digest,
    read_stamp,
    stamp_uri,
)

REPO = Path(__file__).resolve().parents[2]


def commit(
    warehouse: Path, schema: str, table: str, version: int, data_change: bool = True
) -> None:
    """A commit adding a file (or, `data_change=False`, rewriting one as OPTIMIZE does)."""
    log = warehouse / f"{schema}.db" / table / "_delta_log"
    log.mkdir(parents=True, exist_ok=True)
    actions = [
        {"commitInfo": {"operation": "WRITE" if data_change else "OPTIMIZE"}},
        {"add": {"path": f"part-{version}.parquet", "dataChange": data_change}},
    ]
    if not data_change:
        actions.append({"remove": {"path": f"part-{version - 1}.parquet", "dataChange": False}})
    (log / f"{version:020d}.json").write_text("".join(json.dumps(a) + "\n" for a in actions))


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A stand-in dbt project folder (only its files' bytes matter here)."""
    folder = tmp_path / "dbt"
    (folder / "models").mkdir(parents=True)
    (folder / "dbt_project.yml").write_text("name: x\n")
    (folder / "models" / "m.sql").write_text("select 1\n")
    (folder / "target").mkdir()  # dbt's output: not part of the project
    monkeypatch.setenv("OLX_SPARK_DBT_PROJECT_DIR", str(folder))
    return folder


@pytest.fixture
def config(tmp_path: Path) -> Config:
    warehouse = tmp_path / "wh"
    warehouse.mkdir()
    return Config(warehouse=WarehouseConfig(dir=str(warehouse), raw_schema="acme_raw"))


def metastore(warehouse: Path) -> Path:
    """The embedded Derby database a local session keeps in the warehouse folder."""
    derby = warehouse / "_metastore_db"
    derby.mkdir(exist_ok=True)
    (derby / "service.properties").write_text("derby\n")
    return derby


def built(config: Config) -> Path:
    """Raw tables and the models built from them, in a catalog, as after a first night."""
    wh = Path(config.warehouse.dir)
    metastore(wh)
    commit(wh, "acme_raw", "raw__logs", 0)
    commit(wh, "acme_raw", "raw__logs", 1)
    commit(wh, "acme_raw", "raw__blocks", 0)
    for schema, table in (
        ("acme_staging", "stg__logs"),
        ("acme_intermediate", "int__days"),
        ("acme_marts", "marts__days"),
    ):
        commit(wh, schema, table, 0)
    return wh


def test_transform_runs_until_stamped_then_only_when_something_changed(
    config: Config, project: Path
) -> None:
    wh = built(config)
    first = transform_check(config, models_only=False)
    assert first is not None and not first.up_to_date  # never stamped
    assert first.read == {"acme_raw.raw__blocks": 0, "acme_raw.raw__logs": 1}
    commit(wh, "acme_marts", "marts__days", 1)  # what the run writes
    first.record(config)
    stamp = read_stamp(stamp_uri(str(wh), "transform-acme_raw"), config.s3)
    assert stamp is not None and stamp.written["acme_marts.marts__days"] == 1
    check = transform_check(config, models_only=False)
    assert check is not None and check.up_to_date

    # Each of these makes the next transform run.
    commit(wh, "acme_raw", "raw__logs", 2)  # a new day landed
    assert not transform_check(config, models_only=False).up_to_date  # type: ignore[union-attr]
    transform_check(config, models_only=False).record(config)  # type: ignore[union-attr]
    assert transform_check(config, models_only=False).up_to_date  # type: ignore[union-attr]
    commit(wh, "acme_raw", "raw__pages", 0)  # a new raw table
    assert not transform_check(config, models_only=False).up_to_date  # type: ignore[union-attr]
    transform_check(config, models_only=False).record(config)  # type: ignore[union-attr]
    commit(wh, "acme_marts", "marts__days", 2)  # a model rebuilt by someone else
    assert not transform_check(config, models_only=False).up_to_date  # type: ignore[union-attr]
    transform_check(config, models_only=False).record(config)  # type: ignore[union-attr]
    (project / "models" / "m.sql").write_text("select 2\n")  # a model edited
    assert not transform_check(config, models_only=False).up_to_date  # type: ignore[union-attr]
    transform_check(config, models_only=False).record(config)  # type: ignore[union-attr]
    (project / "target" / "run.json").write_text("{}")  # dbt's own output: no change
    assert transform_check(config, models_only=False).up_to_date  # type: ignore[union-attr]
    # `olx-spark compact` rewrote files of a raw and a mart table: nothing changed for readers
    commit(wh, "acme_raw", "raw__logs", 3, data_change=False)
    commit(wh, "acme_marts", "marts__days", 3, data_change=False)
    assert transform_check(config, models_only=False).up_to_date  # type: ignore[union-attr]
    # A build without dbt's tests does not stand in for one with them.
    assert not transform_check(config, models_only=True).up_to_date  # type: ignore[union-attr]
    # A failed run forgets the stamp.
    transform_check(config, models_only=False).forget(config)  # type: ignore[union-attr]
    assert not transform_check(config, models_only=False).up_to_date  # type: ignore[union-attr]


def test_what_changed_since_the_stamp_when_only_raw_tables_did(
    config: Config, project: Path
) -> None:
    """`changed` names the raw tables read at another version than the stamped build read
    them (the transform then builds only what is downstream of them); anything else that
    changed makes it None (a whole run)."""
    wh = built(config)

    def check() -> RunCheck:
        found = transform_check(config, models_only=False)
        assert found is not None
        return found

    assert check().changed is None  # never stamped
    check().record(config)
    assert check().changed == () and check().up_to_date
    commit(wh, "acme_raw", "raw__logs", 2)  # a new day
    commit(wh, "acme_raw", "raw__pages", 0)  # a raw table that did not exist
    assert check().changed == ("acme_raw.raw__logs", "acme_raw.raw__pages")
    assert not check().up_to_date
    # a raw table created and never written (the transform makes the course tables of both
    # platforms) holds nothing new for any model; its first rows are a change
    empty = wh / "acme_raw.db" / "raw__other_platform" / "_delta_log"
    empty.mkdir(parents=True)
    (empty / f"{0:020d}.json").write_text(
        json.dumps({"commitInfo": {"operation": "CREATE TABLE"}})
        + "\n"
        + json.dumps({"metaData": {"id": "x"}})
        + "\n"
    )
    assert check().read["acme_raw.raw__other_platform"] == NEVER_WRITTEN
    assert check().changed == ("acme_raw.raw__logs", "acme_raw.raw__pages")
    # compaction of an unchanged raw table is no change
    commit(wh, "acme_raw", "raw__blocks", 1, data_change=False)
    assert check().changed == ("acme_raw.raw__logs", "acme_raw.raw__pages")
    check().record(config)
    assert check().changed == ()
    commit(wh, "acme_raw", "raw__other_platform", 1)
    assert check().changed == ("acme_raw.raw__other_platform",)
    check().record(config)

    # Whatever else changed, the whole project runs.
    commit(wh, "acme_raw", "raw__logs", 3)
    commit(wh, "acme_marts", "marts__days", 1)  # a model table written by someone else
    assert check().changed is None
    check().record(config)
    commit(wh, "acme_raw", "raw__logs", 4)
    (project / "models" / "m.sql").write_text("select 3\n")  # a model edited
    assert check().changed is None
    check().record(config)
    commit(wh, "acme_raw", "raw__logs", 5)
    assert transform_check(config, models_only=True).changed is None  # type: ignore[union-attr]
    check().forget(config)  # a failed or killed build
    assert check().changed is None
    check().record(config)
    shutil.rmtree(wh / "acme_raw.db" / "raw__pages")  # a table read then is gone
    assert check().changed is None
    check().record(config)
    shutil.rmtree(wh / "acme_marts.db" / "marts__days")  # a model table dropped
    assert check().changed is None


def test_the_models_downstream_of_changed_raw_tables_by_dbt_source(tmp_path: Path) -> None:
    """Selectors come from the project's source declarations (an `identifier` is the
    table's name in the warehouse); a changed table no source declares means every model."""
    from olx_spark.transform import changed_only, declared_sources, downstream_selectors

    models = tmp_path / "models" / "staging"
    models.mkdir(parents=True)
    (models / "_sources.yml").write_text(
        "version: 2\nsources:\n  - name: raw\n    tables:\n      - name: logs\n"
        "      - name: blocks\n        identifier: RAW__Blocks_v2\n"
        "  - name: other\n    tables:\n      - name: pages\n"
    )
    (models / "_models.yml").write_text("version: 2\nmodels:\n  - name: stg__logs\n")
    assert declared_sources(tmp_path) == {
        "logs": "source:raw.logs",
        "raw__blocks_v2": "source:raw.blocks",
        "pages": "source:other.pages",
    }
    declared = ("s_raw.raw__blocks_v2", "s_raw.logs", "s_raw.pages")
    selectors = ["source:other.pages+", "source:raw.blocks+", "source:raw.logs+"]
    assert downstream_selectors(declared, tmp_path) == (selectors, [])
    assert changed_only(declared, 9, models_only=True, project_dir=tmp_path) == (
        selectors,
        "olx-spark transform: 3 of 9 raw tables changed since the last build (raw__blocks_v2, "
        "logs, pages): building only the models downstream of them (every other model would "
        "read what it read then; --all-models builds every model)",
    )
    assert "of them and their tests (" in changed_only(declared, 9, False, tmp_path)[1]
    mixed = ("s_raw.logs", "s_raw.email_opt_in")
    assert downstream_selectors(mixed, tmp_path) == (["source:raw.logs+"], ["email_opt_in"])
    assert changed_only(mixed, 9, models_only=False, project_dir=tmp_path) == (
        [],
        "olx-spark transform: 2 of 9 raw tables changed since the last build (logs, "
        "email_opt_in); no dbt source declares email_opt_in: building every model",
    )


def test_the_project_declares_the_raw_tables_the_jobs_write() -> None:
    """The real project: every table the four jobs write (the course tables of both
    platforms, the package, tracking log and xAPI tables; the package dump tables the staging
    models read) is a declared source, so a change to it selects what reads it."""
    from olx_spark.olx.tables import ENTITIES, PLATFORMS, course_table_name
    from olx_spark.packages import tables as packages
    from olx_spark.tracking import tables as tracking
    from olx_spark.transform import declared_sources
    from olx_spark.xapi import tables as xapi

    written = [course_table_name(p, e) for p in PLATFORMS for e in ENTITIES]
    written += [packages.COURSE_STRUCTURE_TABLE, packages.FORUM_TABLE]
    written += [packages.BAD_LINES_TABLE, packages.LEDGER_TABLE]
    written += [tracking.EVENTS_TABLE, tracking.BAD_LINES_TABLE, tracking.LEDGER_TABLE]
    written += [xapi.STATEMENTS_TABLE, xapi.SKIPPED_TABLE, xapi.LEDGER_TABLE]
    read_dumps = ("auth_user", "auth_userprofile", "student_courseenrollment", "user_id_map")
    written += [packages.dump_table_name(t) for t in read_dumps]
    sources = declared_sources(REPO / "dbt")
    assert {t: sources.get(t) for t in written} == {
        t: f"source:ol_warehouse_raw_data.{t}" for t in written
    }


def test_no_model_tables_means_not_built(config: Config, project: Path) -> None:
    wh = Path(config.warehouse.dir)
    metastore(wh)
    commit(wh, "acme_raw", "raw__logs", 0)
    check = transform_check(config, models_only=False)
    assert check is not None
    check.record(config)  # a "successful" run that wrote no model table
    assert not transform_check(config, models_only=False).up_to_date  # type: ignore[union-attr]


def test_a_warehouse_that_cannot_be_listed_just_runs(project: Path) -> None:
    config = Config(warehouse=WarehouseConfig(dir="dbfs:/warehouse"))
    assert transform_check(config, models_only=False) is None


def test_only_the_catalog_the_stamp_was_made_in_counts(
    config: Config, project: Path, tmp_path: Path
) -> None:
    wh = built(config)
    transform_check(config, models_only=False).record(config)  # type: ignore[union-attr]
    assert transform_check(config, models_only=False).up_to_date  # type: ignore[union-attr]
    # Another machine's metastore for the same warehouse (tables registered nowhere yet)
    elsewhere = replace(config, warehouse=replace(config.warehouse, metastore_dir=str(tmp_path)))
    assert transform_check(elsewhere, models_only=False) is None  # no catalog there yet
    metastore(tmp_path)
    assert not transform_check(elsewhere, models_only=False).up_to_date  # type: ignore[union-attr]
    # The metastore deleted: nothing to stamp against; made again: a new catalog
    derby = wh / "_metastore_db"
    for child in derby.iterdir():
        child.unlink()
    derby.rmdir()
    assert transform_check(config, models_only=False) is None
    time.sleep(0.01)
    metastore(wh)
    assert not transform_check(config, models_only=False).up_to_date  # type: ignore[union-attr]
    # On a cluster the catalog, not the folder, places tables: never stamped
    on_cluster = replace(config, spark=replace(config.spark, mode="cluster"))
    assert transform_check(on_cluster, models_only=False) is None


def test_a_damaged_stamp_is_no_stamp(config: Config, project: Path) -> None:
    wh = built(config)
    transform_check(config, models_only=False).record(config)  # type: ignore[union-attr]
    at = Path(stamp_uri(str(wh), "transform-acme_raw"))
    at.write_text(at.read_text()[:20])
    assert read_stamp(str(at), config.s3) is None
    assert not transform_check(config, models_only=False).up_to_date  # type: ignore[union-attr]
    assert Stamp.from_json('{"format": 99, "read": {}, "written": {}}') is None


def test_folder_digest_sees_names_and_bytes(tmp_path: Path) -> None:
    (tmp_path / "a").write_text("1")
    before = folder_digest(tmp_path)
    (tmp_path / "a").rename(tmp_path / "b")
    renamed = folder_digest(tmp_path)
    (tmp_path / "b").write_text("2")
    changed = folder_digest(tmp_path)
    assert len({before, renamed, changed}) == 3
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "b.pyc").write_bytes(b"compiled")
    (tmp_path / "target").mkdir()
    (tmp_path / "target" / "run.json").write_text("{}")
    assert folder_digest(tmp_path, skip=["target"]) == changed


def test_report_is_up_to_date_only_with_its_page_and_the_same_courses(
    config: Config, tmp_path: Path
) -> None:
    wh = built(config)
    out = tmp_path / "report"
    out.mkdir()
    first = report_check(config, str(out), ["c1"])
    assert first is not None and not first.up_to_date
    assert first.read == {"acme_marts.marts__days": 0}
    (out / "index.html").write_text("<html></html>")
    first.record(config)
    assert (out / REPORT_STAMP).is_file()
    assert report_check(config, str(out), ["c1"]).up_to_date  # type: ignore[union-attr]
    assert not report_check(config, str(out), []).up_to_date  # type: ignore[union-attr]
    # The same folder, another warehouse with the same schema and versions: not its report
    other = tmp_path / "other"
    commit(other, "acme_marts", "marts__days", 0)
    metastore(other)
    other_config = replace(config, warehouse=replace(config.warehouse, dir=str(other)))
    assert not report_check(other_config, str(out), ["c1"]).up_to_date  # type: ignore[union-attr]
    commit(wh, "acme_marts", "marts__days", 1)
    assert not report_check(config, str(out), ["c1"]).up_to_date  # type: ignore[union-attr]
    report_check(config, str(out), ["c1"]).record(config)  # type: ignore[union-attr]
    (out / "index.html").unlink()
    assert not report_check(config, str(out), ["c1"]).up_to_date  # type: ignore[union-attr]


def test_cli_transform_with_nothing_new_starts_no_spark(
    config: Config, project: Path, tmp_path: Path
) -> None:
    wh = built(config)
    transform_check(config, models_only=False).record(config)  # type: ignore[union-attr]
    toml = tmp_path / "c.toml"
    toml.write_text(f'[warehouse]\ndir = "{wh}"\nraw_schema = "acme_raw"\n')
    env = {**os.environ, "OLX_SPARK_DBT_PROJECT_DIR": str(project)}
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "olx_spark.cli", "transform", "--config", str(toml)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    seconds = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    assert "nothing changed since the last build (2 raw tables" in done.stdout
    assert "Spark not started" in done.stdout
    # no session: Derby never opened the metastore (it would add its log and segments)
    assert [p.name for p in (wh / "_metastore_db").iterdir()] == ["service.properties"]
    assert not (wh / "derby.log").exists()
    print(f"no-op transform: {seconds:.1f} s")
