"""The tracking log job's decisions that need no JVM: what the ledger makes final, in-run
duplicates, and settings refused before anything is read."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from olx_spark.cli import main
from olx_spark.config import Config, SparkConfig, TrackingConfig, WarehouseConfig
from olx_spark.spark.tracking_logs import (
    TrackingLogJob,
    TrackingSetupError,
    decide,
    ingest_tracking_logs,
    ledger_state,
    pii_settings,
)


class SessionWanted(Exception):
    pass


def no_session(config: Config) -> object:
    raise SessionWanted


def test_ledger_state_retries_only_retryable_rejections():
    state = ledger_state(
        [
            ("a", 1, 10, "sha-a", "loaded", False),
            ("b", 2, 20, "sha-b", "partial", False),
            ("c", 3, 30, "sha-a", "duplicate", False),
            ("d", 4, 40, "", "rejected", True),
            ("e", 5, 50, "", "rejected", False),
        ]
    )
    assert state.unchanged == {("a", 1, 10), ("b", 2, 20), ("c", 3, 30), ("e", 5, 50)}
    assert state.known_shas == {"sha-a", "sha-b"}


def test_decide_marks_known_content_and_later_copies_in_the_run():
    files = [
        {"file_uri": "z", "file_sha256": "new", "status": "loaded"},
        {"file_uri": "a", "file_sha256": "new", "status": "partial"},
        {"file_uri": "m", "file_sha256": "old", "status": "loaded"},
        {"file_uri": "r", "file_sha256": "", "status": "rejected"},
    ]
    assert decide(files, frozenset({"old"})) == {"z", "m"}


def _config(tmp_path: Path, **tracking: object) -> Config:
    return Config(
        warehouse=WarehouseConfig(dir=str(tmp_path / "wh")),
        spark=SparkConfig(master="local[1]"),
        tracking=replace(TrackingConfig(), **tracking),
    )


def test_pii_settings_are_checked_before_anything_is_read(tmp_path, monkeypatch):
    monkeypatch.delenv("NO_SUCH_SALT", raising=False)
    with pytest.raises(TrackingSetupError, match="must be one of keep, hash, drop"):
        pii_settings(_config(tmp_path, pii="scramble"))
    with pytest.raises(TrackingSetupError, match="NO_SUCH_SALT"):
        ingest_tracking_logs(
            _config(tmp_path, pii="hash", pii_salt_env="NO_SUCH_SALT"),
            TrackingLogJob(str(tmp_path / "does-not-exist")),
            no_session,
        )
    with pytest.raises(TrackingSetupError, match="not a plain key"):
        pii_settings(_config(tmp_path, pii="drop", pii_json_keys=("a|b",)))
    monkeypatch.setenv("A_SALT", "s3cret")
    assert (
        pii_settings(_config(tmp_path, pii="hash", pii_salt_env="A_SALT")).salt.reveal() == "s3cret"
    )
    assert "s3cret" not in repr(pii_settings(_config(tmp_path, pii="hash", pii_salt_env="A_SALT")))


def test_a_first_run_needs_spark(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "tracking.log").write_text("{}\n")
    with pytest.raises(SessionWanted):
        ingest_tracking_logs(_config(tmp_path), TrackingLogJob(str(tmp_path / "src")), no_session)


def test_cli_reports_a_missing_source_and_a_bad_setting_without_spark(tmp_path, capsys):
    assert (
        main(["ingest", "tracking-logs", str(tmp_path / "nope"), "--warehouse", str(tmp_path)]) == 2
    )
    assert "does not exist" in capsys.readouterr().err
    conf = tmp_path / "c.toml"
    conf.write_text('[tracking]\npii = "hash"\npii_salt_env = "NO_SUCH_SALT_EITHER"\n')
    assert main(["ingest", "tracking-logs", str(tmp_path), "--config", str(conf)]) == 2
    assert "NO_SUCH_SALT_EITHER" in capsys.readouterr().err
