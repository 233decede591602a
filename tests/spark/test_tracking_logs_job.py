"""The tracking log job for real: local Spark, Delta tables in the catalog, read back.

Two tests on purpose (Spark time is shared): one walks a small hand-made source through every
case (plain, gzip, encrypted, syslog prefix, bad lines, `event` as a JSON string, event-bus
style, truncated gzip, wrong key, rerun, killed run, renamed copy), one checks PII hashing.
"""

from __future__ import annotations

import gzip
import json
import shutil
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from olx_spark.config import Config
from olx_spark.spark import tracking_logs as tracking_logs_job
from olx_spark.spark.schemas import spark_schema_of
from olx_spark.spark.tasks import TaskSizing
from olx_spark.spark.tracking_logs import (
    TrackingLogJob,
    event_rows,
    parse_lines,
    pii_settings,
    run_tracking_logs,
)
from olx_spark.tracking.events import pii_hash, scrub
from olx_spark.tracking.tables import (
    BAD_LINES_TABLE,
    EVENTS_TABLE,
    LEDGER_TABLE,
    TABLES,
    staging_schema,
    table_schema,
)
from tests.packages_fixtures import PASSPHRASE
from tests.spark.packing import record_task_counts

pytestmark = pytest.mark.spark

PASSPHRASE_ENV = "TEST_TRACKING_PASSPHRASE"
SYSLOG = "Mar  3 10:00:03 host-1 [service_variant=lms][tracking] INFO 12 [tracking] logger.py:41 -"

SERVER = {
    "username": "alice",
    "event_source": "server",
    "name": "problem_check",
    "accept_language": "en-US,en;q=0.9",
    "time": "2024-03-03T10:00:01.123456+00:00",
    "agent": "Mozilla/5.0",
    "page": None,
    "host": "courses.edx.org",
    "session": "s1",
    "referer": "https://courses.edx.org/courses/x",
    "context": {
        "user_id": 7,
        "org_id": "MITx",
        "course_id": "course-v1:MITx+6.00x+2024_T1",
        "path": "/event",
        "username": "alice",
    },
    "ip": "10.0.0.1",
    "event": {"problem_id": "p1", "answers": {"a": "b"}, "success": "correct"},
    "event_type": "problem_check",
}
BROWSER = {
    "username": "bob",
    "event_source": "browser",
    "time": "2024-03-03T10:00:02Z",
    "context": {"user_id": "8", "course_id": "course-v1:MITx+6.00x+2024_T1"},
    "ip": "10.0.0.2",
    "event": json.dumps({"id": "v1", "currentTime": 12.5}),
    "event_type": "play_video",
    "page": "https://courses.edx.org/xblock/1",
}
SYSLOGGED = {
    "event_type": "edx.ui.lms.link_clicked",
    "time": "2024-03-03T10:00:03+00:00",
    "course_user_tags": {"cohort": "A"},  # a key with no column: kept in line_json
}
BUS = {
    "name": "edx.course.enrollment.activated",
    "timestamp": "2024-03-02T23:59:59.000001+00:00",
    "data": {"course_id": "course-v1:MITx+6.00x+2024_T1", "mode": "audit"},
    "context": {"user_id": 9},
}
BROKEN = '{"event_type": "x", "event": }'
QUERY_STRING = {"event_type": "problem_check", "event_source": "browser", "event": "input_x=2"}

DAY1 = "\n".join(
    [
        json.dumps(SERVER),
        json.dumps(BROWSER),
        "",  # blank lines are not lines: skipped, not counted, not bad lines
        f"{SYSLOG} {json.dumps(SYSLOGGED)}",
        "this is not json",
        json.dumps(BUS),
        "\t ",
        f"{SYSLOG} {BROKEN}",
        json.dumps(QUERY_STRING),
        "# a comment is a line, and not an event",
        "   ",
    ]
)


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _rows(spark: Any, config: Config, table: str, order: str) -> list[dict[str, Any]]:
    query = f"SELECT * FROM `{config.warehouse.raw_schema}`.{table} ORDER BY {order}"
    return [r.asDict(recursive=True) for r in spark.sql(query).collect()]


def _count(spark: Any, config: Config, table: str) -> int:
    return spark.table(f"`{config.warehouse.raw_schema}`.{table}").count()


def _column_encodings(path: Path) -> dict[str, set[str]]:
    meta = pq.ParquetFile(path).metadata
    found: dict[str, set[str]] = {}
    for group in range(meta.num_row_groups):
        for i in range(meta.num_columns):
            column = meta.row_group(group).column(i)
            found.setdefault(column.path_in_schema, set()).update(column.encodings)
    return found


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC).astimezone().replace(tzinfo=None)  # as Spark collects


def test_tracking_logs_land_once_with_bad_lines_and_a_ledger(
    spark, config, tmp_path, gpg_keys, monkeypatch
):
    monkeypatch.setenv(PASSPHRASE_ENV, PASSPHRASE)
    src = tmp_path / "src"
    day1 = _write(src / "MITx-prod-events-2024-03-03.log.gz", gzip.compress(DAY1.encode()))
    _write(src / "tracking.log", (json.dumps(BROWSER) + "\n").encode())
    many = "".join(json.dumps({**SYSLOGGED, "n": i}) + "\n" for i in range(4000)).encode()
    packed = gzip.compress(many)
    _write(src / "MITx-edge-events-2024-03-04.log.gz", packed[: len(packed) // 2])
    _write(
        src / "MITx-prod-events-2024-03-05.log.gz.gpg",
        gpg_keys.encrypt(gzip.compress(json.dumps(BUS).encode())),
    )
    _write(
        src / "MITx-prod-events-2024-03-06.log.gz.gpg",
        gpg_keys.encrypt(gzip.compress(json.dumps(BUS).encode()), to_other=True),
    )
    job = TrackingLogJob(str(src), gnupg_home=gpg_keys.home, passphrase_env=PASSPHRASE_ENV)

    task_counts = record_task_counts(monkeypatch, tracking_logs_job)
    summary = run_tracking_logs(spark, config, job)

    assert (summary.files_seen, summary.loaded, summary.rejected, summary.duplicates) == (
        5,
        4,
        1,
        0,
    )
    # Read tasks sized by Spark's split rule for the session, not one per log: 5 small logs
    # on 2 cores are 2 tasks.
    sizing = TaskSizing.of(spark).task_count([f.stat().st_size for f in src.iterdir()])
    assert task_counts == [sizing] and sizing == 2
    for name in TABLES:
        table = spark.table(f"`{config.warehouse.raw_schema}`.{name}")
        assert table.columns == table_schema(name).names, name
    detail = spark.sql(f"DESCRIBE DETAIL `{config.warehouse.raw_schema}`.{EVENTS_TABLE}").first()
    assert detail["partitionColumns"] == ["event_date"]
    stats = detail["properties"]["delta.dataSkippingStatsColumns"].split(",")
    assert stats[:5] == ["source_system", "file_uri", "file_sha256", "line_number", "retrieved_at"]
    assert "event_time" in stats and "course_id" in stats
    assert "event_json" not in stats and "agent" not in stats and "event_date" not in stats
    # The per-column dictionary switch reaches the Parquet writer: in the file of the ~2,000
    # syslogged events (one payload, one event type, repeated), the payload is written plain
    # while the event type, left alone, is dictionary-encoded.
    files = Path(detail["location"].removeprefix("file:")).rglob("*.parquet")
    largest = max(files, key=lambda f: pq.ParquetFile(f).metadata.num_rows)
    assert pq.ParquetFile(largest).metadata.num_rows > 1000
    encodings = _column_encodings(largest)
    assert not any("DICTIONARY" in e for e in encodings["event_json"]), encodings["event_json"]
    assert any("DICTIONARY" in e for e in encodings["event_type"]), encodings["event_type"]

    ledger = {
        r["file_uri"].rsplit("/", 1)[-1]: r for r in _rows(spark, config, LEDGER_TABLE, "file_uri")
    }
    first = ledger["MITx-prod-events-2024-03-03.log.gz"]
    assert (first["status"], first["compression"], first["source_system"], first["org"]) == (
        "loaded",
        "gzip",
        "prod",
        "MITx",
    )
    assert (
        first["line_count"],
        first["event_count"],
        first["bad_line_count"],
        first["recovered_line_count"],
    ) == (8, 5, 3, 1)
    assert first["log_date"] == date(2024, 3, 3) and first["errors"] == []
    truncated = ledger["MITx-edge-events-2024-03-04.log.gz"]
    assert truncated["status"] == "partial" and truncated["source_system"] == "edge"
    assert [e["kind"] for e in truncated["errors"]] == ["truncated"]
    assert 0 < truncated["event_count"] < 4000 and truncated["bad_line_count"] == 1
    assert truncated["line_count"] == truncated["event_count"] + 1
    encrypted = ledger["MITx-prod-events-2024-03-05.log.gz.gpg"]
    assert (encrypted["status"], encrypted["encrypted"], encrypted["event_count"]) == (
        "loaded",
        True,
        1,
    )
    wrong_key = ledger["MITx-prod-events-2024-03-06.log.gz.gpg"]
    assert (wrong_key["status"], wrong_key["retryable"]) == ("rejected", True)
    assert wrong_key["errors"][0]["kind"] == "no_secret_key"
    assert ledger["tracking.log"]["source_system"] == "unknown"
    assert PASSPHRASE not in str(ledger)

    events = _rows(spark, config, EVENTS_TABLE, "file_uri, line_number")
    day1_events = [e for e in events if e["file_uri"] == day1.resolve().as_uri()]
    # The file's own line numbers: the blank lines 3, 7 and 11 leave gaps.
    assert [e["line_number"] for e in day1_events] == [1, 2, 4, 6, 9]
    server, browser, syslogged, bus, query = day1_events
    assert {k: server[k] for k in server if k not in ("retrieved_at", "file_uri")} == {
        "source_system": "prod",
        "file_sha256": first["file_sha256"],
        "line_number": 1,
        "event_date": date(2024, 3, 3),
        "event_type": "problem_check",
        "event_name": "problem_check",
        "event_source": "server",
        "event_time": _utc(2024, 3, 3, 10, 0, 1, 123456),
        "event_time_raw": "2024-03-03T10:00:01.123456+00:00",
        "username": "alice",
        "user_id": 7,
        "course_id": "course-v1:MITx+6.00x+2024_T1",
        "org_id": "MITx",
        "session": "s1",
        "page": None,
        "referer": "https://courses.edx.org/courses/x",
        "agent": "Mozilla/5.0",
        "host": "courses.edx.org",
        "ip": "10.0.0.1",
        "accept_language": "en-US,en;q=0.9",
        "event_json": json.dumps(SERVER["event"], separators=(",", ":")),
        "context_json": json.dumps(SERVER["context"], separators=(",", ":")),
        "line_prefix": None,
        "extra_keys": None,
        "line_json": None,
    }
    assert server["retrieved_at"] == first["retrieved_at"]
    assert json.loads(browser["event_json"]) == {"id": "v1", "currentTime": 12.5}
    assert (browser["user_id"], browser["event_time"]) == (8, _utc(2024, 3, 3, 10, 0, 2))
    assert syslogged["line_prefix"] == SYSLOG
    assert syslogged["extra_keys"] == ["course_user_tags"]
    assert json.loads(syslogged["line_json"]) == SYSLOGGED
    assert syslogged["event_type"] == "edx.ui.lms.link_clicked"
    assert (bus["event_type"], bus["event_name"], bus["user_id"]) == (
        None,
        "edx.course.enrollment.activated",
        9,
    )
    assert json.loads(bus["event_json"]) == BUS["data"]
    assert bus["event_date"] == date(2024, 3, 2)  # the event's own date, not the file's
    assert bus["event_time_raw"] == BUS["timestamp"]
    assert query["event_json"] == '"input_x=2"' and query["event_time"] is None
    assert query["event_date"] == date(2024, 3, 3)  # no time: the file name's date

    bad = _rows(spark, config, BAD_LINES_TABLE, "file_uri, line_number")
    day1_bad = [
        (b["line_number"], b["reason"], b["line"])
        for b in bad
        if b["file_uri"] == day1.resolve().as_uri()
    ]
    assert day1_bad == [
        (5, "the line holds no JSON object", "this is not json"),
        (8, "the text after the prefix is not a valid JSON object", f"{SYSLOG} {BROKEN}"),
        (10, "the line holds no JSON object", "# a comment is a line, and not an event"),
    ]
    assert {b["file_sha256"] for b in bad if b["file_uri"] == day1.resolve().as_uri()} == {
        first["file_sha256"]
    }
    counts = {name: _count(spark, config, name) for name in TABLES}
    assert counts[EVENTS_TABLE] == 5 + 1 + truncated["event_count"] + 1

    # Rerun: nothing new but the retryable rejection, which is read (and rejected) again.
    again = run_tracking_logs(spark, config, job)
    assert (again.unchanged, again.loaded, again.rejected) == (4, 0, 1)
    assert _count(spark, config, EVENTS_TABLE) == counts[EVENTS_TABLE]

    # A run killed after its data commits, before the ledger: the next run replaces, never adds.
    spark.sql(
        f"DELETE FROM `{config.warehouse.raw_schema}`.{LEDGER_TABLE} "
        "WHERE file_uri LIKE '%2024-03-03%'"
    )
    redo = run_tracking_logs(spark, config, job)
    assert redo.loaded == 1
    assert _count(spark, config, EVENTS_TABLE) == counts[EVENTS_TABLE]
    assert _count(spark, config, BAD_LINES_TABLE) == counts[BAD_LINES_TABLE]

    # The same content under another name (and gzip-compressed differently) is a duplicate.
    shutil.copy(day1, src / "MITx-prod-events-2024-03-03-copy.log.gz")
    _write(src / "plain-copy.log", DAY1.encode())
    renamed = run_tracking_logs(spark, config, job)
    assert (renamed.duplicates, renamed.loaded) == (2, 0)
    assert _count(spark, config, EVENTS_TABLE) == counts[EVENTS_TABLE]


def test_pii_hash_hashes_names_addresses_and_free_text(spark, config, tmp_path, monkeypatch):
    salt = "pepper-for-tests"
    monkeypatch.setenv("TEST_PII_SALT", salt)
    config = replace(
        config, tracking=replace(config.tracking, pii="hash", pii_salt_env="TEST_PII_SALT")
    )
    src = tmp_path / "src"
    _write(src / "MITx-prod-events-2024-03-03.log", (DAY1 + "\n").encode())

    run_tracking_logs(spark, config, TrackingLogJob(str(src)))

    server, browser, *_ = _rows(spark, config, EVENTS_TABLE, "line_number")
    assert server["username"] == pii_hash(salt, "alice")
    assert browser["ip"] == pii_hash(salt, "10.0.0.2")
    keys = config.tracking.pii_json_keys
    raw_context = json.dumps(SERVER["context"], separators=(",", ":"))
    assert server["context_json"] == scrub(raw_context, keys, "hash", salt)
    assert json.loads(server["context_json"])["username"] == pii_hash(salt, "alice")
    assert json.loads(server["context_json"])["path"] == "/event"
    assert server["user_id"] == 7  # the pseudonymous id stays, for joins
    bad = _rows(spark, config, BAD_LINES_TABLE, "line_number")
    assert [b["line_number"] for b in bad] == [5, 8, 10]
    # The salt is data in the plan, never a literal a plan or an error would print; nor is it in
    # any file of the tables.
    staged = pa.Table.from_pylist(
        [{"kind": "line", "file_uri": "f", "line_number": 1, "line": json.dumps(SERVER)}],
        schema=staging_schema(),
    )
    parsed = parse_lines(spark.createDataFrame(staged, spark_schema_of(staging_schema())), 100)
    meta = spark.createDataFrame(
        [("f", "prod", "sha", None, None, None)],
        "file_uri string, source_system string, file_sha256 string, retrieved_at timestamp, "
        "retrieved_date date, log_date date",
    )
    frame = event_rows(spark, parsed, meta, pii_settings(config))
    assert frame.first()["username"] == pii_hash(salt, "alice")
    assert salt not in frame._jdf.queryExecution().toString()
    warehouse = Path(spark.conf.get("spark.sql.warehouse.dir"))
    tables = warehouse / f"{config.warehouse.raw_schema.lower()}.db"
    assert all(salt.encode() not in f.read_bytes() for f in tables.rglob("*") if f.is_file())
