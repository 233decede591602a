"""Before Spark starts: the ledger read straight from its Delta log decides whether a run has
anything new, and a run with nothing new never builds a session (no JVM in these tests: the
tables are hand-written Delta logs laid out where a local session keeps them)."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pyarrow as pa
import pytest

from olx_spark.config import Config, SparkConfig, WarehouseConfig
from olx_spark.olx.tables import ENTITIES, STATUS_DUPLICATE, STATUS_LOADED, STATUS_REJECTED
from olx_spark.spark.course_archives import (
    LEDGER_COLUMNS,
    CourseArchiveJob,
    ingest_course_archives,
    ledger_state,
    read_ledger_without_spark,
)
from olx_spark.storage.delta_log import UnsupportedDeltaTable
from olx_spark.storage.listing import list_source
from tests.delta_fixtures import PROTOCOL, DeltaTableWriter, metadata_action

LEDGER_TYPES = {
    "archive_uri": "string",
    "archive_size_bytes": "long",
    "archive_modified_at": "timestamp",
    "archive_sha256": "string",
    "status": "string",
}


class SessionWanted(Exception):
    """Raised by the fake session factory: the run wanted Spark."""


def no_session(config: Config) -> object:
    raise SessionWanted


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return Config(
        warehouse=WarehouseConfig(dir=str(tmp_path / "wh"), raw_schema="Raw_Test"),
        spark=SparkConfig(master="local[1]"),
    )


def _write_archive(path: Path, content: bytes = b"not parsed here") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    os.utime(path, ns=(1_700_000_000_123_456_789, 1_700_000_000_123_456_789))
    return path


def _land(config: Config, job: CourseArchiveJob, rows: list[tuple]) -> None:
    """The six tables, empty but the ledger, which holds `rows` (uri, size, time, sha, status)."""
    for entity in ENTITIES:
        location = Path(job.local_location(config, entity))
        writer = DeltaTableWriter(location)
        fields = LEDGER_TYPES if entity == "archives" else {"archive_sha256": "string"}
        writer.commit({"protocol": PROTOCOL}, metadata_action(fields, "retrieved_date"))
        if entity == "archives" and rows:
            uris, sizes, times, shas, statuses = zip(*rows, strict=True)
            table = pa.table(
                {
                    "archive_uri": list(uris),
                    "archive_size_bytes": list(sizes),
                    "archive_modified_at": pa.array(times, pa.timestamp("us", tz="UTC")),
                    "archive_sha256": list(shas),
                    "status": list(statuses),
                }
            )
            writer.commit(writer.data_file(table, "retrieved_date=2024-05-06"))


def _ledger_rows(config: Config, src: Path, status: str = STATUS_LOADED) -> list[tuple]:
    files = list_source(str(src), config.ingest.archive_suffixes, config.s3)
    return [(f.uri, f.size, f.modified_at, f"sha-{f.uri}", status) for f in files]


def test_ledger_state_dedupes_and_skips_unread_files():
    rows = [
        ("a", 1, 10, "s1", STATUS_LOADED),
        ("a", 1, 10, "s1", STATUS_LOADED),  # repeated: one identity
        ("b", 2, 20, "s1", STATUS_DUPLICATE),
        ("c", 3, 30, "s3", STATUS_REJECTED),  # seen, but its bytes are not "loaded"
        ("d", 4, 40, "", STATUS_REJECTED),  # could not be read at all: retried
        ("e", 5, None, "s5", STATUS_LOADED),  # no time: not recognisable without reading
    ]
    state = ledger_state(rows)
    assert state.unchanged == {("a", 1, 10), ("b", 2, 20), ("c", 3, 30)}
    assert state.known_shas == frozenset({"s1", "s5"})


def test_rerun_with_nothing_new_builds_no_session(config, tmp_path):
    src = tmp_path / "src"
    _write_archive(src / "a.tar.gz")
    _write_archive(src / "sub" / "b.zip")
    job = CourseArchiveJob(str(src), "edxorg", "prod")
    _land(config, job, _ledger_rows(config, src))

    outcome = ingest_course_archives(config, job, no_session)  # type: ignore[arg-type]

    assert not outcome.spark_used
    assert outcome.precheck == "nothing new"
    summary = outcome.summary
    assert (summary.files_seen, summary.unchanged, summary.loaded, summary.skipped) == (2, 2, 0, 2)
    assert summary.rows_written == {}
    assert "nothing new to load" in summary.render()


def test_a_new_or_changed_file_goes_to_spark(config, tmp_path):
    src = tmp_path / "src"
    _write_archive(src / "a.tar.gz")
    job = CourseArchiveJob(str(src), "edxorg", "prod")
    _land(config, job, _ledger_rows(config, src))

    _write_archive(src / "new.tar.gz")
    with pytest.raises(SessionWanted):
        ingest_course_archives(config, job, no_session)  # type: ignore[arg-type]

    (src / "new.tar.gz").unlink()
    _write_archive(src / "a.tar.gz", b"changed bytes, other size")
    with pytest.raises(SessionWanted):
        ingest_course_archives(config, job, no_session)  # type: ignore[arg-type]


def test_an_unreadable_archive_is_retried_through_spark(config, tmp_path):
    src = tmp_path / "src"
    _write_archive(src / "a.tar.gz")
    job = CourseArchiveJob(str(src), "edxorg", "prod")
    rows = [(u, s, t, "", STATUS_REJECTED) for u, s, t, _, _ in _ledger_rows(config, src)]
    _land(config, job, rows)

    with pytest.raises(SessionWanted):
        ingest_course_archives(config, job, no_session)  # type: ignore[arg-type]


def test_spark_decides_when_the_ledger_cannot_be_read_without_it(config, tmp_path):
    src = tmp_path / "src"
    _write_archive(src / "a.tar.gz")
    job = CourseArchiveJob(str(src), "edxorg", "prod")

    # First run: no tables yet (Spark creates them).
    with pytest.raises(UnsupportedDeltaTable, match="missing"):
        read_ledger_without_spark(config, job)
    with pytest.raises(SessionWanted):
        ingest_course_archives(config, job, no_session)  # type: ignore[arg-type]

    _land(config, job, _ledger_rows(config, src))
    assert read_ledger_without_spark(config, job).unchanged  # readable now
    # On a cluster, the catalog says where tables live: never guessed.
    cluster = replace(config, spark=replace(config.spark, mode="cluster"))
    with pytest.raises(UnsupportedDeltaTable, match="not a local session"):
        read_ledger_without_spark(cluster, job)
    with pytest.raises(SessionWanted):
        ingest_course_archives(cluster, job, no_session)  # type: ignore[arg-type]


def test_the_ledger_columns_are_the_tables():
    from olx_spark.olx.tables import table_schema

    assert set(LEDGER_COLUMNS) <= set(table_schema("archives").names)


def test_the_cli_prints_the_summary_without_spark(config, tmp_path, monkeypatch, capsys):
    import json

    from olx_spark import cli

    src = tmp_path / "src"
    _write_archive(src / "a.tar.gz")
    job = CourseArchiveJob(str(src), "edxorg", "prod")
    _land(config, job, _ledger_rows(config, src))
    toml = tmp_path / "c.toml"
    toml.write_text(f'[warehouse]\nraw_schema = "{config.warehouse.raw_schema}"\n')
    monkeypatch.setattr(cli, "_session", no_session)
    args = [str(src), "--platform", "edxorg", "--source-system", "prod"]
    args += ["--warehouse", config.warehouse.dir, "--config", str(toml), "--json"]

    assert cli.main(["ingest", "course-archives", *args]) == 0
    out = capsys.readouterr().out
    assert json.loads(out)["unchanged"] == 1

    # spark-submit's entry point goes the same way.
    import runpy

    monkeypatch.setattr("sys.argv", ["ingest_course_archives.py", *args])
    with pytest.raises(SystemExit) as exit_:
        runpy.run_path(
            str(Path(__file__).parents[2] / "jobs" / "ingest_course_archives.py"),
            run_name="__main__",
        )
    assert exit_.value.code == 0
    assert json.loads(capsys.readouterr().out)["files_seen"] == 1
