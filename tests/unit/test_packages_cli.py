"""`olx-spark ingest data-packages`: arguments, and a missing keyring or passphrase reported
before any Spark session starts."""

from __future__ import annotations

from olx_spark.cli import build_parser, main


def test_arguments():
    args = build_parser().parse_args(
        ["ingest", "data-packages", "s3://b/p/", "--gnupg-home", "/k", "--passphrase-env", "V"]
    )
    assert (args.kind, args.source, args.gnupg_home, args.passphrase_env) == (
        "data-packages",
        "s3://b/p/",
        "/k",
        "V",
    )


def test_missing_keyring_or_passphrase_stops_before_spark(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    code = main(["ingest", "data-packages", str(tmp_path), "--gnupg-home", str(tmp_path / "no")])
    assert code == 2
    assert "does not exist" in capsys.readouterr().err
    code = main(["ingest", "data-packages", str(tmp_path), "--passphrase-env", "NOT_SET_ANYWHERE"])
    assert code == 2
    assert "NOT_SET_ANYWHERE" in capsys.readouterr().err
