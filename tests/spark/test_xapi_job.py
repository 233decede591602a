"""The xAPI job for real: tracking logs and a course landed on local Spark, statements written
to Delta and read back, reruns, a killed run, JSON lines out, and an actor mapping.

The statements themselves are pinned field by field in tests/unit/test_xapi_*.py; here what
matters is the job: which events become statements and with which actor, course name, ids and
partitions, what is counted as skipped, and that every file is transformed exactly once.
"""

from __future__ import annotations

import gzip
import hashlib
import hmac
import json
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from olx_spark.config import Config
from olx_spark.spark.course_archives import CourseArchiveJob, run_course_archives
from olx_spark.spark.tracking_logs import TrackingLogJob, run_tracking_logs
from olx_spark.spark.xapi_statements import (
    XapiJob,
    XapiSetupError,
    pending_without_spark,
    run_xapi,
    transform_to_xapi,
)
from olx_spark.xapi.tables import LEDGER_TABLE, SKIPPED_TABLE, STATEMENTS_TABLE
from olx_spark.xapi.validate import problems
from tests.spark.courses import tiny_course, write_tar_gz

pytestmark = pytest.mark.spark

SALT = "test-salt-not-a-secret"
SALT_ENV = "OLX_SPARK_XAPI_SALT"
LMS = "https://courses.example.org"
COURSE = "course-v1:MITx+T.01+2024_T1"  # tiny_course's id
OTHER_COURSE = "course-v1:MITx+Other+2024_T1"  # no course archive: no name


def _pseudonym(text: str) -> str:
    digest = hmac.new(SALT.encode(), text.encode(), hashlib.sha256).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


def _enrolled(time: str, course: str, **user: Any) -> dict[str, Any]:
    line: dict[str, Any] = {
        "name": "edx.course.enrollment.activated",
        "timestamp": time,
        "data": {"course_id": course, "mode": "audit"},
        "context": {"course_id": course, "org_id": "MITx"},
    }
    if "user_id" in user:
        line["context"]["user_id"] = user["user_id"]
    if "username" in user:
        line["username"] = user["username"]
    if "data_user_id" in user:
        line["data"]["user_id"] = user["data_user_id"]
    return line


DAY1 = [
    _enrolled("2024-03-03T10:00:01.000001+00:00", COURSE, user_id=7, username="alice"),
    _enrolled("2024-03-03T10:00:02+00:00", OTHER_COURSE, username="bob"),  # username only
    _enrolled("2024-03-03T10:00:03+00:00", COURSE, data_user_id=9),  # user in data only
    _enrolled("2024-03-03T10:00:04+00:00", COURSE),  # nobody: skipped, no_user
    {  # a page view: no transformer
        "event_type": "/courses/course-v1:MITx+T.01+2024_T1/courseware/",
        "event_source": "server",
        "time": "2024-03-03T10:00:05+00:00",
        "username": "alice",
        "context": {"user_id": 7, "course_id": COURSE},
        "event": {"GET": {}, "POST": {}},
    },
    {  # no course anywhere: its transformer cannot make a statement (incomplete)
        "name": "edx.course.enrollment.activated",
        "timestamp": "2024-03-03T10:00:06+00:00",
        "data": {"mode": "audit"},
        "context": {"user_id": 7},
    },
]
DAY2 = [
    {
        "name": "edx.course.enrollment.deactivated",
        "timestamp": "2024-03-04T08:00:00+00:00",
        "data": {"course_id": COURSE, "mode": "audit", "user_id": 7},
        "context": {"course_id": COURSE, "user_id": 7},
        "username": "alice",
        "ip": "10.1.2.3",
    }
]


def _log(folder: Path, day: str, lines: list[dict[str, Any]]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    text = "\n".join(json.dumps(line) for line in lines) + "\n"
    (folder / f"mitx-edx-events-{day}.log.gz").write_bytes(gzip.compress(text.encode(), mtime=0))


def _statements(spark: Any, config: Config) -> list[dict[str, Any]]:
    table = f"`{config.warehouse.raw_schema}`.{STATEMENTS_TABLE}"
    return [
        r.asDict() for r in spark.table(table).orderBy("emission_time", "statement_id").collect()
    ]


def _table(spark: Any, config: Config, name: str) -> Any:
    return spark.table(f"`{config.warehouse.raw_schema}`.{name}")


def test_xapi_job_transforms_each_log_once(spark, config, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv(SALT_ENV, SALT)
    with pytest.raises(XapiSetupError, match="--lms-root-url"):
        XapiJob().settings(config)
    with pytest.raises(XapiSetupError, match="no tracking logs"):
        run_xapi(spark, config, XapiJob(lms_root_url=LMS))

    write_tar_gz(tmp_path / "courses" / "tiny.tar.gz", tiny_course())
    run_course_archives(
        spark, config, CourseArchiveJob(str(tmp_path / "courses"), "edxorg", "prod")
    )
    logs = tmp_path / "logs"
    _log(logs, "2024-03-03", DAY1)
    run_tracking_logs(spark, config, TrackingLogJob(str(logs)))

    out = tmp_path / "out"
    summary = run_xapi(spark, config, XapiJob(lms_root_url=LMS + "/", out=str(out)))
    assert (summary.files_transformed, summary.events_read, summary.statements_written) == (1, 6, 3)
    assert summary.skipped == {
        "no_user: edx.course.enrollment.activated": 1,
        "incomplete: edx.course.enrollment.activated": 1,
        "no_transformer: /courses/course-v1:MITx+T.01+2024_T1/courseware/": 1,
    }
    rows = _statements(spark, config)
    assert [
        (r["actor_id"], r["course_id"], r["org"], r["statement_date"], r["source_line_number"])
        for r in rows
    ] == [
        (_pseudonym("7"), COURSE, "MITx", date(2024, 3, 3), 1),
        (_pseudonym("username:bob"), OTHER_COURSE, "MITx", date(2024, 3, 3), 2),
        (_pseudonym("9"), COURSE, "MITx", date(2024, 3, 3), 3),
    ]
    statements = [json.loads(r["statement"]) for r in rows]
    for row, stmt in zip(rows, statements, strict=True):
        assert problems(stmt) == []
        assert stmt["id"] == row["statement_id"]
        assert stmt["verb"]["id"] == row["verb_id"] == "http://adlnet.gov/expapi/verbs/registered"
        assert stmt["object"]["id"] == row["object_id"] == f"{LMS}/course/{row['course_id']}"
        assert stmt["actor"] == {
            "objectType": "Agent",
            "account": {"homePage": LMS, "name": row["actor_id"]},
        }
        assert "alice" not in row["statement"] and "bob" not in row["statement"]
    # The course name comes from the course tables; a course not landed has none.
    assert statements[0]["object"]["definition"]["name"] == {"en": "Tiny Course (policy)"}
    assert "name" not in statements[1]["object"]["definition"]
    assert statements[0]["timestamp"] == "2024-03-03T10:00:01.000001+00:00"
    assert str(rows[0]["emission_time"]).startswith("2024-03-03")

    # JSON lines out: the same statements, one folder per statement date.
    written = sorted(out.glob("statement_date=2024-03-03/*.txt.gz"))
    assert written
    lines = [json.loads(x) for f in written for x in gzip.decompress(f.read_bytes()).splitlines()]
    assert sorted(s["id"] for s in lines) == sorted(r["statement_id"] for r in rows)

    # Nothing new: nothing done, nothing changed.
    again = run_xapi(spark, config, XapiJob(lms_root_url=LMS))
    assert again.files_transformed == 0
    assert _statements(spark, config) == rows
    # ... and the command decides so from the ledgers alone, without Spark.
    assert pending_without_spark(config, XapiJob(lms_root_url=LMS)) == 0

    def no_spark(_: Config) -> Any:
        raise AssertionError("Spark was started with nothing new")

    quick, used_spark = transform_to_xapi(config, XapiJob(lms_root_url=LMS), no_spark)
    assert (quick.files_transformed, used_spark) == (0, False)

    # A new day is transformed alone; --since leaves out older logs that are still pending.
    _log(logs, "2024-03-04", DAY2)
    _log(logs, "2024-02-01", DAY1[:1])
    run_tracking_logs(spark, config, TrackingLogJob(str(logs)))
    assert pending_without_spark(config, XapiJob(lms_root_url=LMS)) == 2
    assert pending_without_spark(config, XapiJob(lms_root_url=LMS, since=date(2024, 3, 4))) == 1
    later = run_xapi(spark, config, XapiJob(lms_root_url=LMS, since=date(2024, 3, 4)))
    assert (later.files_transformed, later.statements_written) == (1, 1)
    new = [r for r in _statements(spark, config) if r["statement_date"] == date(2024, 3, 4)]
    assert [(r["actor_id"], r["verb_id"]) for r in new] == [
        (_pseudonym("7"), "http://id.tincanapi.com/verb/unregistered")
    ]
    assert "10.1.2.3" not in new[0]["statement"]

    # A run killed after writing statements but before its ledger: the rerun replaces them.
    before = _statements(spark, config)
    spark.sql(
        f"DELETE FROM `{config.warehouse.raw_schema}`.{LEDGER_TABLE} "
        "WHERE log_date = DATE'2024-03-04'"
    )
    redo = run_xapi(spark, config, XapiJob(lms_root_url=LMS, since=date(2024, 3, 4)))
    assert redo.files_transformed == 1
    after = _statements(spark, config)
    assert [r["statement_id"] for r in after] == [r["statement_id"] for r in before]
    assert _table(spark, config, LEDGER_TABLE).count() == 2
    assert _table(spark, config, SKIPPED_TABLE).groupBy().sum("event_count").first()[0] == 3

    # The older log is still pending without --since. It repeats day 1's first event: the
    # same event gives the same statement id (an LRS or a dedupe downstream sees one event).
    rest = run_xapi(spark, config, XapiJob(lms_root_url=LMS))
    assert rest.files_transformed == 1
    ids = [r["statement_id"] for r in _statements(spark, config)]
    assert len(ids) == 5 and len(set(ids)) == 4
    assert ids.count(rows[0]["statement_id"]) == 2


def test_xapi_job_with_an_actor_mapping(spark, config, tmp_path, monkeypatch) -> None:
    monkeypatch.delenv(SALT_ENV, raising=False)
    with pytest.raises(XapiSetupError, match=SALT_ENV):
        XapiJob(lms_root_url=LMS).settings(config)
    logs = tmp_path / "logs"
    _log(logs, "2024-03-03", DAY1)
    run_tracking_logs(spark, config, TrackingLogJob(str(logs)))
    mapping = tmp_path / "actors.csv"
    mapping.write_text(
        "user_id,username,external_user_id\n"
        "7,alice,ext-alice\n"
        ",bob,ext-bob\n"  # found by username
        "11,carol,ext-carol\n"
    )
    summary = run_xapi(spark, config, XapiJob(lms_root_url=LMS, actor_map=str(mapping)))
    assert summary.statements_written == 2
    assert summary.skipped == {
        "no_transformer: /courses/course-v1:MITx+T.01+2024_T1/courseware/": 1,
        "user_not_in_mapping: edx.course.enrollment.activated": 2,  # user 9, and nobody
        "incomplete: edx.course.enrollment.activated": 1,
    }
    rows = _statements(spark, config)
    assert [(r["actor_id"], r["source_line_number"]) for r in rows] == [
        ("ext-alice", 1),
        ("ext-bob", 2),
    ]
    ledger = _table(spark, config, LEDGER_TABLE).first()
    assert ledger["actor_source"] == f"mapping: {mapping}"
    assert (ledger["event_count"], ledger["statement_count"], ledger["skipped_count"]) == (6, 2, 4)
