"""Two nights with bad input (issue 17): a day's log missing, the week's package a day late, a
course archive that fails. The first night loads everything good and its summaries say what is
missing or rejected; the second night, with the late files landed and the archive exported
again, catches up with the same commands: nothing by hand, nothing loaded twice.

The jobs run as the CLI runs them (`ingest_*`, `transform_to_xapi`) on the test run's session.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from olx_spark.config import Config
from olx_spark.spark.course_archives import CourseArchiveJob, ingest_course_archives
from olx_spark.spark.data_packages import DataPackageJob, ingest_data_packages
from olx_spark.spark.tracking_logs import TrackingLogJob, ingest_tracking_logs
from olx_spark.spark.xapi_statements import XapiJob, transform_to_xapi
from tests.packages_fixtures import AUTH_USER, PASSPHRASE, member, write_package
from tests.spark.courses import tiny_course, write_tar_gz

pytestmark = pytest.mark.e2e

COURSE = "course-v1:MITx+T.01+2024_T1"  # tiny_course's id
DAYS = ["2024-03-01", "2024-03-02", "2024-03-03", "2024-03-04"]
PASSPHRASE_ENV = "TEST_BAD_NIGHTS_PASSPHRASE"


def enrollment(day: str, user: int) -> dict[str, Any]:
    return {
        "name": "edx.course.enrollment.activated",
        "event_type": "edx.course.enrollment.activated",
        "event_source": "server",
        "time": f"{day}T10:00:00+00:00",
        "username": f"u{user}",
        "event": {"course_id": COURSE, "mode": "audit", "user_id": user},
        "context": {"course_id": COURSE, "org_id": "MITx", "user_id": user},
    }


def land_log(landing: Path, day: str) -> None:
    """One enrollment event, by learner N on the Nth day."""
    (landing / "logs").mkdir(parents=True, exist_ok=True)
    event = enrollment(day, DAYS.index(day) + 1)
    (landing / "logs" / f"MITx-prod-events-{day}.log").write_text(json.dumps(event) + "\n")


def night(spark: Any, config: Config, landing: Path, keys: Any) -> dict[str, Any]:
    """The nightly commands, each as the CLI runs it: their summaries."""
    session = lambda _config: spark  # noqa: E731
    archives = ingest_course_archives(
        config, CourseArchiveJob(str(landing / "archives"), "edxorg", "prod"), session
    ).summary
    packages = ingest_data_packages(
        config, DataPackageJob(str(landing / "packages"), keys.home, PASSPHRASE_ENV), session
    ).summary
    logs = ingest_tracking_logs(config, TrackingLogJob(str(landing / "logs")), session).summary
    xapi, _ = transform_to_xapi(config, XapiJob(lms_root_url="https://lms.example.org"), session)
    return {"archives": archives, "packages": packages, "logs": logs, "xapi": xapi}


def rows(spark: Any, config: Config, table: str, *columns: str) -> list[tuple[Any, ...]]:
    df = spark.table(f"`{config.warehouse.raw_schema}`.`{table}`")
    return sorted((tuple(r) for r in df.select(*columns).collect()), key=str)


def test_a_bad_night_completes_what_it_can_and_the_next_catches_up(
    spark: Any,
    config: Config,
    gpg_keys: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(PASSPHRASE_ENV, PASSPHRASE)
    monkeypatch.setenv(config.xapi.actor_salt_env, "bad-nights-salt")
    landing = tmp_path / "landing"
    (landing / "packages").mkdir(parents=True)
    write_tar_gz(landing / "archives" / "T1.tar.gz", tiny_course())
    broken = landing / "archives" / "T2.tar.gz"
    broken.write_bytes(b"\x1f\x8b\x08\x00 not really gzip")  # an export cut short
    for day in (DAYS[0], DAYS[2]):  # the log of 03-02 is missing; 03-04 is not over yet
        land_log(landing, day)

    # Night 1: everything good loads; what is missing or broken is said.
    first = night(spark, config, landing, gpg_keys)
    assert (first["archives"].loaded, first["archives"].rejected) == (1, 1)
    assert [w.uri.rsplit("/", 1)[-1] for w in first["archives"].warnings] == ["T2.tar.gz"]
    assert first["packages"].files_seen == 0  # the week's package is late
    assert first["logs"].loaded == 2
    assert first["logs"].missing == ["MITx-prod-events-*.log: no log for 2024-03-02 (1 day)"]
    assert "no log for 2024-03-02" in first["logs"].render()
    assert first["xapi"].files_pending == 2

    # Night 2: the late log and the package land, the archive is exported again, a new day.
    land_log(landing, DAYS[1])
    land_log(landing, DAYS[3])
    write_package(
        landing / "packages" / "mitx-2024-03-04.zip",
        {member("auth_user"): gpg_keys.encrypt(AUTH_USER)},
    )
    write_tar_gz(broken, tiny_course(run="2024_T2", title="Tiny Two"), mtime=1_700_100_000)
    second = night(spark, config, landing, gpg_keys)
    assert (second["archives"].loaded, second["archives"].unchanged) == (1, 1)
    assert second["archives"].rejected == 0
    assert second["packages"].loaded == 1
    assert (second["logs"].loaded, second["logs"].unchanged) == (2, 2)
    assert second["logs"].missing == []
    assert second["xapi"].files_pending == 2

    # Everything once: both courses, the two package learners, one event and one statement
    # (learner N registered on day N) per day.
    archives = rows(spark, config, "raw__edxorg__s3__course_xml_archives", "course_id", "status")
    assert [a for a in archives if a[1] == "loaded"] == [
        ("course-v1:MITx+T.01+2024_T1", "loaded"),
        ("course-v1:MITx+T.01+2024_T2", "loaded"),
    ]
    assert [r[0] for r in archives if r[1] != "loaded"] == [None]  # the rejected first export
    assert len(rows(spark, config, "raw__edxorg__s3__tables__auth_user", "id")) == 2
    events = rows(spark, config, "raw__edxorg__s3__tracking_logs", "event_date")
    assert [str(e[0]) for e in events] == DAYS
    statements = spark.table(f"`{config.warehouse.raw_schema}`.`xapi__statements`")
    assert statements.count() == 4
    assert statements.select("statement_id").distinct().count() == 4
