"""Days without a tracking log, per stream (olx_spark.tracking.gaps), and how a summary says so."""

from __future__ import annotations

from olx_spark.summary import IngestSummary
from olx_spark.tracking.gaps import missing_days, stream_of


def test_gaps_per_stream_as_days_and_ranges() -> None:
    uris = [
        "s3://b/logs/MITx-prod-events-2024-01-01.log.gz.gpg",
        "s3://b/logs/MITx-prod-events-2024-01-03.log.gz.gpg",  # 01-02 missing
        "s3://b/logs/MITx-prod-events-2024-01-07.log.gz.gpg",  # 01-04..06 missing
        "s3://b/logs/MITx-edge-events-2024-01-01.log.gz.gpg",  # another stream, no gap
        "s3://b/logs/MITx-edge-events-2024-01-02.log.gz.gpg",
        "/var/log/tracking.log-20240228.gz",  # a leap day between them
        "/var/log/tracking.log-20240301.gz",
        "/var/log/tracking.log",  # no day: not in any stream
    ]
    assert missing_days(uris) == [
        "MITx-prod-events-*.log.gz.gpg: no log for 2024-01-02, 2024-01-04..2024-01-06 (4 days)",
        "tracking.log-*.gz: no log for 2024-02-29 (1 day)",
    ]
    assert missing_days([*uris[:2], "s3://b/logs/MITx-prod-events-2024-01-02.log.gz.gpg"]) == []
    assert stream_of("/var/log/tracking.log") is None


def test_many_gaps_are_counted_not_all_listed() -> None:
    uris = [f"x/Org-prod-events-2024-03-{d:02d}.log" for d in range(1, 31, 2)]  # every other day
    (line,) = missing_days(uris)
    assert line.endswith("and 4 more gaps (14 days)")
    assert line.count("2024-03-") == 10


def test_a_summary_lists_what_is_missing() -> None:
    summary = IngestSummary(job="ingest tracking-logs", source="s3://b/logs/", files_seen=2)
    summary.missing = ["MITx-prod-events-*.log.gz: no log for 2024-01-02 (1 day)"]
    text = summary.render()
    assert "  missing (1; loaded when they arrive):" in text
    assert "    MITx-prod-events-*.log.gz: no log for 2024-01-02 (1 day)" in text
    assert '"missing": [' in summary.to_json()


def test_two_folders_with_the_same_names_are_two_streams_told_apart() -> None:
    uris = [f"/logs/{host}/tracking.log-2024030{d}.gz" for host in ("a", "b") for d in (1, 3)]
    assert missing_days(uris) == [
        "/logs/a/tracking.log-*.gz: no log for 2024-03-02 (1 day)",
        "/logs/b/tracking.log-*.gz: no log for 2024-03-02 (1 day)",
    ]
